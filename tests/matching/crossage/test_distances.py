"""Pair distances by age gap, with matrices giving the same numbers to the last digit as pair
by pair; the threshold table of ``calibrate_threshold``, the same as threshold by threshold.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from matching import faces
from matching.crossage.distances import pair_distances
from matching.crossage.embedding import Embedded
from matching.crossage.labels import YOUNG, LabelledPhoto
from matching.management.commands import calibrate_threshold
from tests.matching.crossage.reference import (
    PARAMETER_SETS,
    made_up,
    reference_pair_distances,
    unit,
)

PARAMS = PARAMETER_SETS[0]


def test_pair_distances_are_reported_by_age_gap():
    photos = [
        LabelledPhoto("y1.jpg", "p1", "young", 4.0),
        LabelledPhoto("a1.jpg", "p1", "adult", 30.0),
        LabelledPhoto("y2.jpg", "p2", "young", 10.0),
        LabelledPhoto("a2.jpg", "p2", "adult", 16.0),
    ]
    embedded = Embedded(
        photos=photos,
        embeddings=[unit(1, 0, 0), unit(1, 0.3, 0), unit(0, 1, 0), unit(0, 1, 0.2)],
    )
    report = pair_distances(embedded, PARAMS)
    assert report["true_pairs"]["pairs"] == 2 and report["false_pairs"]["pairs"] == 2
    gaps = {bucket["gap_years"]: bucket for bucket in report["by_age_gap"]}
    assert set(gaps) == {"5-10", "20+"}
    assert gaps["20+"]["true_pairs"]["median"] == pytest.approx(
        faces.cosine_distance(unit(1, 0, 0), unit(1, 0.3, 0)), abs=1e-4
    )
    ranking_row = report["accepted"][-1]
    assert ranking_row["threshold"] == "ranking (by age gap)"


# --- The matrices against pair by pair -----------------------------------------------------


@pytest.mark.parametrize("params", PARAMETER_SETS)
@pytest.mark.parametrize("which", ["without ages", "with ages"])
def test_the_distances_of_real_photos_are_the_same_as_pair_by_pair(real_embeddings, which,
                                                                     params):
    embedded = real_embeddings[which]
    report = pair_distances(embedded, params)
    assert report == reference_pair_distances(embedded, params)
    if which == "with ages":
        assert report["by_age_gap"]  # the gap buckets are exercised


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_the_distances_of_made_up_vectors_are_the_same_as_pair_by_pair(seed, params):
    embedded = made_up(seed)
    assert pair_distances(embedded, params) == reference_pair_distances(embedded, params)


def test_no_young_or_no_adult_photo_gives_no_pairs():
    photos = [LabelledPhoto("a.jpg", "p1", YOUNG, 3.0), LabelledPhoto("b.jpg", "p2", YOUNG, 4.0)]
    embedded = Embedded(photos=photos, embeddings=[np.ones(4), np.arange(4.0) + 1])
    report = pair_distances(embedded, PARAMS)
    assert report == reference_pair_distances(embedded, PARAMS)
    assert report["true_pairs"]["pairs"] == report["false_pairs"]["pairs"] == 0


# --- calibrate_threshold ------------------------------------------------------------------


def reference_calibration(faces_dir: Path, pairs: Path, start: float, stop: float,
                          step: float) -> str:
    """The command's output as it was computed before: threshold by threshold."""
    with open(pairs, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = sorted({row["file_a"] for row in rows} | {row["file_b"] for row in rows})
    engine = faces.get_engine()
    vectors = {}
    from families.uploads import normalise_photo

    for name in names:
        stored = normalise_photo((faces_dir / name).read_bytes()).content
        _detected, found = faces.detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
        vectors[name] = None if found is None else found.sface
    distances = np.array([
        np.nan if vectors[r["file_a"]] is None or vectors[r["file_b"]] is None
        else faces.cosine_distance(vectors[r["file_a"]], vectors[r["file_b"]]) for r in rows
    ])
    same = np.array([r["same_person"].strip().lower() in ("yes", "true", "1") for r in rows])
    lines = []
    best = (-1.0, 0.0)
    for threshold in np.arange(start, stop + 1e-9, step):
        accuracy, false_match, false_non_match = calibrate_threshold.rates(
            distances, same, threshold
        )
        if accuracy > best[0]:
            best = (accuracy, threshold)
        lines.append(
            f"{threshold:9.3f} {accuracy:9.4f} {false_match:12.4f} {false_non_match:16.4f}"
        )
    lines.append(f"best accuracy {best[0]:.4f} at threshold {best[1]:.3f}")
    return "\n".join(lines)


def test_calibrate_threshold_prints_what_it_printed_threshold_by_threshold(
    faces_dir, tmp_path, capsys
):
    """All 520 labelled pairs of ../shared/faces, the default grid."""
    pairs = faces_dir / "pairs.csv"
    expected = reference_calibration(faces_dir, pairs, 0.03, 0.16, 0.005)
    for _run in range(2):  # computed, then read from the cache
        call_command("calibrate_threshold", faces=str(faces_dir), pairs=str(pairs),
                     cache_dir=tmp_path / "cache", no_pipelines=True)
        printed = capsys.readouterr().out
        table = printed[printed.index("\n", printed.index("false non-match")) + 1:].rstrip("\n")
        assert table == expected
