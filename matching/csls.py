"""Hubness reduction (CSLS, cross-domain similarity local scaling): pure functions.

Some faces (hubs) lie close to very many faces of the other side, whoever they are, and
crowd the top of every ranking. CSLS takes each face's ``r``, its mean cosine similarity
to its ``k`` nearest faces of the other group, and scores a pair

    csls = 2 · cos − r_query − r_face

so a hub's closeness counts for less (Conneau et al. 2018, "Word translation without
parallel data"). In distance terms (lower is closer) that is

    csls_distance = distance + (r_query + r_face) / 2        (= 1 − csls / 2)

For one query ``r_query`` is the same for every face, so only the faces' ``r`` reorder
its neighbours; it matters where queries are compared with each other (a person's
several photos, the other person's ranking). The portal takes ``r`` from each face's
match job's search (``matching.services.csls``); ``evaluate_crossage`` from the
evaluated folder's young × adult similarities (``csls_matrix``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from matching import ranking

#: A number, or an array of them (the matrix's rows and columns broadcast).
FloatOrArray = float | np.ndarray

#: Issue 23's measurement used the 10 nearest.
DEFAULT_K = 10


def r_from_distances(distances: Iterable[float], k: int = DEFAULT_K) -> float:
    """A face's ``r`` from its cosine distances to faces of the other group: the mean
    similarity (1 − distance) of the ``k`` nearest; over fewer when fewer exist, and 0
    (nothing near, no hub) when there is none."""
    values = np.sort(np.asarray(list(distances), dtype=np.float64))[:max(1, k)]
    if values.size == 0:
        return 0.0
    return float(np.mean(1.0 - values))


def kth_distance(distances: Iterable[float], k: int = DEFAULT_K) -> float | None:
    """The distance of the ``k``-th nearest (``None`` when there are fewer): a face of the
    other group nearer than it would change the ``r``."""
    values = np.sort(np.asarray(list(distances), dtype=np.float64))
    return float(values[k - 1]) if values.size >= max(1, k) else None


def r_changed_by(distance: float, kth: float | None) -> bool:
    """Whether a new face at ``distance`` changes an ``r`` whose ``k``-th nearest was at
    ``kth``: it does when it comes nearer, or when there were fewer than ``k``."""
    return kth is None or distance < kth


def csls_score(similarity: FloatOrArray, r_query: FloatOrArray, r_face: FloatOrArray
               ) -> FloatOrArray:
    """``2 · cos − r_query − r_face``: higher is closer (numbers, or arrays that broadcast)."""
    return 2.0 * similarity - r_query - r_face


def csls_distance(distance: float, r_query: float, r_face: float) -> float:
    """The CSLS score as a distance (lower is closer, the same order):
    ``distance + (r_query + r_face) / 2``."""
    return distance + 0.5 * (r_query + r_face)


def r_filled(r: Mapping[int, float], face_ids: Iterable[int]) -> dict[int, float]:
    """``r`` for every one of ``face_ids``: a face without one (new, or its ``r`` stale)
    gets the mean of the others' (neither favoured nor held back); 0 when none has one."""
    ids = list(face_ids)
    known = [r[face_id] for face_id in ids if face_id in r]
    neutral = float(np.mean(known)) if known else 0.0
    return {face_id: r.get(face_id, neutral) for face_id in ids}


def r_of_rows(similarities: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """Each row's ``r`` in a query × gallery similarity matrix: the mean of its ``k``
    largest entries (fewer when the row holds fewer; NaN entries, a photo without a face,
    are left out; 0 for a row with none)."""
    matrix = np.asarray(similarities, dtype=np.float64)
    result = np.zeros(matrix.shape[0])
    for row in range(matrix.shape[0]):
        values = matrix[row][~np.isnan(matrix[row])]
        if values.size:
            take = min(max(1, k), values.size)
            result[row] = -float(np.mean(np.partition(-values, take - 1)[:take]))
    return result


def csls_matrix(similarities: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """CSLS scores of a young × adult (query × gallery) cosine-similarity matrix, each
    query's ``r`` over its ``k`` nearest gallery faces and each gallery face's over its
    ``k`` nearest queries (higher is closer)."""
    matrix = np.asarray(similarities, dtype=np.float64)
    r_query = r_of_rows(matrix, k)
    r_gallery = r_of_rows(matrix.T, k)
    return csls_score(matrix, r_query[:, None], r_gallery[None, :])


def csls_distance_matrix(distances: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """A young × adult cosine-distance matrix as CSLS distances (``csls_matrix`` in
    distance terms; NaN stays NaN)."""
    return 1.0 - 0.5 * csls_matrix(1.0 - np.asarray(distances, dtype=np.float64), k)


def csls_pairwise(distances: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """A photo × photo cosine-distance matrix of one group as CSLS distances: each photo's
    ``r`` over its ``k`` nearest other photos (itself and NaN left out)."""
    matrix = np.array(distances, dtype=np.float64)
    similarities = 1.0 - matrix
    np.fill_diagonal(similarities, np.nan)
    r = r_of_rows(similarities, k)
    return matrix + 0.5 * (r[:, None] + r[None, :])


@dataclass(frozen=True)
class CslsPair:
    """The photo pair of two people closest under CSLS, with its plain distance."""

    csls: float  # the CSLS distance (lower is closer)
    distance: float
    face_a: int
    face_b: int


def closest_pair_csls(
    faces_a: Mapping[int, tuple[np.ndarray, float | None]],
    faces_b: Mapping[int, tuple[np.ndarray, float | None]],
    r: Mapping[int, float],
) -> CslsPair | None:
    """The lowest CSLS distance over every photo pair of two people (``faces_*``: face id →
    (unit embedding, age), as ``ranking.closest_pair`` takes them); ``r`` as ``r_filled``
    completes it over both people's faces. Ties go to the lower face ids."""
    if not faces_a or not faces_b:
        return None
    filled = r_filled(r, [*faces_a, *faces_b])
    best: CslsPair | None = None
    for face_a in sorted(faces_a):
        for face_b in sorted(faces_b):
            distance = ranking.cosine_distance(faces_a[face_a][0], faces_b[face_b][0])
            value = csls_distance(distance, filled[face_a], filled[face_b])
            if best is None or value < best.csls:
                best = CslsPair(csls=value, distance=distance, face_a=face_a, face_b=face_b)
    return best
