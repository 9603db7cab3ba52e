"""Reads for matching: nearest faces through pgvector, and the faces of one person.

The nearest-face search is the hot path of every match job. It filters on the
facts that can't be wrong (side, sex, overlapping birth years, consent through
``searchable``) inside the vector search, with HNSW iterative scans so a
selective filter still returns enough rows; the choice of index and parameters
was made by measurement (docs/BENCHMARKS.md, bench/vector_search.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from families.models import Sex
from matching.models import Face, Side


@dataclass(frozen=True)
class Neighbour:
    """A face on the other side, whose person it shows, and how far it is."""

    face_id: int
    owner_id: int
    distance: float


@dataclass(frozen=True)
class PersonFacts:
    """What the search filters on: the side searched and the facts of the person searching."""

    side: str
    sex: str
    birth_year_min: int
    birth_year_max: int


def compatible_sexes(sex: str) -> list[str]:
    """Sexes a face may have to match a person of ``sex``: unknown matches anything."""
    if sex == Sex.UNKNOWN:
        return [Sex.FEMALE, Sex.MALE, Sex.UNKNOWN]
    return [sex, Sex.UNKNOWN]


def other_side(side: str) -> str:
    return Side.SEEKER if side == Side.CASE else Side.CASE


def vector_literal(embedding: Sequence[float] | np.ndarray) -> str:
    return "[" + ",".join(f"{float(value):.8g}" for value in embedding) + "]"


_NEAREST_SQL = """
WITH nearest AS MATERIALIZED (
    SELECT face.id, face.photo_id, face.embedding <=> %(query)s::vector AS distance
    FROM matching_face AS face
    WHERE face.searchable
      AND face.side = %(side)s
      AND face.sex = ANY(%(sexes)s)
      AND face.birth_year_min <= %(born_max)s
      AND face.birth_year_max >= %(born_min)s
    ORDER BY face.embedding <=> %(query)s::vector
    LIMIT %(limit)s
)
SELECT nearest.id, COALESCE(photo.case_id, photo.seeker_posting_id), nearest.distance
FROM nearest JOIN families_photo AS photo ON photo.id = nearest.photo_id
WHERE nearest.distance <= %(max_distance)s
ORDER BY nearest.distance, nearest.id
"""


def faces_nearest(
    *,
    embedding: Sequence[float] | np.ndarray,
    facts: PersonFacts,
    max_distance: float,
    limit: int | None = None,
) -> list[Neighbour]:
    """Searchable faces on ``facts.side`` that could be the person described by ``facts``.

    Closest first, at most ``limit`` (``MATCH_SEARCH_LIMIT``) faces within
    ``max_distance``. The HNSW scan is iterative (``relaxed_order``) so rows
    removed by the filters are replaced by further ones rather than lost;
    the final order is restored here.
    """
    params = {
        "query": vector_literal(embedding),
        "side": facts.side,
        "sexes": compatible_sexes(facts.sex),
        "born_min": facts.birth_year_min,
        "born_max": facts.birth_year_max,
        "limit": limit or settings.MATCH_SEARCH_LIMIT,
        "max_distance": max_distance,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true)", [str(settings.MATCH_HNSW_EF_SEARCH)]
        )
        cursor.execute(_NEAREST_SQL, params)
        rows = cursor.fetchall()
    return [Neighbour(face_id=row[0], owner_id=row[1], distance=float(row[2])) for row in rows]


def faces_of_person(
    *, side: str, owner_id: int, searchable_only: bool = True
) -> dict[int, tuple[np.ndarray, float | None]]:
    """Face id → (embedding, age in photo) for every embedded face of one case or posting."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    faces = Face.objects.filter(**{owner_field: owner_id}, embedding__isnull=False)
    if searchable_only:
        faces = faces.filter(searchable=True)
    return {
        face_id: (np.asarray(embedding, dtype=np.float64), age)
        for face_id, embedding, age in faces.values_list("id", "embedding", "age_in_photo")
    }


def faces_of_people(
    *, side: str, owner_ids: Iterable[int]
) -> dict[int, dict[int, tuple[np.ndarray, float | None]]]:
    """``faces_of_person`` for many people in one query: owner id → faces."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    result: dict[int, dict[int, tuple[np.ndarray, float | None]]] = {}
    rows = Face.objects.filter(
        **{f"{owner_field}__in": list(owner_ids)}, embedding__isnull=False, searchable=True
    ).values_list(owner_field, "id", "embedding", "age_in_photo")
    for owner_id, face_id, embedding, age in rows:
        result.setdefault(owner_id, {})[face_id] = (np.asarray(embedding, dtype=np.float64), age)
    return result


def faces_needing_embedding(*, model_version: str, after_id: int = 0, limit: int = 100):
    """Faces whose embedding is missing or from another model version, in id order (for reindex)."""
    return (
        Face.objects.filter(id__gt=after_id)
        .exclude(model_version=model_version, embedding__isnull=False)
        .exclude(embedding__isnull=True, picked_by__isnull=True, photo__face_state__in=(
            "no_face", "several_faces",
        ))
        .select_related("photo")
        .order_by("id")[:limit]
    )
