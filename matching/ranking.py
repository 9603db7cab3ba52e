"""Pure candidate logic: thresholds, scores and ranks from distances and age gaps.

Across an age gap a yes/no threshold misses most true pairs (see docs/MATCHING.md),
so a pair becomes a candidate by *rank*: it must be among the case's closest few
seekers or the seeker's closest few cases, and within a loose distance that grows
with the age gap between the two photos. Everything here is a function of numbers
only, so it is unit-tested with made-up vectors; the parameters live in settings
(``MATCH_*``) so calibration never touches code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from django.conf import settings


@dataclass(frozen=True)
class RankingParameters:
    """The calibrated numbers behind candidate selection (from settings by default)."""

    #: Loose distance for photos taken at the same age.
    distance_base: float
    #: How much the loose distance grows per year of age gap between the two photos.
    distance_per_year: float
    #: The loosest distance at any age gap, also used when the gap is unknown.
    distance_max: float
    #: A pair is a candidate if it is in either person's top ``top_k``.
    top_k: int

    @classmethod
    def from_settings(cls) -> RankingParameters:
        return cls(
            distance_base=settings.MATCH_DISTANCE_BASE,
            distance_per_year=settings.MATCH_DISTANCE_PER_YEAR,
            distance_max=settings.MATCH_DISTANCE_MAX,
            top_k=settings.MATCH_TOP_K,
        )


def candidate_threshold(age_gap_years: float | None, params: RankingParameters) -> float:
    """The loosest distance at which a pair photographed ``age_gap_years`` apart may be a candidate.

    An unknown gap gets the loosest distance: a missed match is a family not found.
    """
    if age_gap_years is None:
        return params.distance_max
    grown = params.distance_base + params.distance_per_year * abs(age_gap_years)
    return min(params.distance_max, grown)


def score(distance: float, age_gap_years: float | None, params: RankingParameters) -> float:
    """A ranking score in (-inf, 1]: 1 for identical faces, 0 at the pair's threshold.

    Dividing by the threshold makes pairs with different age gaps comparable:
    0.09 between a 3-year-old and a 30-year-old is a closer call than it looks.
    """
    return 1.0 - distance / candidate_threshold(age_gap_years, params)


def age_gap(age_a: float | None, age_b: float | None) -> float | None:
    """Years between the ages in two photos, or ``None`` when either is unknown."""
    if age_a is None or age_b is None:
        return None
    return round(abs(float(age_a) - float(age_b)), 1)


@dataclass(frozen=True)
class PairDistance:
    """The closest photo pair between two people, over all their faces."""

    distance: float
    face_a: int
    face_b: int
    age_gap_years: float | None


def closest_pair(
    faces_a: Mapping[int, tuple[np.ndarray, float | None]],
    faces_b: Mapping[int, tuple[np.ndarray, float | None]],
) -> PairDistance | None:
    """The best distance over every photo of both people (a case with 3 photos × a seeker with 2).

    ``faces_*`` map face id → (unit embedding, age in photo). Ties go to the
    lower face ids so the result never depends on query order.
    """
    if not faces_a or not faces_b:
        return None
    ids_a, ids_b = sorted(faces_a), sorted(faces_b)
    matrix_a = np.stack([np.asarray(faces_a[i][0], dtype=np.float64) for i in ids_a])
    matrix_b = np.stack([np.asarray(faces_b[i][0], dtype=np.float64) for i in ids_b])
    matrix_a /= np.linalg.norm(matrix_a, axis=1, keepdims=True)
    matrix_b /= np.linalg.norm(matrix_b, axis=1, keepdims=True)
    distances = 1.0 - matrix_a @ matrix_b.T
    row, column = np.unravel_index(int(np.argmin(distances)), distances.shape)
    face_a, face_b = ids_a[row], ids_b[column]
    return PairDistance(
        distance=max(0.0, float(distances[row, column])),
        face_a=face_a,
        face_b=face_b,
        age_gap_years=age_gap(faces_a[face_a][1], faces_b[face_b][1]),
    )


def rank_of(distance: float, other_distances: Iterable[float]) -> int:
    """1 + how many other people are strictly closer: ties share the better rank."""
    return 1 + sum(1 for other in other_distances if other < distance)


def is_candidate(
    *, pair: PairDistance, rank_for_a: int, rank_for_b: int | None, params: RankingParameters
) -> bool:
    """Within the loose distance for its age gap, and in the top few of either person."""
    if pair.distance > candidate_threshold(pair.age_gap_years, params):
        return False
    if rank_for_a <= params.top_k:
        return True
    return rank_for_b is not None and rank_for_b <= params.top_k
