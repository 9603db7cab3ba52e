"""Matching a face: search the other side, combine every photo of both people, rank.

``face_match`` searches the other side's faces that could be the same person
(sex, birth years, consent), combines all photos of both people, and records one
candidate per (case, seeker posting) that is within the loose distance for its
age gap and in the top few of either person (``matching.ranking``). Only faces
of the current pipeline version are compared (``Face.model_version``); a person
with a face still of another version waits for ``manage.py reindex``, which
queues their matching again.
"""

from __future__ import annotations

import logging

import numpy as np
from django.conf import settings
from django.db import transaction

from families.audit import audit_record
from families.models import MissingChildCase, Photo, User
from matching import ranking, selectors
from matching.faces import current_model_version
from matching.models import Candidate, Face, MatchJob, Side
from matching.services.candidates import candidate_record
from matching.services.match_jobs import (
    face_schedule_matching,
    job_done,
    job_failed,
    job_started,
    photo_schedule_processing,
)

logger = logging.getLogger(__name__)


def _facts_of(face: Face, side: str) -> selectors.PersonFacts:
    return selectors.PersonFacts(
        side=side, sex=face.sex,
        birth_year_min=face.birth_year_min, birth_year_max=face.birth_year_max,
    )


def _rank_among(
    person_faces: dict[int, tuple[np.ndarray, float | None]],
    facts: selectors.PersonFacts,
    distance: float,
    *,
    exclude_owner: int,
    top_k: int,
    model_version: str,
) -> int:
    """The rank the other person at ``distance`` has among everyone ``person_faces`` could be.

    Counts people strictly closer than ``distance`` over all the person's faces,
    stopping once more than ``top_k`` are found (the rank is then "not in the top").
    """
    closer: set[int] = set()
    for embedding, _age in person_faces.values():
        for neighbour in selectors.faces_nearest(
            embedding=embedding, facts=facts, max_distance=distance,
            limit=max(settings.MATCH_SEARCH_LIMIT, 4 * top_k), model_version=model_version,
        ):
            if neighbour.distance < distance and neighbour.owner_id != exclude_owner:
                closer.add(neighbour.owner_id)
        if len(closer) >= top_k:
            break
    return 1 + len(closer)


def face_match(*, match_job_id: int, face_id: int) -> list[int]:
    """Matches one face against the other side and records the candidates.

    Searches the other side's faces that could be the same person (sex,
    birth years, consent), combines all photos of both people, and creates or
    updates one candidate per (case, seeker posting) that is within the loose
    distance for its age gap and in the top few of either person. Returns the
    ids of the candidates created or updated. Idempotent.
    """
    job = job_started(match_job_id)
    if job is None:
        return []
    try:
        return _face_match(job, face_id)
    except Exception as error:
        job_failed(job, error)
        raise


def _face_match(job: MatchJob, face_id: int) -> list[int]:
    params = ranking.RankingParameters.from_settings()
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if face is None or face.embedding is None or not face.searchable:
        job_done(job)
        return []
    side = face.side
    owner_id = face.photo.case_id if side == Side.CASE else face.photo.seeker_posting_id
    version = current_model_version()
    if face.model_version != version or selectors.owners_waiting_for_reindex(
        side=side, owner_ids=[owner_id], model_version=version
    ):
        # Distances between versions mean nothing: reindexing the faces queues this again.
        logger.info("face %s: waits for reindex to %s", face.pk, version)
        job_done(job)
        return []
    there = selectors.other_side(side)
    my_facts = _facts_of(face, there)

    # Who this face brings closer: everyone within the loosest distance.
    neighbours = selectors.faces_nearest(
        embedding=face.embedding, facts=my_facts, max_distance=params.distance_max,
        model_version=version,
    )
    # People with a face still of another version wait too: their reindex matches them.
    near = {n.owner_id for n in neighbours}
    waiting = selectors.owners_waiting_for_reindex(
        side=there, owner_ids=near, model_version=version
    )
    touched = sorted(near - waiting)
    my_faces = selectors.faces_of_person(side=side, owner_id=owner_id, model_version=version)
    if face.pk not in my_faces or not touched:
        job_done(job)
        return []
    # My ranking over everyone any of my faces is near, with all photos combined.
    near_me: set[int] = set(touched)
    for other_face, (embedding, _age) in my_faces.items():
        if other_face != face.pk:
            near_me.update(
                n.owner_id for n in selectors.faces_nearest(
                    embedding=embedding, facts=my_facts, max_distance=params.distance_max,
                    model_version=version,
                )
            )
    near_me -= selectors.owners_waiting_for_reindex(
        side=there, owner_ids=near_me - near, model_version=version
    ) | waiting
    their_faces = selectors.faces_of_people(
        side=there, owner_ids=near_me, model_version=version
    )
    pairs = {
        other: ranking.closest_pair(my_faces, faces_of_other)
        for other, faces_of_other in their_faces.items()
    }
    pairs = {other: pair for other, pair in pairs.items() if pair is not None}
    my_distances = {other: pair.distance for other, pair in pairs.items()}

    decisions: list[tuple[int, ranking.PairDistance]] = []
    for other in touched:
        pair = pairs.get(other)
        if pair is None:
            continue
        threshold = ranking.candidate_threshold(pair.age_gap_years, params)
        if pair.distance > threshold:
            continue
        rank_for_me = ranking.rank_of(
            pair.distance, [d for o, d in my_distances.items() if o != other]
        )
        rank_for_them = None
        if rank_for_me > params.top_k:
            other_face_any = Face.objects.get(pk=pair.face_b)
            rank_for_them = _rank_among(
                their_faces[other], _facts_of(other_face_any, side), pair.distance,
                exclude_owner=owner_id, top_k=params.top_k, model_version=version,
            )
        if ranking.is_candidate(
            pair=pair, rank_for_a=rank_for_me, rank_for_b=rank_for_them, params=params
        ):
            decisions.append((other, pair))

    # Existing candidates for the touched pairs are kept up to date even if they
    # fall out of the top few: a candidate a volunteer may be reviewing never vanishes.
    existing_others = set(_existing_candidates(side, owner_id, touched))
    chosen = {other for other, _pair in decisions}
    for other in sorted(existing_others - chosen):
        pair = pairs.get(other)
        if pair is not None:
            decisions.append((other, pair))

    ids = []
    with transaction.atomic():
        for other, pair in sorted(decisions):
            case_id, seeker_id = (owner_id, other) if side == Side.CASE else (other, owner_id)
            case_face, seeker_face = (
                (pair.face_a, pair.face_b) if side == Side.CASE else (pair.face_b, pair.face_a)
            )
            candidate = candidate_record(
                case_id=case_id, seeker_posting_id=seeker_id,
                distance=pair.distance, case_face_id=case_face, seeker_face_id=seeker_face,
                age_gap_years=pair.age_gap_years, model_version=face.model_version,
                score=ranking.score(pair.distance, pair.age_gap_years, params),
            )
            ids.append(candidate.pk)
        job_done(job)
    logger.info(
        "face %s: %d people near, %d candidate(s) recorded", face.pk, len(touched), len(ids)
    )
    return ids


def _existing_candidates(side: str, owner_id: int, others: list[int]) -> list[int]:
    if side == Side.CASE:
        return list(Candidate.objects.filter(
            case_id=owner_id, seeker_posting_id__in=others
        ).values_list("seeker_posting_id", flat=True))
    return list(Candidate.objects.filter(
        seeker_posting_id=owner_id, case_id__in=others
    ).values_list("case_id", flat=True))


def faces_rematch_all(*, actor: User | None = None, batch: int = 1000) -> int:
    """Queues a match job for every searchable face of the current pipeline version
    (``manage.py rematch``; faces of another version are matched by ``reindex``)."""
    count = 0
    last_id = 0
    version = current_model_version()
    while True:
        chunk = list(
            Face.objects.filter(
                pk__gt=last_id, searchable=True, embedding__isnull=False, model_version=version
            ).order_by("pk")[:batch]
        )
        if not chunk:
            return count
        with transaction.atomic():
            for face in chunk:
                face_schedule_matching(actor=actor, face=face)
        count += len(chunk)
        last_id = chunk[-1].pk


def case_rematch(*, actor: User, case: MissingChildCase) -> int:
    """Runs matching again for every face of a case (admin); photos without a face are redone.

    Returns how many jobs were queued.
    """
    with transaction.atomic():
        queued = 0
        for photo in case.photos.all():
            embedded = photo.faces.filter(embedding__isnull=False, searchable=True)
            if embedded.exists():
                for face in embedded:
                    queued += face_schedule_matching(actor=actor, face=face) is not None
            elif photo.face_state not in Photo.NEEDS_PICK:
                photo_schedule_processing(actor=actor, photo=photo)
                queued += 1
        audit_record(actor=actor, action="case.rematch_requested", obj=case,
                     detail={"jobs": queued})
    return queued
