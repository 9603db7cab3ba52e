"""What volunteers review: the queue of candidates, and a candidate's photos in pairs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from families.models import MATCHABLE_STATUSES, User
from families.places import codes_named, in_codes
from matching import ranking
from matching.faces import current_model_version
from matching.models import Candidate, Face, Side
from matching.selectors.search import (
    PersonFacts,
    centring_version_current,
    dlib_embeddings,
    fusion_pool,
    ranking_parameters,
)


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
