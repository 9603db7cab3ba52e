"""Ranking the true person: the rules on made-up vectors, and the evaluation's matrices giving
the same table, to the last digit, as the rules applied one pair of people at a time (real
photos of ../shared/faces through the workers' code, and made-up vectors with exact ties).
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import faces
from matching.crossage.embedding import Embedded
from matching.crossage.evaluation import evaluate_embedded
from matching.crossage.labels import YOUNG, LabelledPhoto
from matching.crossage.ranks import by_best_pair_score, by_distance, summarise, true_ranks
from matching.ranking import RankingParameters
from tests.matching.crossage.reference import PARAMETER_SETS, made_up, reference_table, unit

PARAMS = PARAMETER_SETS[0]


# --- The rules, on made-up vectors ----------------------------------------------------------


def test_the_true_person_is_ranked_among_everyone_with_ties_sharing_the_better_rank():
    gallery = {
        "ann": {1: (unit(1, 0, 0), 30.0)},
        "bob": {2: (unit(0, 1, 0), 30.0)},
        "cat": {3: (unit(1, 0.1, 0), 30.0), 4: (unit(0, 0, 1), 30.0)},
    }
    queries = [
        ("ann", {10: (unit(1, 0.01, 0), 3.0)}),  # closest to ann
        ("bob", {11: (unit(1, 0.12, 0), 3.0)}),  # cat and ann are closer than bob
        ("cat", {12: (unit(0, 0, 1), 3.0)}),  # cat's second photo is exact
        ("dan", {13: (unit(0, 1, 1), 3.0)}),  # not in the gallery: not counted
    ]
    ranks = true_ranks(queries, gallery, by_distance)
    assert ranks == [1, 3, 1]
    assert summarise(ranks) == {
        "queries": 3, "rank1": round(2 / 3, 4), "rank10": 1.0, "rank50": 1.0, "median_rank": 1.0,
    }
    assert summarise([])["rank1"] is None


def test_the_best_pair_score_can_prefer_a_photo_closer_in_age_to_the_closest_pair():
    """A pair 25 years apart at 0.10 is a better call than a same-age pair at 0.085."""
    child = {1: (unit(1, 0, 0), 5.0)}
    near_in_age = {2: (unit(1, np.tan(np.arccos(1 - 0.085)), 0), 6.0)}
    grown_up = {
        3: (unit(1, np.tan(np.arccos(1 - 0.10)), 0), 30.0),
        4: (unit(0, 1, 0), 6.0),
    }
    gallery = {"near": near_in_age, "grown": grown_up}
    ranked_by_distance = true_ranks([("grown", child)], gallery, by_distance)
    ranked_by_score = true_ranks(
        [("grown", child)], gallery, by_best_pair_score(PARAMS)
    )
    assert ranked_by_distance == [2] and ranked_by_score == [1]


# --- The matrices against the rules pair by pair -------------------------------------------


def assert_same_table(embedded: Embedded, params: RankingParameters) -> dict:
    report = evaluate_embedded(embedded, params)
    table = [{k: v for k, v in row.items() if k != "description"} for row in report["table"]]
    assert table == reference_table(embedded, params)
    return report


@pytest.mark.parametrize("params", PARAMETER_SETS)
@pytest.mark.parametrize("which", ["without ages", "with ages"])
def test_the_ranks_on_real_photos_are_the_same_as_pair_by_pair(real_embeddings, which, params):
    embedded = real_embeddings[which]
    assert sum(e is not None for e in embedded.embeddings) >= 60
    report = assert_same_table(embedded, params)
    rows = {row["method"]: row for row in report["table"]}
    assert rows["plain"]["queries"] == len({p.identity for p in embedded.photos})


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_ties_and_unknown_ages_are_ranked_as_pair_by_pair(seed, params):
    embedded = made_up(seed)
    report = assert_same_table(embedded, params)
    # Ties do happen here (the ranks' rule "ties share the better rank" is exercised).
    distances = [faces.cosine_distance(a, b) for a in embedded.embeddings[:30] if a is not None
                 for b in embedded.embeddings[:30] if b is not None]
    assert len(distances) > len(set(distances))
    assert report["table"][0]["queries"] > 20


def test_no_young_or_no_adult_photo_gives_an_empty_table():
    photos = [LabelledPhoto("a.jpg", "p1", YOUNG, 3.0), LabelledPhoto("b.jpg", "p2", YOUNG, 4.0)]
    embedded = Embedded(photos=photos, embeddings=[np.ones(4), np.arange(4.0) + 1])
    assert_same_table(embedded, PARAMS)
