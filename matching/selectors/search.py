"""The nearest faces through pgvector, and the centring and ranking parameters they are
searched and ranked with.

The nearest-face search is the hot path of every match job. It filters on the
facts that can't be wrong (side, sex, overlapping birth years, consent through
``searchable``) inside the vector search and, by default, compares every face
the facts allow (exact: it never misses a face), reading half-precision vectors
from covering indexes and re-ranking the closest in full precision; the design
was chosen by measurement (docs/BENCHMARKS.md, bench/exact_search.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from families.models import Sex
from matching import ranking
from matching.faces import current_model_version
from matching.models import SEARCH_WIDTH_CLASSES, Centring, Face, Side


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


#: What can't be true, as every branch of the search filters it.
_FACTS = """
      face.searchable
      AND face.model_version = %(model_version)s
      AND face.centring_version = %(centring_version)s
      AND face.side = %(side)s
      AND face.sex = ANY(%(sexes)s)
      AND face.birth_year_min <= %(born_max)s
      AND face.birth_year_max >= %(born_min)s"""

_NEAREST_SQL = """
WITH nearest AS MATERIALIZED (
    SELECT face.id, face.photo_id, face.embedding <=> %(query)s::vector AS distance
    FROM matching_face AS face
    WHERE {facts}
    ORDER BY face.embedding <=> %(query)s::vector
    LIMIT %(limit)s
)
SELECT nearest.id, COALESCE(photo.case_id, photo.seeker_posting_id), nearest.distance
FROM nearest JOIN families_photo AS photo ON photo.id = nearest.photo_id
WHERE nearest.distance <= %(max_distance)s
ORDER BY nearest.distance, nearest.id
"""


def _width_branch(low: int, high: int | None) -> str:
    """The faces of one birth-range width class, read from that class's covering index
    (``face_search_w*``: the predicate here is the index's, so the planner uses it)."""
    if high is None:
        width = f"face.birth_year_max > (face.birth_year_min + {low})"
        earliest = ""
    else:
        width = (
            f"face.birth_year_max >= (face.birth_year_min + {low}) "
            f"AND face.birth_year_max <= (face.birth_year_min + {high})"
        )
        # Born in the searched years only if the range starts at most ``high`` before them.
        earliest = f"AND face.birth_year_min >= %(born_min)s - {high}"
    # Built once from constants (no input): the values are bound parameters.
    return (
        "SELECT face.id, face.embedding_half <=> %(query)s::halfvec AS rough "  # noqa: S608
        f"FROM matching_face AS face WHERE {_FACTS} AND {width} {earliest}"
    )


#: Exact search: every face the facts allow is compared in half precision, read from the
#: covering indexes alone; the closest ``_RERANK`` × limit are compared again in full
#: precision and the closest ``limit`` kept (at 1,000,000 faces: 15 ms median, the same
#: faces as a full-precision brute force in every query measured; docs/BENCHMARKS.md).
#: The full-precision distances are taken (``scored``) before they are ordered: an ordered
#: ``LIMIT`` over the join could be planned as a scan of the HNSW index, which returns only
#: the ``hnsw.ef_search`` nearest faces of every side and version and so misses faces.
_RERANK = 2
_EXACT_TEMPLATE = """
WITH rough AS MATERIALIZED (
    SELECT found.id FROM ({branches}) AS found
    ORDER BY found.rough, found.id
    LIMIT %(rerank)s
), scored AS MATERIALIZED (
    SELECT face.id, face.photo_id, face.embedding <=> %(query)s::vector AS distance
    FROM rough JOIN matching_face AS face ON face.id = rough.id
), nearest AS MATERIALIZED (
    SELECT scored.id, scored.photo_id, scored.distance FROM scored
    ORDER BY scored.distance, scored.id
    LIMIT %(limit)s
)
SELECT nearest.id, COALESCE(photo.case_id, photo.seeker_posting_id), nearest.distance
FROM nearest JOIN families_photo AS photo ON photo.id = nearest.photo_id
WHERE nearest.distance <= %(max_distance)s
ORDER BY nearest.distance, nearest.id
"""
_EXACT_SQL = _EXACT_TEMPLATE.format(branches=" UNION ALL ".join(
    [_width_branch(low, high) for low, high in SEARCH_WIDTH_CLASSES]
    + [_width_branch(SEARCH_WIDTH_CLASSES[-1][1], None)]
))


def centring_current(model_version: str | None = None) -> Centring | None:
    """The centring faces of ``model_version`` (by default the current one) are searched
    with: the newest of that version, ``None`` before the first."""
    return Centring.objects.filter(
        model_version=model_version or current_model_version()
    ).order_by("-pk").first()


def centring_version_current(model_version: str | None = None) -> int:
    """The current centring's id (``Face.centring_version``), 0 before the first."""
    centring = centring_current(model_version)
    return centring.pk if centring is not None else 0


def ranking_parameters_under(centring: Centring | None) -> ranking.RankingParameters:
    """The candidate rules for distances measured under ``centring``: the centred ones when
    it centres an age group, else the plain ones."""
    return ranking.RankingParameters.from_settings(
        centred=centring is not None and centring.centres_any
    )


def ranking_parameters(model_version: str | None = None) -> ranking.RankingParameters:
    """The candidate rules for the distances of the current centring (centred or plain)."""
    return ranking_parameters_under(centring_current(model_version))


def faces_nearest(
    *,
    embedding: Sequence[float] | np.ndarray,
    facts: PersonFacts,
    max_distance: float,
    limit: int | None = None,
    model_version: str | None = None,
    centring_version: int | None = None,
) -> list[Neighbour]:
    """Searchable faces on ``facts.side`` that could be the person described by ``facts``.

    Closest first, at most ``limit`` (``MATCH_SEARCH_LIMIT``) faces within
    ``max_distance``, only of ``model_version`` and ``centring_version`` (the query's; by
    default the current ones): distances between versions mean nothing.
    ``MATCH_VECTOR_SEARCH`` chooses exact search over the filtered faces (the
    default: it never misses a face) or the HNSW index with iterative scans
    (``relaxed_order``: rows removed by the filters are replaced by further
    ones; the final order is restored here).
    """
    params = {
        "query": vector_literal(embedding),
        "side": facts.side,
        "sexes": compatible_sexes(facts.sex),
        "born_min": facts.birth_year_min,
        "born_max": facts.birth_year_max,
        "limit": limit or settings.MATCH_SEARCH_LIMIT,
        "max_distance": max_distance,
        "model_version": model_version or current_model_version(),
    }
    params["centring_version"] = (
        centring_version_current(params["model_version"]) if centring_version is None
        else centring_version
    )
    mode = settings.MATCH_VECTOR_SEARCH
    with transaction.atomic(), connection.cursor() as cursor:
        if mode == "hnsw":
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor.execute(
                "SELECT set_config('hnsw.ef_search', %s, true)",
                [str(settings.MATCH_HNSW_EF_SEARCH)],
            )
        if mode == "hnsw":
            cursor.execute(_NEAREST_SQL.format(facts=_FACTS), params)
        else:
            params["rerank"] = _RERANK * params["limit"]
            cursor.execute(_EXACT_SQL, params)
        rows = cursor.fetchall()
    return [Neighbour(face_id=row[0], owner_id=row[1], distance=float(row[2])) for row in rows]


def dlib_embeddings(face_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Face id → the second model's (Dlib) embedding, for those of ``face_ids`` that have one
    (fusion re-ranks with it; a face without one is ranked by SFace alone)."""
    rows = Face.objects.filter(
        pk__in=list(face_ids), embedding_dlib__isnull=False
    ).values_list("id", "embedding_dlib")
    return {face_id: np.asarray(vector, dtype=np.float64) for face_id, vector in rows}


def csls_r_of(face_ids: Iterable[int], *, model_version: str, centring_version: int
              ) -> dict[int, float]:
    """Face id → its hubness ``r`` (CSLS, ``matching.csls``), for those of ``face_ids``
    whose ``r`` was taken under ``model_version`` and ``centring_version``: an ``r`` of
    another version (the face re-centred since) is never read."""
    return dict(Face.objects.filter(
        pk__in=list(face_ids), csls_r__isnull=False, csls_model_version=model_version,
        csls_centring_version=centring_version,
    ).values_list("id", "csls_r"))


def fusion_pool(
    *, embedding: Sequence[float] | np.ndarray, facts: PersonFacts, model_version: str,
    centring_version: int | None = None,
) -> list[Neighbour]:
    """The query's search pool for fusion: its ``MATCH_FUSION_POOL`` closest faces on the
    SFace column, at any distance (the z-scores are taken against them)."""
    return faces_nearest(
        embedding=embedding, facts=facts, max_distance=2.0,
        limit=settings.MATCH_FUSION_POOL, model_version=model_version,
        centring_version=centring_version,
    )
