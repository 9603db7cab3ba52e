"""Reads for matching: nearest faces through pgvector, and the faces of one person.

The nearest-face search is the hot path of every match job. It filters on the
facts that can't be wrong (side, sex, overlapping birth years, consent through
``searchable``) inside the vector search and, by default, compares every face
the facts allow (exact: it never misses a face), reading half-precision vectors
from covering indexes and re-ranking the closest in full precision; the design
was chosen by measurement (docs/BENCHMARKS.md, bench/exact_search.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from families.dialects import dialect_group_label, dialect_label, dialects_related
from families.marks import KINDS as MARK_KINDS
from families.marks import mark_concepts, mark_label
from families.models import MATCHABLE_STATUSES, Photo, Sex, User
from families.places import codes_named, in_codes
from families.selectors import AnyUser, is_volunteer, photo_manageable_by
from matching import ranking
from matching.faces import current_model_version
from matching.models import (
    SEARCH_WIDTH_CLASSES,
    Candidate,
    Centring,
    DnaGuidance,
    DnaTest,
    Face,
    MatchJob,
    MatchMessage,
    Side,
)


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
_RERANK = 2
_EXACT_TEMPLATE = """
WITH rough AS MATERIALIZED (
    SELECT found.id FROM ({branches}) AS found
    ORDER BY found.rough, found.id
    LIMIT %(rerank)s
), nearest AS MATERIALIZED (
    SELECT face.id, face.photo_id, face.embedding <=> %(query)s::vector AS distance
    FROM rough JOIN matching_face AS face ON face.id = rough.id
    ORDER BY distance, face.id
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


def ranking_parameters(model_version: str | None = None) -> ranking.RankingParameters:
    """The candidate rules for the distances of the current centring (centred or plain)."""
    centring = centring_current(model_version)
    return ranking.RankingParameters.from_settings(
        centred=centring is not None and centring.centres_any
    )


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


def faces_of_person(
    *, side: str, owner_id: int, searchable_only: bool = True, model_version: str | None = None,
    centring_version: int | None = None,
) -> dict[int, tuple[np.ndarray, float | None]]:
    """Face id → (embedding, age in photo) for every embedded face of one case or posting
    of ``model_version`` and ``centring_version`` (by default the current ones)."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    model_version = model_version or current_model_version()
    faces = Face.objects.filter(
        **{owner_field: owner_id}, embedding__isnull=False, model_version=model_version,
        centring_version=(centring_version_current(model_version) if centring_version is None
                          else centring_version),
    )
    if searchable_only:
        faces = faces.filter(searchable=True)
    return {
        face_id: (np.asarray(embedding, dtype=np.float64), age)
        for face_id, embedding, age in faces.values_list("id", "embedding", "age_in_photo")
    }


def faces_of_people(
    *, side: str, owner_ids: Iterable[int], model_version: str | None = None,
    centring_version: int | None = None,
) -> dict[int, dict[int, tuple[np.ndarray, float | None]]]:
    """``faces_of_person`` for many people in one query: owner id → faces."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    result: dict[int, dict[int, tuple[np.ndarray, float | None]]] = {}
    model_version = model_version or current_model_version()
    rows = Face.objects.filter(
        **{f"{owner_field}__in": list(owner_ids)}, embedding__isnull=False, searchable=True,
        model_version=model_version,
        centring_version=(centring_version_current(model_version) if centring_version is None
                          else centring_version),
    ).values_list(owner_field, "id", "embedding", "age_in_photo")
    for owner_id, face_id, embedding, age in rows:
        result.setdefault(owner_id, {})[face_id] = (np.asarray(embedding, dtype=np.float64), age)
    return result


def dlib_embeddings(face_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Face id → the second model's (Dlib) embedding, for those of ``face_ids`` that have one
    (fusion re-ranks with it; a face without one is ranked by SFace alone)."""
    rows = Face.objects.filter(
        pk__in=list(face_ids), embedding_dlib__isnull=False
    ).values_list("id", "embedding_dlib")
    return {face_id: np.asarray(vector, dtype=np.float64) for face_id, vector in rows}


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


def owners_waiting_for_reindex(
    *, side: str, owner_ids: Iterable[int], model_version: str,
    centring_version: int | None = None,
) -> set[int]:
    """The cases (or postings) among ``owner_ids`` with a searchable face of another version
    than ``model_version`` or of another centring (re-centring reaches it soon): a person is
    matched once all their faces are on one version."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    if centring_version is None:
        centring_version = centring_version_current(model_version)
    return set(Face.objects.filter(
        **{f"{owner_field}__in": list(owner_ids)}, embedding__isnull=False, searchable=True
    ).exclude(model_version=model_version, centring_version=centring_version).values_list(
        owner_field, flat=True).distinct())


def faces_needing_embedding(*, model_version: str, after_id: int = 0, limit: int | None = 100):
    """Faces to embed again with ``model_version``, in id order (``reindex``).

    Those embedded by another version, and picked faces still waiting for an
    embedding; boxes waiting for a person to pick one are left alone.
    """
    faces = Face.objects.filter(id__gt=after_id).filter(
        Q(embedding__isnull=False) & ~Q(model_version=model_version)
        | Q(embedding__isnull=True, picked_by__isnull=False)
    ).select_related("photo").order_by("id")
    return faces if limit is None else faces[:limit]


# Review queue and match pages --------------------------------------------------


def review_queue(
    *,
    viewer: User | None = None,
    region: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
    min_score: float | None = None,
    statuses: Iterable[str] | None = None,
    source: str = "",
) -> QuerySet[Candidate]:
    """Candidates waiting for review: highest score first, then the case that waited longest.

    A candidate a person proposed with no comparable faces has no score: it comes after
    the scored ones, never hidden. ``source`` keeps those of one origin.

    ``region`` matches the province (or city) the child went missing from or
    where the seeker grew up; dates bound when the candidate appeared. The
    ``viewer``'s own cases and postings are left out: nobody reviews their own.
    """
    wanted = list(statuses) if statuses else [
        Candidate.Status.PENDING, Candidate.Status.NEEDS_INFO,
        Candidate.Status.AWAITING_SECOND_REVIEW,
    ]
    candidates = Candidate.objects.filter(
        status__in=wanted,
        case__status__in=MATCHABLE_STATUSES,
        seeker_posting__status__in=MATCHABLE_STATUSES,
    )
    if viewer is not None:
        candidates = candidates.exclude(case__family=viewer).exclude(
            seeker_posting__owner=viewer
        )
    region = region.strip()
    if region:
        # A division by any of its names (Sichuan, 四川省, 51), or the text written.
        codes = codes_named(region)
        candidates = candidates.filter(
            in_codes("case__missing_place_code", codes)
            | in_codes("seeker_posting__grew_up_place_code", codes)
            | Q(case__missing_province__icontains=region)
            | Q(case__missing_city__icontains=region)
            | Q(seeker_posting__grew_up_province__icontains=region)
            | Q(seeker_posting__grew_up_city__icontains=region)
        )
    if created_from is not None:
        candidates = candidates.filter(created_at__date__gte=created_from)
    if created_to is not None:
        candidates = candidates.filter(created_at__date__lte=created_to)
    if min_score is not None:
        candidates = candidates.filter(score__gte=min_score)
    if source:
        candidates = candidates.filter(source=source)
    return candidates.select_related("case", "seeker_posting", "claimed_by").annotate(
        case_waiting_since=Coalesce("case__published_at", "case__created_at")
    ).order_by(F("score").desc(nulls_last=True), "case_waiting_since", "created_at", "pk")


@dataclass(frozen=True)
class PhotoPair:
    """One case face against one seeker face: what a volunteer compares by eye."""

    case_face: Face
    seeker_face: Face
    distance: float
    score: float
    age_gap_years: float | None
    is_best: bool
    #: With ``MATCH_FUSION`` on: the second model's (Dlib) distance, when both faces have
    #: one, and the fused distance against the case face's pool (``score`` is then minus it).
    dlib_distance: float | None = None
    fused: float | None = None


def _case_face_pool_stats(face: Face, version: str, centring_version: int
                          ) -> ranking.PoolStats:
    """A case face's fusion pool statistics, as its match job takes them."""
    facts = PersonFacts(side=Side.SEEKER, sex=face.sex, birth_year_min=face.birth_year_min,
                        birth_year_max=face.birth_year_max)
    pool = fusion_pool(embedding=face.embedding, facts=facts, model_version=version,
                       centring_version=centring_version)
    dlib = dlib_embeddings({face.pk, *(n.face_id for n in pool)})
    query = dlib.get(face.pk)
    return ranking.pool_stats(
        [n.distance for n in pool],
        [ranking.cosine_distance(query, dlib[n.face_id]) for n in pool
         if query is not None and n.face_id in dlib],
    )


def candidate_photo_pairs(candidate: Candidate) -> list[PhotoPair]:
    """Every embedded case face × every embedded seeker face, closest first.

    Distances are computed here from the stored embeddings (cosine, as the
    search does) with the same score as ranking, so each pair can be judged;
    only faces of the current pipeline version and centring, as matching compares
    them (a face waiting for ``reindex`` shows no distance). With ``MATCH_FUSION`` on,
    each pair also shows its Dlib distance and is scored and ordered by its fused
    distance against the case face's pool, as matching ranks it.
    """
    version = current_model_version()
    params = ranking_parameters(version)
    centring_version = centring_version_current(version)
    case_faces = list(
        Face.objects.filter(
            photo__case=candidate.case, embedding__isnull=False, model_version=version,
            centring_version=centring_version,
        ).select_related("photo").order_by("photo__uploaded_at", "pk")
    )
    seeker_faces = list(
        Face.objects.filter(
            photo__seeker_posting=candidate.seeker_posting, embedding__isnull=False,
            model_version=version, centring_version=centring_version,
        ).select_related("photo").order_by("photo__uploaded_at", "pk")
    )
    if not case_faces or not seeker_faces:
        return []
    a = np.stack([np.asarray(f.embedding, dtype=np.float64) for f in case_faces])
    b = np.stack([np.asarray(f.embedding, dtype=np.float64) for f in seeker_faces])
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    distances = 1.0 - a @ b.T
    fusion = settings.MATCH_FUSION
    pairs = []
    for i, case_face in enumerate(case_faces):
        stats = _case_face_pool_stats(case_face, version, centring_version) if fusion else None
        for j, seeker_face in enumerate(seeker_faces):
            distance = max(0.0, float(distances[i, j]))
            gap = ranking.age_gap(case_face.photo.age_years(), seeker_face.photo.age_years())
            dlib_distance = fused = None
            if stats is not None:
                if case_face.embedding_dlib is not None and seeker_face.embedding_dlib is not None:
                    dlib_distance = ranking.cosine_distance(
                        np.asarray(case_face.embedding_dlib, dtype=np.float64),
                        np.asarray(seeker_face.embedding_dlib, dtype=np.float64),
                    )
                fused = ranking.fused_distance(distance, dlib_distance, stats)
            pairs.append(PhotoPair(
                case_face=case_face, seeker_face=seeker_face, distance=distance,
                score=(ranking.fused_score(fused) if fused is not None
                       else ranking.score(distance, gap, params)),
                age_gap_years=gap,
                is_best=(case_face.pk, seeker_face.pk)
                == (candidate.case_face_id, candidate.seeker_face_id),
                dlib_distance=dlib_distance, fused=fused,
            ))
    if fusion:
        return sorted(pairs, key=lambda p: (p.fused, p.case_face.pk, p.seeker_face.pk))
    return sorted(pairs, key=lambda p: (p.distance, p.case_face.pk, p.seeker_face.pk))


class Verdict:
    """How one fact of the case compares with the seeker's."""

    AGREE = "agree"
    CONFLICT = "conflict"
    DIFFERS = "differs"  # differs without ruling anything out (a dialect learned later)
    UNKNOWN = "unknown"
    SHOWN = "shown"  # beside each other for the volunteer's eye, not compared (heights)


@dataclass(frozen=True)
class FactRow:
    label: str
    case_value: str
    seeker_value: str
    verdict: str
    note: str = ""


_WORD = re.compile(r"[\w']+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_COMMON = {
    "the", "and", "that", "with", "from", "were", "was", "when", "where", "there", "they",
    "have", "had", "this", "then", "them", "remember", "about", "near",
}


def _keywords(text: str) -> set[str]:
    """Words of four letters or more, and two-character runs of Chinese, for spotting overlaps."""
    words = {w.casefold() for w in _WORD.findall(text) if len(w) >= 4 and not _CJK.fullmatch(w)}
    for run in _CJK.findall(text):
        words |= {run[i:i + 2] for i in range(len(run) - 1)}
    return words - _COMMON


def _dialect_row(case_dialect: str, seeker_dialect: str) -> FactRow:
    """Dialects compared as facts: one code for a dialect named in either language; two
    dialects of one group are close; text naming no listed dialect is compared as text."""
    note = ""
    related = dialects_related(case_dialect, seeker_dialect)
    if not case_dialect or not seeker_dialect:
        verdict = Verdict.UNKNOWN
    elif related == "same":
        verdict = Verdict.AGREE
    elif related == "group":
        verdict = Verdict.AGREE
        note = _("Not the same dialect, but both are %(group)s: close enough to be familiar.") % {
            "group": dialect_group_label(case_dialect)}
    elif related is None and (
        _keywords(case_dialect) & _keywords(seeker_dialect)
        or case_dialect.strip().casefold() == seeker_dialect.strip().casefold()
    ):
        verdict = Verdict.AGREE
    else:
        verdict = Verdict.DIFFERS
        note = _("A child taken young often learned the dialect of the family that raised "
                 "them: a different dialect rules nothing out.")
    return FactRow(_("Dialect"), dialect_label(case_dialect), dialect_label(seeker_dialect),
                   verdict, note)


_NAME_SEPARATORS = re.compile(r"[,，、;；/|]+")


def _names(text: str) -> set[str]:
    return {name.strip().casefold() for name in _NAME_SEPARATORS.split(text) if name.strip()}


def _names_row(case, seeker) -> FactRow:
    """The names the child was called at home beside the names the seeker remembers."""
    case_names = _names(", ".join(n for n in (case.given_name, case.nicknames) if n))
    seeker_names = _names(seeker.remembered_names)
    shown = ", ".join(n for n in (case.given_name, case.nicknames) if n)
    if not case.nicknames and not seeker.remembered_names:
        return FactRow(_("Names (at home / remembered)"), shown, "", Verdict.UNKNOWN)
    if not seeker_names:
        return FactRow(_("Names (at home / remembered)"), shown, "", Verdict.UNKNOWN)
    shared = sorted(
        a for a in case_names for b in seeker_names
        if a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))
    )
    if shared:
        return FactRow(_("Names (at home / remembered)"), shown, seeker.remembered_names,
                       Verdict.AGREE, _("Names in common: %(names)s") % {
                           "names": ", ".join(shared)})
    return FactRow(_("Names (at home / remembered)"), shown, seeker.remembered_names,
                   Verdict.DIFFERS, _("A small child remembers few names: a different one "
                                      "rules nothing out."))


def _marks_row(case_marks: str, seeker_marks: str) -> FactRow:
    """Distinguishing marks compared by what they name, in either language (a birthmark,
    a scar; the left arm), never by spelling."""
    if not case_marks or not seeker_marks:
        return FactRow(_("Distinguishing marks"), case_marks, seeker_marks, Verdict.UNKNOWN)
    shared = mark_concepts(case_marks) & mark_concepts(seeker_marks)
    words = ", ".join(mark_label(c) for c in sorted(shared))
    if shared & set(MARK_KINDS):
        return FactRow(_("Distinguishing marks"), case_marks, seeker_marks, Verdict.AGREE,
                       _("Both name: %(words)s. Compare where on the body.") % {"words": words})
    note = _("Both name: %(words)s.") % {"words": words} if shared else ""
    return FactRow(_("Distinguishing marks"), case_marks, seeker_marks, Verdict.DIFFERS, note)


def _height_row(case, seeker) -> FactRow:
    """A child's height then and an adult's height now, beside each other: not compared."""
    case_value = ""
    if case.height_cm:
        case_value = _("%(cm)d cm at about %(age)s years") % {
            "cm": case.height_cm, "age": int(case.age_at(case.missing_date))}
    seeker_value = _("%(cm)d cm now") % {"cm": seeker.height_cm} if seeker.height_cm else ""
    if not case_value or not seeker_value:
        return FactRow(_("Height"), case_value, seeker_value, Verdict.UNKNOWN)
    return FactRow(_("Height"), case_value, seeker_value, Verdict.SHOWN,
                   _("A child's height says little of the adult's: shown, not compared."))


def candidate_facts(candidate: Candidate) -> list[FactRow]:
    """The facts side by side, each marked agree, conflict, differs or unknown."""
    case, seeker = candidate.case, candidate.seeker_posting
    rows = []

    if Sex.UNKNOWN in (case.sex, seeker.sex):
        verdict = Verdict.UNKNOWN
    else:
        verdict = Verdict.AGREE if case.sex == seeker.sex else Verdict.CONFLICT
    rows.append(FactRow(_("Sex"), case.get_sex_display(), seeker.get_sex_display(), verdict))

    overlap = (case.birth_year_min <= seeker.birth_year_max
               and seeker.birth_year_min <= case.birth_year_max)
    rows.append(FactRow(
        _("Born"),
        f"{case.birth_year_min}–{case.birth_year_max}",
        f"{seeker.birth_year_min}–{seeker.birth_year_max}",
        Verdict.AGREE if overlap else Verdict.CONFLICT,
    ))

    case_place = case.missing_place
    seeker_place = seeker.grew_up_place
    case_code, seeker_code = case.missing_place_code, seeker.grew_up_place_code
    if not seeker.grew_up_province:
        verdict, note = Verdict.UNKNOWN, ""
    elif case_code and seeker_code:
        # By code: "Sichuan" and "四川省" are one province.
        verdict = Verdict.AGREE if case_code[:2] == seeker_code[:2] else Verdict.DIFFERS
        note = "" if verdict == Verdict.AGREE else _(
            "Children were often taken far from home: a different province rules nothing out.")
    elif seeker.grew_up_province.strip().casefold() == case.missing_province.strip().casefold():
        verdict, note = Verdict.AGREE, ""
    else:
        verdict = Verdict.DIFFERS
        note = _("Children were often taken far from home: a different province rules nothing out.")
    rows.append(FactRow(_("Place missing / where the seeker grew up"), case_place, seeker_place,
                        verdict, note))

    missing_year = case.missing_date.year
    if seeker.arrived_year is None:
        verdict, note = Verdict.UNKNOWN, ""
    elif seeker.arrived_year < missing_year:
        verdict = Verdict.CONFLICT
        note = _("The seeker came to the family that raised them before the child went missing.")
    elif seeker.arrived_year - missing_year <= 3:
        verdict, note = Verdict.AGREE, ""
    else:
        verdict = Verdict.DIFFERS
        note = _("The seeker arrived several years after the child went missing.")
    rows.append(FactRow(
        _("Date missing / year the seeker came to the family that raised them"),
        case.missing_date.isoformat(), str(seeker.arrived_year or ""), verdict, note,
    ))

    rows.append(_dialect_row(case.dialect, seeker.dialect))
    rows.append(_names_row(case, seeker))
    rows.append(_marks_row(case.distinguishing_marks, seeker.distinguishing_marks))
    rows.append(_height_row(case, seeker))

    shared = sorted(_keywords(case.circumstances) & _keywords(seeker.memories))
    if not case.circumstances or not seeker.memories:
        verdict, note = Verdict.UNKNOWN, ""
    elif shared:
        verdict, note = Verdict.AGREE, _("Words in common: %(words)s") % {
            "words": ", ".join(shared[:12])}
    else:
        verdict, note = Verdict.DIFFERS, ""
    rows.append(FactRow(_("Circumstances / earliest memories"), case.circumstances,
                        seeker.memories, verdict, note))
    return rows


def is_party_to(*, user: User, candidate: Candidate) -> bool:
    """Whether ``user`` posted the candidate's case or seeker posting."""
    return user.pk in (candidate.case.family_id, candidate.seeker_posting.owner_id)


def candidate_reviewable_by(*, user: User, candidate: Candidate) -> bool:
    """Who may open a candidate's review, DNA, photo and face pages as a reviewer.

    Volunteers and admins, never about their own case or posting; an ended
    candidate (consent or a posting withdrawn) only admins, who keep the record.
    """
    if not is_volunteer(user) or is_party_to(
        user=user, candidate=candidate
    ):
        return False
    return candidate.status != Candidate.Status.ENDED or user.is_superuser


def candidate_confirmable_by(*, user: User, candidate: Candidate) -> bool:
    """Whether ``user`` may ever confirm ``candidate``: never the volunteer who proposed it.

    No volunteer acts alone where it matters: a pair a volunteer put forward is
    confirmed by another (the claim and the written reason are checked by the
    review service).
    """
    return candidate.proposed_by_id is None or candidate.proposed_by_id != user.pk


# What the family and the seeker see of each other (docs/REVIEW.md).
#: Candidate statuses after a volunteer's confirmation: the grant is open.
GRANTED_STATUSES = (Candidate.Status.CONFIRMED, Candidate.Status.REUNITED)


def match_side_of(*, user, candidate: Candidate) -> str | None:
    """``family`` or ``seeker`` when ``user`` may open the match page of ``candidate``.

    Only after a volunteer's confirmation; before it (and after a rejection,
    DNA "no match" included) neither side learns anything of the other.
    """
    if not user.is_authenticated or candidate.status not in GRANTED_STATUSES:
        return None
    return _side_of(user, candidate)


def ended_match_side_of(*, user, candidate: Candidate) -> str | None:
    """``family`` or ``seeker`` when ``user`` was told of ``candidate`` (its confirmation
    opened a DNA test) and it has since ended: the match page then says only that it is
    no longer followed, so a link in an earlier email leads somewhere kind, not to a 404.
    """
    if not user.is_authenticated or candidate.status != Candidate.Status.ENDED:
        return None
    if not DnaTest.objects.filter(candidate=candidate).exists():
        return None
    return _side_of(user, candidate)


def _side_of(user, candidate: Candidate) -> str | None:
    """Which side of ``candidate`` the user is: the case's family or the posting's owner."""
    if candidate.case.family_id == user.pk:
        return "family"
    if candidate.seeker_posting.owner_id == user.pk:
        return "seeker"
    return None


def match_shared_photos(*, candidate: Candidate, side: str) -> list[Photo]:
    """The other side's photos the confirmation shows: those they gave for matching."""
    if side == "family":
        photos = candidate.seeker_posting.photos.filter(use_in_matching=True)
    else:
        photos = candidate.case.photos.filter(Q(use_in_matching=True) | Q(use_on_poster=True))
    # A photo a volunteer hid is shown to nobody outside its own side and the volunteers.
    return list(photos.filter(hidden_at__isnull=True).order_by("uploaded_at", "pk"))


def candidate_photo_viewable_by(*, user, candidate: Candidate, photo: Photo) -> bool:
    """Volunteers see every photo of both people; each side its own, the other's once granted."""
    in_case = photo.case_id is not None and photo.case_id == candidate.case_id
    in_posting = (
        photo.seeker_posting_id is not None
        and photo.seeker_posting_id == candidate.seeker_posting_id
    )
    if not (in_case or in_posting):
        return False
    if not user.is_authenticated:
        return False
    if candidate_reviewable_by(user=user, candidate=candidate):
        return True
    side = match_side_of(user=user, candidate=candidate)
    if side is None:
        return False
    if (side == "family" and in_case) or (side == "seeker" and in_posting):
        return True
    shared = match_shared_photos(candidate=candidate, side=side)
    return photo.pk in {p.pk for p in shared}


# --- Live progress --------------------------------------------------------------


def match_progress_of_photos(photo_ids: Iterable[int]) -> dict[int, str]:
    """Photo id → the state of its newest match job (queued, running, done, failed).

    Only the progress of the search is told, never its result: a family learns
    of a possible match through a notice, after the matching has decided.
    """
    progress: dict[int, str] = {}
    jobs = (
        MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face__photo_id__in=list(photo_ids))
        .order_by("face__photo_id", "-created_at", "-pk")
        .values_list("face__photo_id", "status")
    )
    for photo_id, status in jobs:
        progress.setdefault(photo_id, status)
    return progress


#: What the photo page says about the search for matches: its progress, never its result.
MATCH_PROGRESS_LABELS = {
    "queued": _("Waiting to search for possible matches"),
    "running": _("Searching for possible matches…"),
    "done": _("Search for possible matches done"),
    "failed": _("Search for possible matches will be retried"),
}


def photo_states(*, user: AnyUser, ids: list[int]) -> list[dict[str, object]]:
    """Face state of each photo in ``ids`` that ``user`` may manage (for live updates)."""
    photos = [
        photo
        for photo in Photo.objects.filter(pk__in=ids[:200]).select_related(
            "case", "seeker_posting"
        )
        if photo_manageable_by(user=user, photo=photo)
    ]
    progress = match_progress_of_photos(photo.pk for photo in photos)
    return [
        {
            "id": photo.pk,
            "state": photo.face_state,
            "label": str(photo.get_face_state_display()),
            "needs_pick": photo.face_state in Photo.NEEDS_PICK,
            "match_state": progress.get(photo.pk, ""),
            "match_label": str(MATCH_PROGRESS_LABELS.get(progress.get(photo.pk, ""), "")),
        }
        for photo in photos
    ]


def recent_reunions(*, limit: int = 10) -> list[Candidate]:
    """The latest reunions (a DNA match), newest first, for the volunteers' dashboard.

    Each is a reunited candidate with its case (whose page is public, saying the child was
    found) and its DNA test; the seeker's side is not shown here.
    """
    return list(
        Candidate.objects.filter(status=Candidate.Status.REUNITED)
        .select_related("case", "dna_test")
        .order_by(F("dna_test__result_at").desc(nulls_last=True), "-updated_at")[:limit]
    )


def reunions_count() -> int:
    """Every reunion recorded through a DNA match."""
    return Candidate.objects.filter(status=Candidate.Status.REUNITED).count()


def dna_guidance() -> DnaGuidance | None:
    """What the organisation tells both sides about a DNA test (set in the admin), if it has."""
    return DnaGuidance.objects.order_by("-updated_at").first()


def match_own_photos(*, candidate: Candidate, side: str) -> list[Photo]:
    """A side's own photos that the other side now sees: shown beside the other's, so the
    family compares their own child's photos with the person's, and the seeker theirs."""
    return match_shared_photos(candidate=candidate, side="seeker" if side == "family" else "family")


def match_status_word(*, candidate: Candidate, dna_test: DnaTest | None) -> str:
    """The one status word the match page shows: where the two sides stand, in the page's
    words (never "confirmed" beside "not yet certain")."""
    if candidate.status == Candidate.Status.REUNITED:
        return str(_("Reunited: the DNA test confirms it"))
    if dna_test is not None and dna_test.status == DnaTest.Status.SAMPLES_COLLECTED:
        return str(_("Waiting for the DNA result"))
    if dna_test is not None and dna_test.result == DnaTest.Result.INCONCLUSIVE:
        return str(_("A new DNA test is needed"))
    return str(_("Not yet certain: a DNA test is next"))


def message_threads_of(*, user, candidate: Candidate) -> list[str]:
    """The message threads ``user`` reads and writes on ``candidate``: a side its own, a
    volunteer who may review it both; none before a confirmation or after it ended."""
    if not getattr(user, "is_authenticated", False) or candidate.status not in GRANTED_STATUSES:
        return []
    side = match_side_of(user=user, candidate=candidate)
    if side is not None:
        return [side]
    if candidate_reviewable_by(user=user, candidate=candidate):
        return [MatchMessage.Thread.FAMILY, MatchMessage.Thread.SEEKER]
    return []


def match_messages(*, candidate: Candidate, thread: str) -> QuerySet[MatchMessage]:
    """One thread of a candidate, oldest first, with who wrote each message."""
    return MatchMessage.objects.filter(candidate=candidate, thread=thread).select_related(
        "author").order_by("created_at", "pk")
