"""Where the true person ranks among every adult person, and the wrong people within reach.

The rules are written one pair of people at a time (``true_ranks`` with a key,
``wrong_people_within_threshold``); the evaluation computes the same numbers for every query
× person at once with matrices.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from matching import faces, ranking

FaceSet = dict[int, tuple[np.ndarray, float | None]]


PairKey = Callable[[FaceSet, FaceSet], float]


def by_distance(mine: FaceSet, theirs: FaceSet) -> float:
    """What the workers rank by today: the closest photo pair's distance."""
    pair = ranking.closest_pair(mine, theirs)
    return pair.distance if pair else float("inf")


def by_closest_pair_score(params: ranking.RankingParameters) -> PairKey:
    """The workers' age-gap-aware score of the closest pair (higher first, so negated)."""

    def key(mine: FaceSet, theirs: FaceSet) -> float:
        pair = ranking.closest_pair(mine, theirs)
        if pair is None:
            return float("inf")
        return -ranking.score(pair.distance, pair.age_gap_years, params)

    return key


def by_best_pair_score(params: ranking.RankingParameters) -> PairKey:
    """The best age-gap-aware score over every photo pair, not only the closest one."""

    def key(mine: FaceSet, theirs: FaceSet) -> float:
        best = float("inf")
        for embedding_a, age_a in mine.values():
            for embedding_b, age_b in theirs.values():
                distance = faces.cosine_distance(embedding_a, embedding_b)
                gap = ranking.age_gap(age_a, age_b)
                best = min(best, -ranking.score(distance, gap, params))
        return best

    return key


def true_ranks(
    queries: Iterable[tuple[str, FaceSet]], gallery: dict[str, FaceSet], key: PairKey
) -> list[int]:
    """The rank of the true person among all gallery people, for each query."""
    ranks = []
    for identity, mine in queries:
        if identity not in gallery or not mine:
            continue
        values = {other: key(mine, theirs) for other, theirs in gallery.items()}
        true_value = values.pop(identity)
        ranks.append(ranking.rank_of(true_value, values.values()))
    return ranks


def wrong_people_within_threshold(
    queries: Iterable[tuple[str, FaceSet]],
    gallery: dict[str, FaceSet],
    params: ranking.RankingParameters,
) -> list[int]:
    """For each query, how many wrong people are within the loose distance for their age gap.

    The workers' rule (closest photo pair, ``ranking.candidate_threshold``) before
    the top-few cut: what a method costs volunteers in false candidates.
    """
    counts = []
    for identity, mine in queries:
        if identity not in gallery or not mine:
            continue
        count = 0
        for other, theirs in gallery.items():
            pair = ranking.closest_pair(mine, theirs)
            if other != identity and pair is not None and pair.distance <= (
                ranking.candidate_threshold(pair.age_gap_years, params)
            ):
                count += 1
        counts.append(count)
    return counts


# --- The same rules for every query × person at once (numpy) ------------------------------
# ``true_ranks`` with the keys above and ``wrong_people_within_threshold`` say what is
# measured, one pair of people at a time; the evaluation computes the same numbers with
# matrices (tests/matching/crossage/test_ranks.py checks they agree to the last digit).


class _Stack:
    """Face sets stacked for matrix work: each set's faces in a row block, ids ascending."""

    def __init__(self, sets: list[tuple[str, FaceSet]], ages: AgeCodes) -> None:
        sets = [(identity, face_set) for identity, face_set in sets if face_set]
        self.identities = [identity for identity, _ in sets]
        rows = [face_set[i] for _, face_set in sets for i in sorted(face_set)]
        self.sizes = np.array([len(face_set) for _, face_set in sets], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.intp)
        self.raw = np.stack([np.asarray(e, dtype=np.float64) for e, _ in rows]) if rows else (
            np.zeros((0, 0))
        )
        # As ranking.closest_pair normalises (per row), and as faces.cosine_distance
        # takes norms (per vector).
        self.unit = self.raw / np.linalg.norm(self.raw, axis=1, keepdims=True) if rows else (
            self.raw
        )
        self.norms = np.array([np.linalg.norm(vector) for vector in self.raw])
        self.age_codes = np.array([ages.code(age) for _, age in rows], dtype=np.intp)


class AgeCodes:
    """Ages as small integers, with the age-gap thresholds of every pair of distinct ages."""

    def __init__(self, params: ranking.RankingParameters) -> None:
        self.params = params
        self.ages: list[float | None] = []
        self.index: dict[float | None, int] = {}

    def code(self, age: float | None) -> int:
        if age not in self.index:
            self.index[age] = len(self.ages)
            self.ages.append(age)
        return self.index[age]

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Age gap (NaN: unknown) and loose distance of each pair of codes (ranking's rules)."""
        count = len(self.ages)
        gaps = np.full((count, count), np.nan)
        thresholds = np.empty((count, count))
        for i, age_a in enumerate(self.ages):
            for j, age_b in enumerate(self.ages):
                gap = ranking.age_gap(age_a, age_b)
                gaps[i, j] = np.nan if gap is None else gap
                thresholds[i, j] = ranking.candidate_threshold(gap, self.params)
        return gaps, thresholds


def _first_in_groups(values: np.ndarray, best: np.ndarray, starts: np.ndarray,
                     sizes: np.ndarray, axis: int) -> np.ndarray:
    """Per group along ``axis``: the position of the first value equal to the group's best."""
    positions = np.arange(values.shape[axis])
    expanded = np.repeat(best, sizes, axis=axis)
    shape = (-1, 1) if axis == 0 else (1, -1)
    marked = np.where(values == expanded, positions.reshape(shape), values.shape[axis])
    return np.minimum.reduceat(marked, starts, axis=axis)


@dataclass
class _PeopleScores:
    """Every query × gallery person: the closest pair's distance and loose distance, and the
    best age-gap-aware score over every pair (negated, lower first), as the keys above."""

    distance: np.ndarray
    threshold: np.ndarray
    best_pair: np.ndarray


def _people_scores(queries: _Stack, gallery: _Stack, ages: AgeCodes) -> _PeopleScores:
    _gaps, thresholds = ages.tables()
    # ranking.closest_pair: the smallest distance of a block, the first in row-major order
    # (lowest face ids) when several are equal.
    distances = 1.0 - queries.unit @ gallery.unit.T
    by_person = np.minimum.reduceat(distances, gallery.starts, axis=1)
    column = _first_in_groups(distances, by_person, gallery.starts, gallery.sizes, axis=1)
    closest = np.minimum.reduceat(by_person, queries.starts, axis=0)
    row = _first_in_groups(by_person, closest, queries.starts, queries.sizes, axis=0)
    person = np.arange(len(gallery.sizes))[None, :]
    column = column[row, person]
    pair_threshold = thresholds[queries.age_codes[row], gallery.age_codes[column]]
    # by_best_pair_score: faces.cosine_distance of every pair, scored by its age gap.
    cosine = 1.0 - (queries.raw @ gallery.raw.T) / (queries.norms[:, None] * gallery.norms[None, :])
    pair_thresholds = thresholds[queries.age_codes[:, None], gallery.age_codes[None, :]]
    negated = -(1.0 - cosine / pair_thresholds)
    best_pair = np.minimum.reduceat(
        np.minimum.reduceat(negated, gallery.starts, axis=1), queries.starts, axis=0
    )
    return _PeopleScores(
        distance=np.maximum(0.0, closest), threshold=pair_threshold, best_pair=best_pair,
    )


def ranks_and_wrong(
    queries: list[tuple[str, FaceSet]], gallery: dict[str, FaceSet],
    params: ranking.RankingParameters, ages: AgeCodes,
) -> dict[str, tuple[list[int], list[int]]]:
    """For the keys by_distance, by_closest_pair_score and by_best_pair_score: the true
    person's rank per query (``true_ranks``), and the wrong people within the loose
    distance per query (``wrong_people_within_threshold``, the same for every key)."""
    queries = [(identity, mine) for identity, mine in queries if identity in gallery and mine]
    if not queries:
        return {key: ([], []) for key in ("distance", "closest_pair_score", "best_pair_score")}
    people = _Stack(list(gallery.items()), ages)
    asked = _Stack(queries, ages)
    scores = _people_scores(asked, people, ages)
    true_column = np.array([people.identities.index(identity) for identity in asked.identities])
    rows = np.arange(len(asked.identities))
    others = np.ones(scores.distance.shape, dtype=bool)
    others[rows, true_column] = False
    within = (scores.distance <= scores.threshold) & others
    wrong = within.sum(axis=1).tolist()
    result = {}
    keys = {
        "distance": scores.distance,
        "closest_pair_score": -(1.0 - scores.distance / scores.threshold),
        "best_pair_score": scores.best_pair,
    }
    for name, values in keys.items():
        true_values = values[rows, true_column]
        closer = (values < true_values[:, None]) & others
        result[name] = ((1 + closer.sum(axis=1)).tolist(), wrong)
    return result


def summarise(ranks: list[int]) -> dict[str, float | int | None]:
    if not ranks:
        return {"queries": 0, "rank1": None, "rank10": None, "rank50": None, "median_rank": None}
    count = len(ranks)
    return {
        "queries": count,
        "rank1": round(sum(r <= 1 for r in ranks) / count, 4),
        "rank10": round(sum(r <= 10 for r in ranks) / count, 4),
        "rank50": round(sum(r <= 50 for r in ranks) / count, 4),
        "median_rank": float(statistics.median(ranks)),
    }
