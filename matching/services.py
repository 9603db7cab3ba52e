"""Matching operations that change state: faces, match jobs and candidates.

Jobs call these with ids; each re-reads its rows, does its work inside
``transaction.atomic`` and enqueues follow-up work with ``on_commit``. Every
step is idempotent: running a job twice (an RQ retry after a worker died,
``rematch``, ``reconcile``) leaves the same rows as running it once.

Flow: ``photo_process`` (detect, embed one face) or ``face_pick`` + ``face_embed``
(a person chose the face) → ``face_schedule_matching`` → ``face_match``, which
searches the other side and creates or updates one candidate per (case, seeker
posting). ``faces_refresh_facts`` keeps the facts copied onto faces in step
with the case or posting.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.models import (
    MATCHABLE_STATUSES,
    CaseStatus,
    MissingChildCase,
    Photo,
    SeekerPosting,
    User,
)
from families.selectors import photo_manageable_by
from families.services import audit_record
from matching import faces, notices, queueing, ranking, selectors
from matching.deepface_engine import EMBED_CROP_MARGIN, EMBED_CROP_SIDE
from matching.faces import Box
from matching.images import decode_region, decode_scaled
from matching.models import Candidate, DnaTest, Face, MatchJob, Review, Side

logger = logging.getLogger(__name__)

#: Long side of the copy decoded for the detector: 400 px was as accurate as 640 px and
#: faster on ../shared/faces/pairs.csv (docs/BENCHMARKS.md, bench/face_pipeline.py).
DETECT_DECODE_SIDE = 400


# --- Face processing -----------------------------------------------------------


def photo_schedule_processing(*, actor, photo: Photo) -> MatchJob:
    """Marks the photo waiting and queues face detection once the upload commits."""
    with transaction.atomic():
        photo.face_state = Photo.FaceState.WAITING
        photo.face_state_detail = ""
        photo.save(update_fields=["face_state", "face_state_detail", "updated_at"])
        job = MatchJob.objects.create(kind=MatchJob.Kind.PROCESS_PHOTO, photo=photo)
        audit_record(actor=actor, action="photo.processing_scheduled", obj=photo)
        transaction.on_commit(lambda: _enqueue(queueing.enqueue_photo_processing, job.pk, photo.pk))
    return job


def _enqueue(enqueue: Callable[[int, int], str], match_job_id: int, object_id: int) -> None:
    from redis.exceptions import RedisError

    try:
        rq_id = enqueue(match_job_id, object_id)
    except RedisError as error:
        # The row is committed: the upload is accepted, and `reconcile` queues it later.
        logger.warning("queue unavailable, match job %s left for reconcile: %s",
                       match_job_id, error)
        return
    MatchJob.objects.filter(pk=match_job_id).update(rq_job_id=rq_id)


def _owner(photo: Photo) -> MissingChildCase | SeekerPosting:
    return photo.case if photo.case_id else photo.seeker_posting


def _face_facts(photo: Photo, *, embedded: bool) -> dict[str, Any]:
    """The facts a face carries for filtered search, from its case or posting."""
    owner = _owner(photo)
    return {
        "side": photo.side,
        "sex": owner.sex,
        "birth_year_min": owner.birth_year_min,
        "birth_year_max": owner.birth_year_max,
        "age_in_photo": photo.age_years(),
        "searchable": bool(embedded and owner.is_matchable and photo.use_in_matching),
    }


def _job_started(match_job_id: int) -> MatchJob | None:
    """Marks the job running; ``None`` if its row is gone (its photo or face was deleted)."""
    job = MatchJob.objects.filter(pk=match_job_id).first()
    if job is None:
        logger.info("match job %s: its photo or face was deleted, nothing to do", match_job_id)
        return None
    MatchJob.objects.filter(pk=job.pk).update(
        status=MatchJob.Status.RUNNING, started_at=timezone.now(), attempts=job.attempts + 1,
        finished_at=None,
    )
    return job


def _job_done(job: MatchJob) -> None:
    MatchJob.objects.filter(pk=job.pk).update(
        status=MatchJob.Status.DONE, finished_at=timezone.now(), error=""
    )


def _record_failure(job: MatchJob, error: BaseException, photo: Photo | None = None) -> None:
    """Keeps the failure visible to admins (the match job's ``error``); RQ retries the job."""
    MatchJob.objects.filter(pk=job.pk).update(
        status=MatchJob.Status.FAILED,
        finished_at=timezone.now(),
        error="".join(traceback.format_exception(error))[-4000:],
    )
    if photo is not None:
        Photo.objects.filter(pk=photo.pk).update(
            face_state=Photo.FaceState.FAILED,
            face_state_detail="Face processing failed; it will be retried.",
        )


def _embed_region(engine: faces.FaceEngine, photo: Photo, box: Box) -> np.ndarray:
    """The embedding of ``box`` (stored-photo pixels), decoded at the size the model needs."""
    with photo.image.open("rb") as handle:
        region, inner = decode_region(
            handle, box, margin=EMBED_CROP_MARGIN, min_side=EMBED_CROP_SIDE
        )
    return engine.embed(region, inner)


def detect_and_embed(
    engine: faces.FaceEngine, handle, *, detect_side: int = DETECT_DECODE_SIDE, pick_largest=False
) -> tuple[list[faces.DetectedFace], np.ndarray | None]:
    """Detects faces on a small decoded copy; embeds the face from its full-size region if alone.

    Boxes are returned in stored-photo pixels. Shared by the workers, the
    calibration command and the benchmark so all three measure the same code.
    ``pick_largest`` embeds the largest of several faces, as a person picking
    the face would (calibration and benchmarks only; workers wait for the person).
    """
    small, scale = decode_scaled(handle, detect_side)
    height, width = round(small.shape[0] / scale), round(small.shape[1] / scale)
    detected = [
        faces.DetectedFace(
            box=face.box.scaled(1 / scale).clipped(width, height),
            confidence=face.confidence,
            landmarks={
                name: (round(x / scale), round(y / scale))
                for name, (x, y) in face.landmarks.items()
            },
        )
        for face in engine.detect(small)
    ]
    if not detected or (len(detected) > 1 and not pick_largest):
        return detected, None
    face = max(detected, key=lambda found: found.box.w * found.box.h)
    handle.seek(0)
    region, inner = decode_region(
        handle, face.box, margin=EMBED_CROP_MARGIN, min_side=EMBED_CROP_SIDE
    )
    return detected, engine.embed(region, inner)


def photo_process(*, match_job_id: int, photo_id: int) -> list[int]:
    """Detects the faces of a photo and embeds the face when there is exactly one.

    Idempotent: faces found automatically by an earlier run are replaced; a
    face a person picked is kept. Returns the ids of the embedded faces, each
    of which gets a match job.
    """
    job = _job_started(match_job_id)
    photo = Photo.objects.select_related("case", "seeker_posting").filter(pk=photo_id).first()
    if job is None or photo is None:
        return []
    Photo.objects.filter(pk=photo.pk).update(face_state=Photo.FaceState.PROCESSING)
    try:
        engine = faces.get_engine()
        with photo.image.open("rb") as handle:
            detected, embedding = detect_and_embed(engine, handle)
    except Exception as error:
        _record_failure(job, error, photo)
        raise

    with transaction.atomic():
        photo = Photo.objects.select_for_update(of=("self",)).select_related(
            "case", "seeker_posting"
        ).get(pk=photo_id)
        photo.faces.filter(picked_by__isnull=True).delete()
        # A face a person picked wins over the detector: its boxes are not brought back.
        picked = photo.faces.filter(picked_by__isnull=False).exists()
        created = []
        for face in [] if picked else detected:
            embed_this = embedding is not None
            created.append(Face.objects.create(
                photo=photo,
                box_x=face.box.x, box_y=face.box.y, box_w=face.box.w, box_h=face.box.h,
                landmarks={k: list(v) for k, v in face.landmarks.items()},
                detector_confidence=face.confidence,
                embedding=embedding if embed_this else None,
                model_name=engine.model_name if embed_this else "",
                model_version=engine.model_version if embed_this else "",
                **_face_facts(photo, embedded=embed_this),
            ))
        if picked or len(detected) == 1:
            state, detail = Photo.FaceState.FACE_FOUND, ""
        elif not detected:
            state, detail = Photo.FaceState.NO_FACE, "No face was found: pick the face by hand."
        else:
            state = Photo.FaceState.SEVERAL_FACES
            detail = f"{len(detected)} faces were found: pick the right one."
        Photo.objects.filter(pk=photo.pk).update(face_state=state, face_state_detail=detail)
        _job_done(job)
        embedded = [face for face in created if face.embedding is not None]
        for face in embedded:
            face_schedule_matching(actor=None, face=face)
    logger.info(
        "photo %s: %d face(s) detected, %d embedded", photo.pk, len(detected), len(embedded)
    )
    return [face.pk for face in embedded]


def face_pick(
    *, actor: User, photo: Photo, face_id: int | None = None, box: Box | None = None
) -> MatchJob:
    """A person chooses the face of a photo: a detected box (``face_id``) or a drawn ``box``.

    The other boxes of the photo are removed, the photo says "face found", and
    a job on the face queue embeds the region (the model lives only in the
    workers) and then matches it. Raises ``PermissionDenied`` unless the actor
    owns the photo or is a volunteer, and ``ValidationError`` for a bad choice.
    """
    if not photo_manageable_by(user=actor, photo=photo):
        raise PermissionDenied("Only the photo's owner or a volunteer may pick its face.")
    if (face_id is None) == (box is None):
        raise ValidationError("Pick a detected face or draw a box, not both or neither.")
    with transaction.atomic():
        photo = Photo.objects.select_for_update(of=("self",)).select_related(
            "case", "seeker_posting"
        ).get(pk=photo.pk)
        if face_id is not None:
            try:
                face = photo.faces.get(pk=face_id)
            except Face.DoesNotExist:
                raise ValidationError("That face is not in this photo.") from None
            face.picked_by = actor
            face.save(update_fields=["picked_by"])
        else:
            if box.w < 8 or box.h < 8:
                raise ValidationError("The box is too small to hold a face.")
            clipped = box.clipped(photo.width, photo.height)
            face = Face.objects.create(
                photo=photo, picked_by=actor,
                box_x=clipped.x, box_y=clipped.y, box_w=clipped.w, box_h=clipped.h,
                **_face_facts(photo, embedded=False),
            )
        photo.faces.exclude(pk=face.pk).delete()
        Photo.objects.filter(pk=photo.pk).update(
            face_state=Photo.FaceState.FACE_FOUND, face_state_detail=""
        )
        job = MatchJob.objects.create(kind=MatchJob.Kind.PROCESS_PHOTO, photo=photo, face=face)
        audit_record(
            actor=actor, action="face.picked", obj=photo,
            detail={"face": face.pk, "drawn": box is not None,
                    "box": [face.box_x, face.box_y, face.box_w, face.box_h]},
        )
        transaction.on_commit(lambda: _enqueue(queueing.enqueue_face_embedding, job.pk, face.pk))
    return job


def face_embed(*, match_job_id: int, face_id: int) -> int | None:
    """Embeds one face's region (a picked face, or reindex) and queues its matching.

    Returns the face id, or ``None`` if the face was removed meanwhile.
    """
    job = _job_started(match_job_id)
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if job is None or face is None:
        return None
    try:
        engine = faces.get_engine()
        embedding = _embed_region(
            engine, face.photo, Box(face.box_x, face.box_y, face.box_w, face.box_h)
        )
    except Exception as error:
        _record_failure(job, error)
        raise
    with transaction.atomic():
        face = _embedding_store(face_id=face_id, embedding=embedding, engine=engine)
        _job_done(job)
        if face is None:
            return None
        face_schedule_matching(actor=None, face=face)
    return face.pk


def _embedding_store(
    *, face_id: int, embedding: np.ndarray, engine: faces.FaceEngine
) -> Face | None:
    """Stores a new embedding on a face (inside the caller's transaction), facts refreshed.

    ``None`` when the face was removed while its region was being embedded.
    """
    face = Face.objects.select_for_update().filter(pk=face_id).first()
    if face is None:
        return None
    photo = Photo.objects.select_related("case", "seeker_posting").get(pk=face.photo_id)
    for name, value in _face_facts(photo, embedded=True).items():
        setattr(face, name, value)
    face.embedding = embedding
    face.model_name = engine.model_name
    face.model_version = engine.model_version
    face.save()
    return face


# --- Matching ------------------------------------------------------------------


def face_schedule_matching(*, actor: User | None, face: Face) -> MatchJob | None:
    """Queues a match job for an embedded, searchable face once the transaction commits."""
    if face.embedding is None or not face.searchable:
        return None
    with transaction.atomic():
        job = MatchJob.objects.create(kind=MatchJob.Kind.MATCH_FACE, face=face)
        audit_record(actor=actor, action="face.matching_scheduled", obj=face)
        transaction.on_commit(lambda: _enqueue(queueing.enqueue_face_matching, job.pk, face.pk))
    return job


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
) -> int:
    """The rank the other person at ``distance`` has among everyone ``person_faces`` could be.

    Counts people strictly closer than ``distance`` over all the person's faces,
    stopping once more than ``top_k`` are found (the rank is then "not in the top").
    """
    closer: set[int] = set()
    for embedding, _age in person_faces.values():
        for neighbour in selectors.faces_nearest(
            embedding=embedding, facts=facts, max_distance=distance,
            limit=max(settings.MATCH_SEARCH_LIMIT, 4 * top_k),
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
    job = _job_started(match_job_id)
    if job is None:
        return []
    try:
        return _face_match(job, face_id)
    except Exception as error:
        _record_failure(job, error)
        raise


def _face_match(job: MatchJob, face_id: int) -> list[int]:
    params = ranking.RankingParameters.from_settings()
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if face is None or face.embedding is None or not face.searchable:
        _job_done(job)
        return []
    side = face.side
    owner_id = face.photo.case_id if side == Side.CASE else face.photo.seeker_posting_id
    there = selectors.other_side(side)
    my_facts = _facts_of(face, there)

    # Who this face brings closer: everyone within the loosest distance.
    neighbours = selectors.faces_nearest(
        embedding=face.embedding, facts=my_facts, max_distance=params.distance_max
    )
    touched = sorted({n.owner_id for n in neighbours})
    my_faces = selectors.faces_of_person(side=side, owner_id=owner_id)
    if face.pk not in my_faces or not touched:
        _job_done(job)
        return []
    # My ranking over everyone any of my faces is near, with all photos combined.
    near_me: set[int] = set(touched)
    for other_face, (embedding, _age) in my_faces.items():
        if other_face != face.pk:
            near_me.update(
                n.owner_id for n in selectors.faces_nearest(
                    embedding=embedding, facts=my_facts, max_distance=params.distance_max
                )
            )
    their_faces = selectors.faces_of_people(side=there, owner_ids=near_me)
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
                exclude_owner=owner_id, top_k=params.top_k,
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
        _job_done(job)
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


def candidate_record(
    *,
    case_id: int,
    seeker_posting_id: int,
    distance: float,
    case_face_id: int,
    seeker_face_id: int,
    age_gap_years: float | None,
    model_version: str,
    score: float,
) -> Candidate:
    """Creates the candidate for (case, seeker posting), or updates its scores.

    One row per pair (unique constraint); the row is locked while updated, so
    two workers matching the two sides of one pair at once end with one row
    holding the closest pair. A new candidate puts the case and the posting
    "under review", is audited, and calls ``_on_candidate_created``.
    """
    values = {
        "best_distance": distance, "score": score, "case_face_id": case_face_id,
        "seeker_face_id": seeker_face_id, "age_gap_years": age_gap_years,
        "model_version": model_version,
    }
    with transaction.atomic():
        candidate, created = Candidate.objects.select_for_update().get_or_create(
            case_id=case_id, seeker_posting_id=seeker_posting_id, defaults=values
        )
        if created:
            audit_record(
                actor=None, action="candidate.created", obj=candidate,
                detail={"distance": round(distance, 5), "age_gap_years": age_gap_years,
                        "case": case_id, "seeker_posting": seeker_posting_id},
            )
            _on_candidate_created(candidate)
            return candidate
        if candidate.status == Candidate.Status.ENDED:
            # Both people are matchable again (consent given anew, a case published
            # again): the pair is a new candidate for a volunteer to look at.
            values.update(status=Candidate.Status.PENDING, ended_at=None, ended_reason="",
                          claimed_by=None, claimed_at=None)
            audit_record(actor=None, action="candidate.reopened", obj=candidate,
                         detail={"ended_reason": candidate.ended_reason})
            transaction.on_commit(lambda: _on_candidate_created(candidate))
        changed = [
            name for name, value in values.items()
            if getattr(candidate, name) != value
            and not (isinstance(value, float) and abs(getattr(candidate, name) - value) < 1e-9)
        ]
        if changed:
            for name in changed:
                setattr(candidate, name, values[name])
            candidate.save(update_fields=[*changed, "updated_at"])
    return candidate


def _on_candidate_created(candidate: Candidate) -> None:
    """Hook run when a candidate appears (or reappears after it ended).

    Only volunteers hear of it: neither the family nor the seeker learns
    anything of a candidate, not even its existence, until a volunteer
    confirms it (docs/PRIVACY.md). Anything added must be idempotent.
    """
    notices.candidate_created(candidate)


#: Why a candidate ended: the person who withdrew decides, and nobody else sees it again.
END_REASONS = ("consent_withdrawn", "seeker_posting_withdrawn", "case_withdrawn")


def candidates_end(
    *,
    actor: User | None,
    reason: str,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
) -> list[int]:
    """Ends every candidate of a case or posting that is not reunited or already over.

    Called when a seeker withdraws consent, or a case or posting is withdrawn:
    the candidate leaves every queue, its review, DNA, match, photo and face
    pages answer 404 to everyone but admins, and the notices about it go. A side
    that had been told of it (after a confirmation) hears only that it ended.
    Returns the ids of the candidates ended.
    """
    if (case is None) == (seeker_posting is None) or reason not in END_REASONS:
        raise ValueError("Pass a case or a seeker posting, and a known reason.")
    owner_filter = {"case": case} if case is not None else {"seeker_posting": seeker_posting}
    ended = []
    with transaction.atomic():
        candidates = Candidate.objects.select_for_update().select_related(
            "case", "seeker_posting"
        ).filter(**owner_filter).exclude(
            status__in=(Candidate.Status.REUNITED, Candidate.Status.ENDED,
                        Candidate.Status.REJECTED)
        )
        for candidate in candidates.order_by("pk"):
            was_told = candidate.status == Candidate.Status.CONFIRMED
            previous = candidate.status
            candidate.status = Candidate.Status.ENDED
            candidate.ended_at = timezone.now()
            candidate.ended_reason = reason
            candidate.claimed_by = None
            candidate.claimed_at = None
            candidate.save(update_fields=[
                "status", "ended_at", "ended_reason", "claimed_by", "claimed_at", "updated_at"
            ])
            audit_record(actor=actor, action="candidate.ended", obj=candidate,
                         detail={"reason": reason, "from": previous})
            notices.candidate_ended(candidate, was_told=was_told,
                                    ended_by="family" if case is not None else "seeker")
            _people_status_refresh(candidate)
            ended.append(candidate.pk)
    return ended


# --- Facts copied onto faces ------------------------------------------------------


def faces_refresh_facts(
    *,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
    actor: User | None = None,
) -> list[int]:
    """Copies a case's or posting's facts (sex, birth years, consent, status) onto its faces.

    Call after any edit of those facts, a consent change, a status change or a
    photo's ``use_in_matching``/age change. Faces that become searchable, or
    whose filter facts changed while searchable, are matched again (the
    candidates they can reach may differ). Returns the ids of faces rematched.
    """
    if (case is None) == (seeker_posting is None):
        raise ValueError("Pass a case or a seeker posting.")
    owner = case if case is not None else seeker_posting
    filter_field = "photo__case" if case is not None else "photo__seeker_posting"
    rematch = []
    with transaction.atomic():
        owner = type(owner).objects.select_for_update().get(pk=owner.pk)
        for face in Face.objects.select_for_update().select_related("photo").filter(
            **{filter_field: owner}
        ):
            if case is not None:
                face.photo.case = owner
            else:
                face.photo.seeker_posting = owner
            facts = _face_facts(face.photo, embedded=face.embedding is not None)
            changed = [name for name, value in facts.items() if getattr(face, name) != value]
            if not changed:
                continue
            was_searchable = face.searchable
            for name in changed:
                setattr(face, name, facts[name])
            face.save(update_fields=changed)
            if face.searchable and (not was_searchable or set(changed) - {"searchable"}):
                rematch.append(face)
        audit_record(
            actor=actor, action="faces.facts_refreshed", obj=owner,
            detail={"rematched_faces": [face.pk for face in rematch]},
        )
        for face in rematch:
            face_schedule_matching(actor=actor, face=face)
    return [face.pk for face in rematch]


def faces_rematch_all(*, actor: User | None = None, batch: int = 1000) -> int:
    """Queues a match job for every searchable face (``manage.py rematch``)."""
    count = 0
    last_id = 0
    while True:
        chunk = list(
            Face.objects.filter(pk__gt=last_id, searchable=True, embedding__isnull=False)
            .order_by("pk")[:batch]
        )
        if not chunk:
            return count
        with transaction.atomic():
            for face in chunk:
                face_schedule_matching(actor=actor, face=face)
        count += len(chunk)
        last_id = chunk[-1].pk


def face_reembed(*, face_id: int, actor: User | None = None) -> bool:
    """Recomputes one face's embedding with the current model (``manage.py reindex``).

    The face keeps its box; its facts are refreshed with it. Matching is not
    queued here: after a model change every pair must be compared with new
    vectors on both sides, so ``rematch`` runs once the reindex is done.
    Returns whether an embedding was stored.
    """
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if face is None:
        return False
    engine = faces.get_engine()
    embedding = _embed_region(
        engine, face.photo, Box(face.box_x, face.box_y, face.box_w, face.box_h)
    )
    with transaction.atomic():
        face = _embedding_store(face_id=face_id, embedding=embedding, engine=engine)
        if face is None:
            return False
        audit_record(
            actor=actor, action="face.reindexed", obj=face,
            detail={"model_version": engine.model_version},
        )
    return True


# Review and DNA tests ---------------------------------------------------------
# A human and a DNA test stand between a face score and a reunion: volunteers
# claim a candidate, review it, and confirm it (optionally with a second
# volunteer, REVIEW_REQUIRES_SECOND_REVIEWER); a confirmed candidate opens a DNA
# test whose result decides. docs/REVIEW.md says who sees what at each step.


class ReviewRefused(Exception):
    """A review step that can't be taken now (claimed by another, wrong status, missing reason)."""


#: Candidates still waiting for a volunteer's decision.
OPEN_CANDIDATE_STATUSES = (
    Candidate.Status.PENDING,
    Candidate.Status.NEEDS_INFO,
    Candidate.Status.AWAITING_SECOND_REVIEW,
)


def _require_volunteer(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_volunteer):
        raise PermissionDenied("Only volunteers review candidates.")


def _locked_candidate(candidate: Candidate) -> Candidate:
    return (
        Candidate.objects.select_for_update()
        .select_related("case", "seeker_posting")
        .get(pk=candidate.pk)
    )


def _refuse_own(actor: User, candidate: Candidate) -> None:
    """Nobody reviews, or takes a DNA step of, a candidate about their own case or posting."""
    if actor.pk in (candidate.case.family_id, candidate.seeker_posting.owner_id):
        raise ReviewRefused(_("You can't review a possible match about your own posting."))


def _require_confirmed(actor: User, candidate: Candidate) -> None:
    """DNA steps: only on a confirmed candidate, never by one of its two sides."""
    _refuse_own(actor, candidate)
    if candidate.status != Candidate.Status.CONFIRMED:
        raise ReviewRefused(_("Only a confirmed candidate gets a DNA test."))


def _claim_is_live(candidate: Candidate) -> bool:
    if candidate.claimed_by_id is None or candidate.claimed_at is None:
        return False
    return candidate.claimed_at > timezone.now() - timedelta(hours=settings.REVIEW_CLAIM_HOURS)


def candidate_claim(*, actor: User, candidate: Candidate) -> Candidate:
    """Reserves an open candidate for one volunteer, so two never work on it at once.

    A claim older than ``REVIEW_CLAIM_HOURS`` may be taken over.
    """
    _require_volunteer(actor)
    with transaction.atomic():
        candidate = _locked_candidate(candidate)
        _refuse_own(actor, candidate)
        if candidate.status not in OPEN_CANDIDATE_STATUSES:
            raise ReviewRefused(_("This candidate is no longer waiting for review."))
        if _claim_is_live(candidate) and candidate.claimed_by_id != actor.pk:
            raise ReviewRefused(_("Another volunteer is reviewing this candidate."))
        previous = candidate.claimed_by_id
        candidate.claimed_by = actor
        candidate.claimed_at = timezone.now()
        candidate.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        audit_record(actor=actor, action="candidate.claimed", obj=candidate,
                     detail={"previous_claim": previous})
    return candidate


def candidate_release(*, actor: User, candidate: Candidate) -> Candidate:
    """Gives a claimed candidate back to the queue (the claimer or an admin)."""
    _require_volunteer(actor)
    with transaction.atomic():
        candidate = _locked_candidate(candidate)
        _refuse_own(actor, candidate)
        if candidate.claimed_by_id is None:
            return candidate
        if candidate.claimed_by_id != actor.pk and not actor.is_superuser:
            raise ReviewRefused(_("Only the volunteer who claimed this candidate can release it."))
        released = candidate.claimed_by_id
        candidate.claimed_by = None
        candidate.claimed_at = None
        candidate.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        audit_record(actor=actor, action="candidate.released", obj=candidate,
                     detail={"released_claim_of": released})
    return candidate


def candidate_review(
    *, actor: User, candidate: Candidate, decision: str, reason: str = "", note: str = ""
) -> Review:
    """Records a volunteer's decision: reject (with a reason), needs information, or confirm.

    Confirming with ``REVIEW_REQUIRES_SECOND_REVIEWER`` waits for a second,
    different volunteer (``second_confirm``, or ``reject``); a confirmed
    candidate requests its DNA test and tells both sides what they may now see.
    """
    _require_volunteer(actor)
    note = note.strip()
    with transaction.atomic():
        candidate = _locked_candidate(candidate)
        _refuse_own(actor, candidate)
        if candidate.status not in OPEN_CANDIDATE_STATUSES:
            raise ReviewRefused(_("This candidate is no longer waiting for review."))
        if _claim_is_live(candidate) and candidate.claimed_by_id != actor.pk:
            raise ReviewRefused(_("Another volunteer is reviewing this candidate."))
        awaiting_second = candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
        if decision == Review.Decision.REJECT:
            if reason not in Review.Reason.values or reason == Review.Reason.DNA_NO_MATCH:
                raise ReviewRefused(_("Choose the reason for rejecting."))
            if reason == Review.Reason.OTHER and not note:
                raise ReviewRefused(_("Say why in the note."))
            new_status = Candidate.Status.REJECTED
        elif decision == Review.Decision.NEEDS_INFO:
            if not note:
                raise ReviewRefused(_("Say which information is needed in the note."))
            reason, new_status = "", Candidate.Status.NEEDS_INFO
        elif decision == Review.Decision.CONFIRM and not awaiting_second:
            reason = ""
            new_status = (
                Candidate.Status.AWAITING_SECOND_REVIEW
                if settings.REVIEW_REQUIRES_SECOND_REVIEWER
                else Candidate.Status.CONFIRMED
            )
        elif awaiting_second and decision in (
            Review.Decision.SECOND_CONFIRM, Review.Decision.CONFIRM
        ):
            first = candidate.reviews.filter(decision=Review.Decision.CONFIRM).last()
            if first is not None and first.reviewer_id == actor.pk:
                raise ReviewRefused(_("A second, different volunteer must confirm."))
            decision, reason, new_status = (
                Review.Decision.SECOND_CONFIRM, "", Candidate.Status.CONFIRMED
            )
        else:
            raise ReviewRefused(_("This decision is not possible now."))

        review = Review.objects.create(
            candidate=candidate, reviewer=actor, decision=decision, reason=reason, note=note
        )
        previous = candidate.status
        candidate.status = new_status
        candidate.claimed_by = None
        candidate.claimed_at = None
        candidate.save(update_fields=["status", "claimed_by", "claimed_at", "updated_at"])
        audit_record(
            actor=actor, action=f"candidate.review.{decision}", obj=candidate,
            detail={"review": review.pk, "reason": reason, "from": previous, "to": new_status},
        )
        if new_status == Candidate.Status.CONFIRMED:
            _dna_test_open(actor=actor, candidate=candidate)
            notices.candidate_confirmed(candidate, reviewer=actor)
        elif new_status == Candidate.Status.AWAITING_SECOND_REVIEW:
            notices.candidate_awaits_second_review(candidate, first_reviewer=actor)
        _people_status_refresh(candidate)
    return review


def _people_status_refresh(candidate: Candidate) -> None:
    """Keeps the case's and the posting's status in step with their candidates.

    DNA pending while a candidate is confirmed, published otherwise (an open
    candidate changes nothing anyone outside the volunteers can see); reunited,
    withdrawn and draft are never changed here.
    """
    for model, owner_field, obj in (
        (MissingChildCase, "case", candidate.case),
        (SeekerPosting, "seeker_posting", candidate.seeker_posting),
    ):
        current = model.objects.filter(pk=obj.pk).values_list("status", flat=True).first()
        if current not in (CaseStatus.PUBLISHED, CaseStatus.DNA_PENDING):
            continue
        confirmed = Candidate.objects.filter(
            **{owner_field: obj}, status=Candidate.Status.CONFIRMED
        ).exists()
        wanted = CaseStatus.DNA_PENDING if confirmed else CaseStatus.PUBLISHED
        if wanted != current:
            model.objects.filter(pk=obj.pk).update(status=wanted, updated_at=timezone.now())


def _dna_test_open(*, actor: User, candidate: Candidate, lab_reference: str = "") -> DnaTest:
    """Creates the candidate's DNA test, or starts a new round of an inconclusive one."""
    test, created = DnaTest.objects.get_or_create(
        candidate=candidate,
        defaults={"requested_by": actor, "lab_reference": lab_reference},
    )
    if not created:
        test.status = DnaTest.Status.REQUESTED
        test.result = ""
        test.lab_reference = lab_reference or test.lab_reference
        test.requested_by = actor
        test.requested_at = timezone.now()
        test.samples_collected_at = None
        test.result_at = None
        test.save()
    audit_record(actor=actor, action="dna_test.requested", obj=test,
                 detail={"candidate": candidate.pk, "lab_reference": test.lab_reference})
    return test


def dna_test_request(*, actor: User, candidate: Candidate, lab_reference: str = "") -> DnaTest:
    """Requests a new DNA test for a confirmed candidate (after an inconclusive result)."""
    _require_volunteer(actor)
    with transaction.atomic():
        candidate = _locked_candidate(candidate)
        _require_confirmed(actor, candidate)
        existing = DnaTest.objects.filter(candidate=candidate).first()
        if existing is not None and existing.status != DnaTest.Status.RESULT:
            raise ReviewRefused(_("A DNA test is already under way for this candidate."))
        if existing is not None and existing.result != DnaTest.Result.INCONCLUSIVE:
            raise ReviewRefused(_("This DNA test already has a result."))
        test = _dna_test_open(actor=actor, candidate=candidate, lab_reference=lab_reference)
        notices.dna_step(test, kind="dna_requested")
    return test


def dna_test_record_samples(
    *, actor: User, dna_test: DnaTest, collected_at: datetime | None = None,
    lab_reference: str = "",
) -> DnaTest:
    """Records that both samples reached the laboratory (no genetic data is stored)."""
    _require_volunteer(actor)
    with transaction.atomic():
        test = DnaTest.objects.select_for_update().select_related(
            "candidate__case", "candidate__seeker_posting"
        ).get(pk=dna_test.pk)
        _require_confirmed(actor, _locked_candidate(test.candidate))
        if test.status != DnaTest.Status.REQUESTED:
            raise ReviewRefused(_("The samples of this DNA test were already recorded."))
        test.status = DnaTest.Status.SAMPLES_COLLECTED
        test.samples_collected_at = collected_at or timezone.now()
        test.lab_reference = lab_reference.strip() or test.lab_reference
        test.save(update_fields=["status", "samples_collected_at", "lab_reference"])
        audit_record(actor=actor, action="dna_test.samples_collected", obj=test,
                     detail={"candidate": test.candidate_id, "lab_reference": test.lab_reference})
        notices.dna_step(test, kind="dna_samples_collected")
    return test


def dna_test_record_result(
    *, actor: User, dna_test: DnaTest, result: str, result_at: datetime | None = None,
    lab_reference: str = "", note: str = "",
) -> DnaTest:
    """Records the laboratory's answer and what follows from it.

    Match: the candidate, the case and the posting are reunited. No match:
    the candidate is rejected with the reason ``dna_no_match``. Inconclusive:
    the candidate stays confirmed and a new test may be requested.
    """
    _require_volunteer(actor)
    if result not in DnaTest.Result.values:
        raise ReviewRefused(_("Choose the result."))
    with transaction.atomic():
        test = DnaTest.objects.select_for_update().get(pk=dna_test.pk)
        candidate = _locked_candidate(test.candidate)
        _require_confirmed(actor, candidate)
        if test.status != DnaTest.Status.SAMPLES_COLLECTED:
            raise ReviewRefused(_("Record the samples before the result."))
        test.status = DnaTest.Status.RESULT
        test.result = result
        test.result_at = result_at or timezone.now()
        test.lab_reference = lab_reference.strip() or test.lab_reference
        test.save(update_fields=["status", "result", "result_at", "lab_reference"])
        audit_record(actor=actor, action="dna_test.result_recorded", obj=test,
                     detail={"candidate": candidate.pk, "result": result,
                             "lab_reference": test.lab_reference, "note": note})
        if result == DnaTest.Result.MATCH:
            _reunion_record(actor=actor, candidate=candidate, note=note)
        elif result == DnaTest.Result.NO_MATCH:
            Review.objects.create(
                candidate=candidate, reviewer=actor, decision=Review.Decision.REJECT,
                reason=Review.Reason.DNA_NO_MATCH, note=note,
            )
            candidate.status = Candidate.Status.REJECTED
            candidate.save(update_fields=["status", "updated_at"])
            audit_record(actor=actor, action="candidate.rejected_by_dna", obj=candidate,
                         detail={"dna_test": test.pk})
            _people_status_refresh(candidate)
        notices.dna_step(test, kind=f"dna_result_{result}")
    return test


def _reunion_record(*, actor: User, candidate: Candidate, note: str = "") -> None:
    """Marks the candidate, its case and its posting reunited; they leave matching."""
    candidate.status = Candidate.Status.REUNITED
    candidate.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="candidate.reunited", obj=candidate, detail={"note": note})
    for obj in (candidate.case, candidate.seeker_posting):
        # Only a case or posting still in matching: a withdrawn one stays withdrawn.
        type(obj).objects.filter(pk=obj.pk, status__in=MATCHABLE_STATUSES).update(
            status=CaseStatus.REUNITED, updated_at=timezone.now()
        )
        obj.refresh_from_db(fields=["status"])
        audit_record(actor=actor, action=f"{obj._meta.model_name}.reunited", obj=obj,
                     detail={"candidate": candidate.pk})
    faces_refresh_facts(case=candidate.case, actor=actor)
    faces_refresh_facts(seeker_posting=candidate.seeker_posting, actor=actor)


def case_mark_reunited(*, actor: User, case: MissingChildCase, note: str = "") -> MissingChildCase:
    """Marks a case reunited by hand (admin), e.g. a family found outside Reunion."""
    with transaction.atomic():
        case = MissingChildCase.objects.select_for_update().get(pk=case.pk)
        if case.status == CaseStatus.REUNITED:
            return case
        previous = case.status
        case.status = CaseStatus.REUNITED
        case.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="case.reunited", obj=case,
                     detail={"previous_status": previous, "note": note})
        faces_refresh_facts(case=case, actor=actor)
    return case


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


# --- Age-progressed images -----------------------------------------------------------


def _may_manage_case_photo(actor: User, photo: Photo) -> bool:
    return bool(photo.case_id) and photo_manageable_by(user=actor, photo=photo)


def photo_estimate_age_progression(*, actor: User, photo: Photo, target_age: float) -> Photo:
    """Reunion's own estimate of a childhood photo at ``target_age``, stored beside it.

    The estimate is an age-progressed image labelled as an estimate, points to
    its source photo, and carries the target age as its age, so it is matched
    like a photo at that age. It stays off the poster, and out of matching
    unless ``AGE_PROGRESSION_USE_IN_MATCHING`` says otherwise (docs/MATCHING.md:
    no measurement so far shows it helps), until the family decides with
    ``photo_set_estimate_use``. The image is made before the transaction (about
    a second); its face is found and embedded by the workers like any upload.

    Raises ``PermissionDenied`` unless the actor manages the photo's case, and
    ``ValidationError`` for a photo that can't be aged (no age, no face, an estimate).
    """
    from django.core.files.base import ContentFile

    from families.images import normalise_photo
    from matching import age_progression

    if not _may_manage_case_photo(actor, photo):
        raise PermissionDenied("Only the case's family or a volunteer may age its photos.")
    if photo.is_estimate:
        raise ValidationError(_("Make the estimate from a real photo, not from an estimate."))
    source_age = photo.age_years()
    if source_age is None:
        raise ValidationError(_("Give the child's age in this photo first."))
    if not source_age < target_age <= 120:
        raise ValidationError(
            _("Choose a target age older than the child in the photo (%(age)s years).")
            % {"age": f"{source_age:g}"}
        )
    face = photo.faces.order_by("-picked_by_id", "pk").first()
    box = (
        age_progression.FaceBox(face.box_x, face.box_y, face.box_x + face.box_w,
                                face.box_y + face.box_h)
        if face is not None and photo.face_state == Photo.FaceState.FACE_FOUND else None
    )
    with photo.image.open("rb") as handle:
        image = age_progression.decode_rgb(handle.read())
    try:
        result = age_progression.age_progress(
            image, source_age=source_age, target_age=target_age, box=box
        )
    except age_progression.NoFaceFound:
        raise ValidationError(_("No face was found in this photo to age.")) from None
    normalised = normalise_photo(age_progression.encode_jpeg(result.image))
    with transaction.atomic():
        estimate = Photo(
            owner=actor, case=photo.case, kind=Photo.Kind.AGE_PROGRESSED,
            sha256=normalised.sha256, width=normalised.width, height=normalised.height,
            age_in_photo=round(target_age, 1), is_estimate=True, source_photo=photo,
            use_in_matching=settings.AGE_PROGRESSION_USE_IN_MATCHING, use_on_poster=False,
        )
        estimate.image.save("estimate.jpg", ContentFile(normalised.content), save=False)
        try:
            estimate.save()
            audit_record(
                actor=actor, action="photo.age_progression_estimated", obj=estimate,
                detail={"source_photo": photo.pk, "source_age": source_age,
                        "target_age": target_age, "strain_k": round(result.strain, 4)},
            )
            photo_schedule_processing(actor=actor, photo=estimate)
        except Exception:
            estimate.image.delete(save=False)
            raise
    return estimate


def photo_set_estimate_use(
    *, actor: User, photo: Photo, use_in_matching: bool, use_on_poster: bool
) -> Photo:
    """The family's decision on an age-progressed image: used in matching, shown on the poster.

    Its faces are made searchable (and matched) or withdrawn from search at once.
    """
    if not _may_manage_case_photo(actor, photo):
        raise PermissionDenied("Only the case's family or a volunteer may decide on its estimates.")
    if not photo.is_estimate:
        raise ValidationError(_("Only an age-progressed image is an estimate."))
    with transaction.atomic():
        photo = Photo.objects.select_for_update(of=("self",)).select_related("case").get(
            pk=photo.pk
        )
        changed = {
            name: value
            for name, value in (("use_in_matching", use_in_matching),
                                ("use_on_poster", use_on_poster))
            if getattr(photo, name) != value
        }
        if not changed:
            return photo
        for name, value in changed.items():
            setattr(photo, name, value)
        photo.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=actor, action="photo.estimate_use_set", obj=photo, detail=changed)
        if "use_in_matching" in changed:
            faces_refresh_facts(case=photo.case, actor=actor)
    return photo


# --- Reconciling the queues with the database -------------------------------------------
#
# The database is the record of what was accepted; Redis only holds the work in
# flight. If Redis is emptied or restarted, or a worker dies mid-job, the rows
# still say what is unfinished, and ``reconcile_pending`` queues it again under
# the same job ids (derived from the rows), so queueing twice is harmless.

#: Runs of one match job after which it stays failed for an admin to look at.
RECONCILE_MAX_ATTEMPTS = 12
_PENDING_JOB = (MatchJob.Status.QUEUED, MatchJob.Status.RUNNING, MatchJob.Status.FAILED)
_PENDING_PHOTO = (Photo.FaceState.WAITING, Photo.FaceState.PROCESSING, Photo.FaceState.FAILED)


def _rq_worker_alive(connection, name: str | None) -> bool:
    """Whether the worker that started a job still lives (on this machine: its process)."""
    import os
    import socket

    from rq import Worker

    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + (name or "?"),
                                connection=connection) if name else None
    if worker is None:
        return False
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return True


def _rq_job_alive(connection, rq_job_id: str) -> bool:
    """Whether RQ still holds the job and will run it: queued, scheduled, or with a live worker."""
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(rq_job_id, connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return Queue(job.origin, connection=connection).get_job_position(rq_job_id) is not None
    if status in (JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    if status == JobStatus.STARTED:
        return _rq_worker_alive(connection, job.worker_name)
    return False


def _job_enqueuer(job: MatchJob) -> tuple[Callable[[int, int], str], int, str]:
    """How a match job row is queued: the enqueue function, its object id, the job id."""
    if job.kind == MatchJob.Kind.MATCH_FACE:
        return queueing.enqueue_face_matching, job.face_id, f"match-face-{job.pk}"
    if job.face_id:
        return queueing.enqueue_face_embedding, job.face_id, f"embed-face-{job.pk}"
    return queueing.enqueue_photo_processing, job.photo_id, f"process-photo-{job.pk}"


def _requeue(job: MatchJob, actor: User | None, connection) -> None:
    from contextlib import suppress

    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    enqueue, object_id, rq_job_id = _job_enqueuer(job)
    with suppress(NoSuchJobError):
        Job.fetch(rq_job_id, connection=connection).delete()  # a dead or failed leftover
    with transaction.atomic():
        MatchJob.objects.filter(pk=job.pk).update(
            status=MatchJob.Status.QUEUED, finished_at=None, rq_job_id=rq_job_id
        )
        if job.kind == MatchJob.Kind.PROCESS_PHOTO and not job.face_id:
            Photo.objects.filter(pk=job.photo_id, face_state__in=_PENDING_PHOTO).update(
                face_state=Photo.FaceState.WAITING, face_state_detail=""
            )
        audit_record(actor=actor, action="match_job.requeued", obj=job,
                     detail={"status_was": job.status, "attempts": job.attempts})
    enqueue(job.pk, object_id)


def reconcile_pending(*, actor: User | None = None, grace: timedelta | None = None) -> dict:
    """Queues again every piece of accepted work that no queue holds any more.

    Finds match jobs queued, running or failed whose RQ job is gone (Redis
    emptied, a worker killed), photos still waiting for their faces with no
    pending job, embedded searchable faces never matched, and notices never
    emailed; queues each again. Work younger than ``grace`` (its enqueue may be in flight) is left
    alone. One run at a time (a Redis lock). Returns what it did, by kind.
    """
    import django_rq

    grace = timedelta(seconds=settings.RECONCILE_GRACE_SECONDS) if grace is None else grace
    settled_before = timezone.now() - grace
    connection = django_rq.get_connection(settings.FACE_QUEUE)
    report = {"requeued": 0, "photos_scheduled": 0, "faces_scheduled": 0,
              "in_queue": 0, "given_up": 0}
    lock = connection.lock("reunion:reconcile", timeout=600, blocking=False)
    if not lock.acquire():
        logger.info("reconcile: another run holds the lock")
        return {**report, "skipped": True}
    try:
        for job in MatchJob.objects.filter(
            status__in=_PENDING_JOB, created_at__lt=settled_before
        ).order_by("pk"):
            if job.rq_job_id and _rq_job_alive(connection, job.rq_job_id):
                report["in_queue"] += 1
            elif job.attempts >= RECONCILE_MAX_ATTEMPTS:
                report["given_up"] += 1
            else:
                _requeue(job, actor, connection)
                report["requeued"] += 1

        lost_photos = Photo.objects.filter(
            face_state__in=_PENDING_PHOTO, uploaded_at__lt=settled_before
        ).exclude(match_jobs__kind=MatchJob.Kind.PROCESS_PHOTO, match_jobs__face__isnull=True,
                  match_jobs__status__in=_PENDING_JOB)
        for photo in lost_photos.order_by("pk"):
            photo_schedule_processing(actor=actor, photo=photo)
            report["photos_scheduled"] += 1

        unmatched = Face.objects.filter(
            embedding__isnull=False, searchable=True, created_at__lt=settled_before
        ).exclude(match_jobs__kind=MatchJob.Kind.MATCH_FACE)
        for face in unmatched.order_by("pk"):
            if face_schedule_matching(actor=actor, face=face):
                report["faces_scheduled"] += 1

        from families.jobs import notifications_requeue_unsent

        report["emails_requeued"] = notifications_requeue_unsent(grace=grace)
    finally:
        lock.release()
    logger.info("reconcile: %s", report)
    return report
