"""Hubness reduction's arithmetic (``matching.csls``), by hand on small made-up numbers."""

from __future__ import annotations

import numpy as np
import pytest

from matching import csls


def test_r_is_the_mean_similarity_of_the_k_nearest():
    distances = [0.9, 0.1, 0.5, 0.3, 0.7]
    # The three nearest: 0.1, 0.3, 0.5 → similarities 0.9, 0.7, 0.5.
    assert csls.r_from_distances(distances, k=3) == pytest.approx(0.7)
    # Fewer than k: over all of them; none: 0 (no hub).
    assert csls.r_from_distances([0.2, 0.4], k=10) == pytest.approx(0.7)
    assert csls.r_from_distances([], k=10) == 0.0


def test_the_score_and_its_distance_give_one_order():
    assert csls.csls_score(0.8, 0.5, 0.3) == pytest.approx(0.8)
    # distance 0.2 (similarity 0.8): 0.2 + (0.5 + 0.3) / 2 = 0.6 = 1 − 0.8 / 2
    assert csls.csls_distance(0.2, 0.5, 0.3) == pytest.approx(0.6)
    assert csls.csls_distance(0.2, 0.5, 0.3) == pytest.approx(
        1 - csls.csls_score(0.8, 0.5, 0.3) / 2)


def test_a_hub_falls_behind_a_face_a_little_further_away():
    # Face 1 is nearer but near everyone (r 0.6); face 2 a little further, near nobody.
    neighbours = [(1, 0.30), (2, 0.35), (3, 0.60)]
    ranked = csls.rerank(neighbours, 0.4, {1: 0.6, 2: 0.2, 3: 0.1})
    assert [face for face, _d in ranked] == [2, 1, 3]
    assert ranked[0][1] == pytest.approx(0.35 + (0.4 + 0.2) / 2)
    assert ranked[1][1] == pytest.approx(0.30 + (0.4 + 0.6) / 2)


def test_a_face_without_r_is_neither_favoured_nor_held_back():
    filled = csls.r_filled({1: 0.6, 2: 0.2}, [1, 2, 3])
    assert filled == {1: 0.6, 2: 0.2, 3: pytest.approx(0.4)}
    assert csls.r_filled({}, [5, 6]) == {5: 0.0, 6: 0.0}
    # Without any r the order is the distances'.
    assert csls.rerank([(2, 0.3), (1, 0.3), (3, 0.1)], 0.5, {}) == [
        (3, pytest.approx(0.35)), (1, pytest.approx(0.55)), (2, pytest.approx(0.55))]


def test_the_matrix_takes_each_sides_r_from_the_other_side():
    similarities = np.array([
        [0.9, 0.8, 0.1],
        [0.2, 0.7, 0.3],
    ])
    # k = 2: rows (queries) over their two largest, columns (gallery) over their two.
    r_query = csls.r_of_rows(similarities, 2)
    r_gallery = csls.r_of_rows(similarities.T, 2)
    assert r_query == pytest.approx([0.85, 0.5])
    assert r_gallery == pytest.approx([0.55, 0.75, 0.2])
    scores = csls.csls_matrix(similarities, 2)
    assert scores[0, 1] == pytest.approx(2 * 0.8 - 0.85 - 0.75)
    assert scores[1, 2] == pytest.approx(2 * 0.3 - 0.5 - 0.2)
    # Query 1's best by cosine is gallery 1 (0.7); by CSLS too (0.15 vs 0.1 and −0.05)...
    assert int(np.argmax(scores[1])) == 1
    # ...while query 0 prefers gallery 0, the one nearer no other query.
    assert int(np.argmax(scores[0])) == 0
    assert csls.r_of_rows(np.zeros((2, 0)), 10) == pytest.approx([0.0, 0.0])


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def test_a_persons_closest_pair_under_csls_weighs_each_photos_r():
    # Two photos of mine, one of theirs: photo 1 is nearer (cos 0.8) but a hub (r 0.7),
    # photo 2 further (cos 0.6) and near nobody (r 0.0).
    mine = {1: (_unit(1.0, 0.0), 5.0), 2: (_unit(0.0, 1.0), 6.0)}
    theirs = {10: (np.array([0.8, 0.6]), 30.0)}
    pair = csls.closest_pair_csls(mine, theirs, {1: 0.7, 2: 0.0, 10: 0.2})
    # 1: 0.2 + (0.7 + 0.2) / 2 = 0.65; 2: 0.4 + (0.0 + 0.2) / 2 = 0.5.
    assert (pair.face_a, pair.face_b) == (2, 10)
    assert pair.csls == pytest.approx(0.5)
    assert pair.distance == pytest.approx(0.4)
    assert csls.closest_pair_csls(mine, {}, {}) is None
