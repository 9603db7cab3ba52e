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


# --- fusion: the mean of both models' per-query z-scores ------------------------------


def test_pool_stats_are_each_models_mean_and_spread():
    stats = ranking.pool_stats([0.2, 0.4, 0.6], [0.1, 0.3])
    assert (stats.sface_mean, stats.dlib_mean) == (pytest.approx(0.4), pytest.approx(0.2))
    assert stats.sface_sd == pytest.approx(np.std([0.2, 0.4, 0.6]))
    assert stats.dlib_sd == pytest.approx(0.1)
    assert ranking.pool_stats([0.5], []).dlib_mean is None


def test_fused_distance_averages_both_z_scores_with_equal_weights():
    stats = ranking.PoolStats(sface_mean=0.6, sface_sd=0.1, dlib_mean=0.3, dlib_sd=0.05)
    # SFace one spread closer than the pool's average, Dlib three: (-1 + -3) / 2.
    assert ranking.fused_distance(0.5, 0.15, stats) == pytest.approx(-2.0)
    assert ranking.fused_score(ranking.fused_distance(0.5, 0.15, stats)) == pytest.approx(2.0)


def test_without_a_dlib_embedding_fusion_falls_back_to_sface_alone():
    stats = ranking.PoolStats(sface_mean=0.6, sface_sd=0.1, dlib_mean=0.3, dlib_sd=0.05)
    assert ranking.fused_distance(0.5, None, stats) == pytest.approx(-1.0)
    no_dlib = ranking.PoolStats(sface_mean=0.6, sface_sd=0.1, dlib_mean=None, dlib_sd=None)
    assert ranking.fused_distance(0.5, 0.15, no_dlib) == pytest.approx(-1.0)


def test_a_pool_without_spread_says_nothing():
    stats = ranking.pool_stats([0.4], [0.2])
    assert ranking.fused_distance(0.4, 0.2, stats) == 0.0


def test_fusion_lets_the_second_model_overturn_a_close_sface_call():
    """SFace puts face 11 a little closer than face 12; Dlib puts 12 far closer than 11:
    the fused ranking chooses 12, and records its SFace distance."""
    query = {1: (unit(1, 0, 0), 3.0)}
    near_in_sface = {11: (unit(1, 0.50, 0), 30.0)}
    near_in_dlib = {12: (unit(1, 0.55, 0), 31.0)}
    dlib = {1: unit(0, 1, 0), 11: unit(1, 1, 0), 12: unit(0.1, 1, 0)}
    sface = [ranking.cosine_distance(query[1][0], v[0])
             for v in (*near_in_sface.values(), *near_in_dlib.values())]
    dlib_d = [ranking.cosine_distance(dlib[1], dlib[i]) for i in (11, 12)]
    # The pool also holds a stranger, far in both models.
    stats = {1: ranking.pool_stats([*sface, 0.9], [*dlib_d, 0.9])}
    a = ranking.closest_pair_fused(query, near_in_sface, dlib, stats)
    b = ranking.closest_pair_fused(query, near_in_dlib, dlib, stats)
    assert sface[0] < sface[1]
    assert b.fused < a.fused
    assert b.distance == pytest.approx(sface[1])
    assert (b.face_a, b.face_b, b.age_gap_years) == (1, 12, 28.0)
    # The second model left out, SFace's order stands.
    plain = ranking.closest_pair_fused(query, near_in_sface, {}, stats)
    other = ranking.closest_pair_fused(query, near_in_dlib, {}, stats)
    assert plain.fused < other.fused


def test_the_fused_pair_is_the_lowest_over_every_photo_pair():
    mine = {1: (unit(1, 0, 0), None), 2: (unit(0, 1, 0), None)}
    theirs = {7: (unit(1, 0.1, 0), None), 8: (unit(0, 0, 1), None)}
    stats = {1: ranking.pool_stats([0.1, 0.9], []), 2: ranking.pool_stats([0.1, 0.9], [])}
    pair = ranking.closest_pair_fused(mine, theirs, {}, stats)
    assert (pair.face_a, pair.face_b) == (1, 7)


def test_fused_distances_of_many_faces_agree_with_one_at_a_time():
    stats = ranking.PoolStats(sface_mean=0.6, sface_sd=0.1, dlib_mean=0.3, dlib_sd=0.05)
    sface = np.array([0.5, 0.7, 0.6])
    dlib = np.array([0.15, np.nan, 0.4])
    many = ranking.fused_distances(sface, dlib, stats)
    one = [ranking.fused_distance(s, None if np.isnan(d) else d, stats)
           for s, d in zip(sface, dlib, strict=True)]
    assert many == pytest.approx(one)
