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

from matching.faces.base import cosine_distance as faces_cosine_distance


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
    def from_settings(cls, *, centred: bool = False) -> RankingParameters:
        """The plain distances' numbers, or (``centred``: the current centring centres an
        age group) the centred ones: centring spreads distances out (docs/MATCHING.md)."""
        if centred:
            return cls(
                distance_base=settings.MATCH_CENTRED_DISTANCE_BASE,
                distance_per_year=settings.MATCH_CENTRED_DISTANCE_PER_YEAR,
                distance_max=settings.MATCH_CENTRED_DISTANCE_MAX,
                top_k=settings.MATCH_TOP_K,
            )
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


# --- Fusion of the two models ---------------------------------------------------------
#
# With ``MATCH_FUSION`` on, a query face's ranking is the average of two z-scores: its
# SFace distance and its Dlib distance to each face, each measured against that query's
# own search pool (the top few hundred faces the SFace column returns), with equal
# weights. Z-scoring per query puts two models' distances, whose scales differ, on one
# scale; a face without a Dlib embedding (or a query without one) falls back to SFace alone.


@dataclass(frozen=True)
class PoolStats:
    """Mean and spread of one query's distances over its search pool, per model."""

    sface_mean: float
    sface_sd: float
    #: ``None`` when no face of the pool (or the query itself) has a Dlib embedding.
    dlib_mean: float | None
    dlib_sd: float | None


def pool_stats(sface: Iterable[float], dlib: Iterable[float]) -> PoolStats:
    """The statistics z-scores are taken against: one query's distances to its pool."""
    sface_values = np.asarray(list(sface), dtype=np.float64)
    dlib_values = np.asarray(list(dlib), dtype=np.float64)
    if sface_values.size == 0:
        sface_mean, sface_sd = 0.0, 0.0
    else:
        sface_mean, sface_sd = float(sface_values.mean()), float(sface_values.std())
    if dlib_values.size == 0:
        return PoolStats(sface_mean, sface_sd, None, None)
    return PoolStats(sface_mean, sface_sd, float(dlib_values.mean()), float(dlib_values.std()))


def _z(value: float, mean: float, sd: float) -> float:
    """How many spreads ``value`` lies from ``mean``; 0 when the pool has no spread
    (a pool of one face says nothing about what is near)."""
    return 0.0 if sd <= 1e-9 else (value - mean) / sd


def fused_distance(sface_distance: float, dlib_distance: float | None, stats: PoolStats) -> float:
    """The fused distance (lower is closer): the mean of both models' z-scores, or the SFace
    z-score alone when the Dlib distance or the pool's Dlib statistics are missing."""
    sface_z = _z(sface_distance, stats.sface_mean, stats.sface_sd)
    if dlib_distance is None or stats.dlib_mean is None or stats.dlib_sd is None:
        return sface_z
    return 0.5 * (sface_z + _z(dlib_distance, stats.dlib_mean, stats.dlib_sd))


def fused_score(fused: float) -> float:
    """The candidate's score under fusion: minus the fused distance, so higher is closer
    (in spreads of the query's pool: 2.0 means two spreads closer than its average face)."""
    return -fused


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``faces.cosine_distance``, at least 0 as the search's ``<=>`` is."""
    return max(0.0, faces_cosine_distance(a, b))


@dataclass(frozen=True)
class FusedPair:
    """The photo pair of two people closest under fusion, with its SFace distance."""

    fused: float
    distance: float
    face_a: int
    face_b: int
    age_gap_years: float | None


def closest_pair_fused(
    faces_a: Mapping[int, tuple[np.ndarray, float | None]],
    faces_b: Mapping[int, tuple[np.ndarray, float | None]],
    dlib: Mapping[int, np.ndarray],
    stats: Mapping[int, PoolStats],
) -> FusedPair | None:
    """The lowest fused distance over every photo pair of both people.

    ``stats`` holds each of ``faces_a``'s pool statistics (the z-scores are the query's);
    ``dlib`` maps face id → Dlib embedding for the faces that have one. Ties go to the
    lower face ids.
    """
    best: FusedPair | None = None
    for face_a in sorted(faces_a):
        if face_a not in stats:
            continue
        for face_b in sorted(faces_b):
            sface = cosine_distance(faces_a[face_a][0], faces_b[face_b][0])
            dlib_distance = (
                cosine_distance(dlib[face_a], dlib[face_b])
                if face_a in dlib and face_b in dlib else None
            )
            fused = fused_distance(sface, dlib_distance, stats[face_a])
            if best is None or fused < best.fused:
                best = FusedPair(
                    fused=fused, distance=sface, face_a=face_a, face_b=face_b,
                    age_gap_years=age_gap(faces_a[face_a][1], faces_b[face_b][1]),
                )
    return best


def fused_distances(sface: np.ndarray, dlib: np.ndarray, stats: PoolStats) -> np.ndarray:
    """``fused_distance`` of many faces at once (NaN in ``dlib``: no Dlib distance)."""
    sface = np.asarray(sface, dtype=np.float64)
    dlib = np.asarray(dlib, dtype=np.float64)
    sface_z = (
        np.zeros_like(sface) if stats.sface_sd <= 1e-9
        else (sface - stats.sface_mean) / stats.sface_sd
    )
    if stats.dlib_mean is None or stats.dlib_sd is None:
        return sface_z
    dlib_z = (
        np.zeros_like(dlib) if stats.dlib_sd <= 1e-9 else (dlib - stats.dlib_mean) / stats.dlib_sd
    )
    return np.where(np.isnan(dlib), sface_z, 0.5 * (sface_z + dlib_z))
