"""Faces: detected and embedded by the workers, or picked by a person.

Flow: ``photo_process`` (detect, embed the face when there is one) or
``face_pick`` + ``face_embed`` (a person chose the face) → ``face_schedule_matching``.
The face pipeline itself (``matching.faces``) knows no database; these services
read the stored photo, run it, and store what it found.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from families.audit import audit_record
from families.models import Photo, User
from families.selectors import photo_manageable_by
from matching import queueing
from matching.faces import (
    Box,
    Embeddings,
    FaceEngine,
    detect_and_embed,
    embed_region,
    get_engine,
)
from matching.models import Face, MatchJob
from matching.selectors.search import centring_current
from matching.services.centring import centring_fields
from matching.services.facts import face_facts
from matching.services.match_jobs import (
    enqueue_match_job,
    face_schedule_matching,
    job_done,
    job_failed,
    job_started,
)

logger = logging.getLogger(__name__)


def _embed_face(engine: FaceEngine, face: Face) -> Embeddings:
    """The embeddings of a face's box in its stored photo, turned upright as it was found."""
    with face.photo.image.open("rb") as handle:
        return embed_region(
            engine, handle, Box(face.box_x, face.box_y, face.box_w, face.box_h),
            rotation=face.rotation,
        )


def photo_process(*, match_job_id: int, photo_id: int) -> list[int]:
    """Detects the faces of a photo and embeds the face when there is exactly one.

    Idempotent: faces found automatically by an earlier run are replaced; a
    face a person picked is kept. Returns the ids of the embedded faces, each
    of which gets a match job.
    """
    job = job_started(match_job_id)
    photo = Photo.objects.select_related("case", "seeker_posting").filter(pk=photo_id).first()
    if job is None or photo is None:
        return []
    Photo.objects.filter(pk=photo.pk).update(face_state=Photo.FaceState.PROCESSING)
    try:
        engine = get_engine()
        with photo.image.open("rb") as handle:
            detected, embedding = detect_and_embed(engine, handle)
    except Exception as error:
        job_failed(job, error, photo)
        raise

    with transaction.atomic():
        photo = Photo.objects.select_for_update(of=("self",)).select_related(
            "case", "seeker_posting"
        ).get(pk=photo_id)
        photo.faces.filter(picked_by__isnull=True).delete()
        # A face a person picked wins over the detector: its boxes are not brought back.
        picked = photo.faces.filter(picked_by__isnull=False).exists()
        created = []
        facts = face_facts(photo, embedded=embedding is not None)
        # Centred with the current centring as it is stored (raw kept beside it).
        vectors = {} if embedding is None else centring_fields(
            sface=embedding.sface, dlib=embedding.dlib, age_in_photo=facts["age_in_photo"],
            side=facts["side"], centring=centring_current(engine.model_version),
        )
        for face in [] if picked else detected:
            embed_this = embedding is not None
            created.append(Face.objects.create(
                photo=photo,
                box_x=face.box.x, box_y=face.box.y, box_w=face.box.w, box_h=face.box.h,
                landmarks={k: list(v) for k, v in face.landmarks.items()},
                rotation=face.rotation,
                detector_confidence=face.confidence,
                **vectors,
                model_name=engine.model_name if embed_this else "",
                model_version=engine.model_version if embed_this else "",
                **facts,
            ))
        if picked or len(detected) == 1:
            state, detail = Photo.FaceState.FACE_FOUND, ""
        elif not detected:
            state, detail = Photo.FaceState.NO_FACE, "No face was found: pick the face by hand."
        else:
            state = Photo.FaceState.SEVERAL_FACES
            detail = f"{len(detected)} faces were found: pick the right one."
        Photo.objects.filter(pk=photo.pk).update(face_state=state, face_state_detail=detail)
        job_done(job)
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
                **face_facts(photo, embedded=False),
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
        transaction.on_commit(
            lambda: enqueue_match_job(queueing.enqueue_face_embedding, job.pk, face.pk)
        )
    return job


def face_embed(*, match_job_id: int, face_id: int) -> int | None:
    """Embeds one face's region (a picked face, or reindex) and queues its matching.

    Returns the face id, or ``None`` if the face was removed meanwhile.
    """
    job = job_started(match_job_id)
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if job is None or face is None:
        return None
    try:
        engine = get_engine()
        embedding = _embed_face(engine, face)
    except Exception as error:
        job_failed(job, error)
        raise
    with transaction.atomic():
        face = _embedding_store(face_id=face_id, embedding=embedding, engine=engine)
        job_done(job)
        if face is None:
            return None
        face_schedule_matching(actor=None, face=face)
    return face.pk


def _embedding_store(
    *, face_id: int, embedding: Embeddings, engine: FaceEngine
) -> Face | None:
    """Stores a new embedding on a face (inside the caller's transaction), facts refreshed.

    ``None`` when the face was removed while its region was being embedded.
    """
    face = Face.objects.select_for_update().filter(pk=face_id).first()
    if face is None:
        return None
    photo = Photo.objects.select_related("case", "seeker_posting").get(pk=face.photo_id)
    facts = face_facts(photo, embedded=True)
    vectors = centring_fields(
        sface=embedding.sface, dlib=embedding.dlib, age_in_photo=facts["age_in_photo"],
        side=facts["side"], centring=centring_current(engine.model_version),
    )
    for name, value in {**facts, **vectors}.items():
        setattr(face, name, value)
    face.model_name = engine.model_name
    face.model_version = engine.model_version
    face.save()
    return face


def face_reembed(*, face_id: int, actor: User | None = None) -> bool:
    """Recomputes one face's embedding with the current pipeline (``manage.py reindex``).

    The face keeps its box and turn; its facts are refreshed with it, and its
    matching is queued: matching compares only faces of one version, so each
    pair is compared once the later of its two faces is reindexed, and a person
    is matched with all their photos once the last of them is (until then the
    match job of their newer faces waits). Returns whether an embedding was stored.
    """
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if face is None:
        return False
    engine = get_engine()
    embedding = _embed_face(engine, face)
    with transaction.atomic():
        previous = face.model_version
        face = _embedding_store(face_id=face_id, embedding=embedding, engine=engine)
        if face is None:
            return False
        audit_record(
            actor=actor, action="face.reindexed", obj=face,
            detail={"model_version": engine.model_version, "previous": previous},
        )
        face_schedule_matching(actor=actor, face=face)
    return True
