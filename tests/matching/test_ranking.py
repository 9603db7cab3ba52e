"""Candidate thresholds, scores and ranks, on made-up vectors (no face model involved)."""

from __future__ import annotations

import numpy as np
import pytest

from matching import ranking

PARAMS = ranking.RankingParameters(
    distance_base=0.09, distance_per_year=0.002, distance_max=0.14, top_k=3
)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def test_threshold_grows_with_the_age_gap_up_to_the_loosest():
    assert ranking.candidate_threshold(0, PARAMS) == pytest.approx(0.09)
    assert ranking.candidate_threshold(10, PARAMS) == pytest.approx(0.11)
    assert ranking.candidate_threshold(-10, PARAMS) == pytest.approx(0.11)
    assert ranking.candidate_threshold(100, PARAMS) == pytest.approx(0.14)


def test_unknown_age_gap_gets_the_loosest_threshold():
    assert ranking.candidate_threshold(None, PARAMS) == pytest.approx(0.14)


def test_score_is_one_for_identical_faces_and_zero_at_the_threshold():
    assert ranking.score(0.0, 5, PARAMS) == pytest.approx(1.0)
    assert ranking.score(0.1, 5, PARAMS) == pytest.approx(0.0)
    assert ranking.score(0.2, 5, PARAMS) < 0


def test_the_same_distance_scores_higher_across_a_larger_age_gap():
    assert ranking.score(0.09, 25, PARAMS) > ranking.score(0.09, 0, PARAMS)


def test_age_gap_needs_both_ages():
    assert ranking.age_gap(3, 31.5) == pytest.approx(28.5)
    assert ranking.age_gap(None, 31) is None
    assert ranking.age_gap(3, None) is None


def test_closest_pair_combines_every_photo_of_both_people():
    case_faces = {
        1: (unit(1, 0, 0), 2.0),
        2: (unit(0, 1, 0), 4.0),
        3: (unit(0, 0, 1), 6.0),
    }
    seeker_faces = {10: (unit(1, 1, 0), 30.0), 11: (unit(0.1, 1, 0.05), 35.0)}
    pair = ranking.closest_pair(case_faces, seeker_faces)
    assert (pair.face_a, pair.face_b) == (2, 11)
    expected = 1 - float(unit(0, 1, 0) @ unit(0.1, 1, 0.05))
    assert pair.distance == pytest.approx(expected)
    assert pair.age_gap_years == pytest.approx(31.0)


def test_closest_pair_of_nobody_is_none():
    assert ranking.closest_pair({}, {1: (unit(1, 0), None)}) is None


def test_closest_pair_breaks_ties_by_face_id():
    same = unit(1, 2, 3)
    pair = ranking.closest_pair({5: (same, None), 4: (same, None)}, {9: (same, None)})
    assert pair.face_a == 4


def test_rank_counts_only_strictly_closer_people():
    assert ranking.rank_of(0.05, []) == 1
    assert ranking.rank_of(0.05, [0.01, 0.05, 0.2]) == 2


@pytest.mark.parametrize(
    ("distance", "rank_a", "rank_b", "expected"),
    [
        (0.05, 1, None, True),      # close and first for the child
        (0.05, 4, None, False),     # close but not in the child's top 3, other side unknown
        (0.05, 4, 2, True),         # ... yet in the adult's top 3
        (0.05, 4, 4, False),        # in nobody's top 3
        (0.13, 1, 1, False),        # first for both, but too far for a 5-year gap
    ],
)
def test_candidate_needs_the_distance_and_a_rank(distance, rank_a, rank_b, expected):
    pair = ranking.PairDistance(distance=distance, face_a=1, face_b=2, age_gap_years=5)
    assert ranking.is_candidate(
        pair=pair, rank_for_a=rank_a, rank_for_b=rank_b, params=PARAMS
    ) is expected


def test_parameters_come_from_settings(settings):
    settings.MATCH_DISTANCE_BASE = 0.08
    settings.MATCH_DISTANCE_PER_YEAR = 0.001
    settings.MATCH_DISTANCE_MAX = 0.12
    settings.MATCH_TOP_K = 7
    params = ranking.RankingParameters.from_settings()
    assert params == ranking.RankingParameters(0.08, 0.001, 0.12, 7)
