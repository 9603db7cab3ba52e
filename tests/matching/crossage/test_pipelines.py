"""Centring for the pipelines' rows: each age group's embeddings minus the group's mean."""

from __future__ import annotations

import numpy as np
import pytest

from matching.crossage.labels import ADULT, YOUNG
from matching.crossage.pipelines import centred


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
