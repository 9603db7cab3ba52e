"""Centring for the pipelines' rows: each age group's embeddings minus the group's mean."""

from __future__ import annotations

import numpy as np
import pytest

from matching.crossage.labels import ADULT, YOUNG, LabelledPhoto
from matching.crossage.pipelines import centred, evaluate_pipelines, pipeline_ranks


def test_a_centred_embedding_is_raw_minus_its_groups_mean_normalised():
    raw = [np.array([3.0, 4.0]), np.array([0.0, 2.0]), None, np.array([1.0, 0.0])]
    groups = [YOUNG, YOUNG, YOUNG, ADULT]
    result = centred(raw, groups)
    young_mean = (np.array([0.6, 0.8]) + np.array([0.0, 1.0])) / 2
    expected = np.array([0.6, 0.8]) - young_mean
    assert result[0] == pytest.approx(expected / np.linalg.norm(expected))
    assert result[2] is None
    # A group of one: nothing in common to take out, the unit vector stays.
    assert result[3] == pytest.approx(np.array([1.0, 0.0]))


def test_csls_takes_a_hub_adult_off_the_top_as_computed_by_hand():
    """An adult photo (person h) near every young photo outranks each true person; CSLS
    (k = 2) weighs each photo's closeness to everyone and puts the true person first."""
    e = np.eye(5)
    rest = np.sqrt(1 - 0.6**2 - 0.5**2 - 0.1**2)
    vectors = {
        "hub.jpg": e[0], "a.jpg": e[1], "b.jpg": e[2],
        # Similarities: to the hub 0.6, to their own adult 0.5, to the other adult 0.1.
        "ya.jpg": 0.6 * e[0] + 0.5 * e[1] + 0.1 * e[2] + rest * e[3],
        "yb.jpg": 0.6 * e[0] + 0.1 * e[1] + 0.5 * e[2] + rest * e[4],
    }
    photos = [
        LabelledPhoto("ya.jpg", "a", "young", None),
        LabelledPhoto("yb.jpg", "b", "young", None),
        LabelledPhoto("hub.jpg", "h", "adult", None),
        LabelledPhoto("a.jpg", "a", "adult", None),
        LabelledPhoto("b.jpg", "b", "adult", None),
    ]
    models = {"sface": [vectors[photo.file] for photo in photos]}
    assert pipeline_ranks(photos, models, "sface") == [2, 2]
    # By hand, k = 2: r(ya) = r(yb) = (0.6 + 0.5) / 2 = 0.55; r(hub) = 0.6, r(a) = r(b) = 0.3.
    # ya: hub 2·0.6 − 0.55 − 0.6 = 0.05 against its own 2·0.5 − 0.55 − 0.3 = 0.15.
    assert pipeline_ranks(photos, models, "sface", csls_k=2) == [1, 1]
    rows = evaluate_pipelines(photos, {**models, "dlib_chip": models["sface"]})
    sface = {(row["centred"], row["csls"]): row for row in rows if row["pipeline"] == "sface"}
    assert set(sface) == {(False, False), (True, False), (True, True)}
