"""Matching operations that change state: face processing and candidates.

Jobs call these with ids; each re-reads its rows, does its work inside
``transaction.atomic`` and enqueues follow-up work with ``on_commit``.
"""

from __future__ import annotations

import logging
import traceback

import numpy as np
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps

from families.models import Photo
from families.services import audit_record
from matching import faces, queueing
from matching.models import Face, MatchJob

logger = logging.getLogger(__name__)


def load_photo_rgb(photo: Photo) -> np.ndarray:
    """The stored (already normalised) photo as an RGB array."""
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def photo_schedule_processing(*, actor, photo: Photo) -> MatchJob:
    """Marks the photo waiting and queues face detection once the upload commits."""
    with transaction.atomic():
        photo.face_state = Photo.FaceState.WAITING
        photo.face_state_detail = ""
        photo.save(update_fields=["face_state", "face_state_detail", "updated_at"])
        job = MatchJob.objects.create(kind=MatchJob.Kind.PROCESS_PHOTO, photo=photo)
        audit_record(actor=actor, action="photo.processing_scheduled", obj=photo)
        transaction.on_commit(lambda: _enqueue_processing(job.pk, photo.pk))
    return job


def _enqueue_processing(match_job_id: int, photo_id: int) -> None:
    rq_id = queueing.enqueue_photo_processing(match_job_id, photo_id)
    MatchJob.objects.filter(pk=match_job_id).update(rq_job_id=rq_id)


def _face_facts(photo: Photo) -> dict:
    """The facts a face carries for filtered search, from its case or posting."""
    owner = photo.case if photo.case_id else photo.seeker_posting
    matchable = owner.is_matchable
    return {
        "side": photo.side,
        "sex": owner.sex,
        "birth_year_min": owner.birth_year_min,
        "birth_year_max": owner.birth_year_max,
        "age_in_photo": photo.age_years(),
        "searchable": bool(matchable and photo.use_in_matching),
    }


def photo_process(*, match_job_id: int, photo_id: int) -> list[int]:
    """Detects the faces of a photo and embeds the face when there is exactly one.

    Idempotent: faces found automatically by an earlier run are replaced; a
    face a person picked is kept. Returns the ids of the embedded faces.
    """
    job = MatchJob.objects.get(pk=match_job_id)
    photo = Photo.objects.select_related("case", "seeker_posting").get(pk=photo_id)
    MatchJob.objects.filter(pk=job.pk).update(
        status=MatchJob.Status.RUNNING, started_at=timezone.now(), attempts=job.attempts + 1
    )
    Photo.objects.filter(pk=photo.pk).update(face_state=Photo.FaceState.PROCESSING)
    try:
        engine = faces.get_engine()
        image = load_photo_rgb(photo)
        detected = engine.detect(image)
        embedding = engine.embed(image, detected[0].box) if len(detected) == 1 else None
    except Exception as error:
        _record_failure(job, photo, error)
        raise

    facts = _face_facts(photo)
    with transaction.atomic():
        photo.faces.filter(picked_by__isnull=True).delete()
        created = [
            Face.objects.create(
                photo=photo,
                box_x=face.box.x, box_y=face.box.y, box_w=face.box.w, box_h=face.box.h,
                landmarks={k: list(v) for k, v in face.landmarks.items()},
                detector_confidence=face.confidence,
                embedding=embedding if embedding is not None else None,
                model_name=engine.model_name if embedding is not None else "",
                model_version=engine.model_version if embedding is not None else "",
                **(facts if embedding is not None else {**facts, "searchable": False}),
            )
            for face in detected
        ]
        if len(detected) == 1:
            state, detail = Photo.FaceState.FACE_FOUND, ""
        elif not detected:
            state, detail = Photo.FaceState.NO_FACE, "No face was found: pick the face by hand."
        else:
            state = Photo.FaceState.SEVERAL_FACES
            detail = f"{len(detected)} faces were found: pick the right one."
        if photo.faces.filter(picked_by__isnull=False).exists():
            state, detail = Photo.FaceState.FACE_FOUND, ""
        Photo.objects.filter(pk=photo.pk).update(face_state=state, face_state_detail=detail)
        MatchJob.objects.filter(pk=job.pk).update(
            status=MatchJob.Status.DONE, finished_at=timezone.now(), error=""
        )
    embedded = [face.pk for face in created if face.embedding is not None]
    logger.info("photo %s: %d face(s) detected, %d embedded", photo.pk, len(detected), len(embedded))
    return embedded


def _record_failure(job: MatchJob, photo: Photo, error: Exception) -> None:
    """Keeps the failure visible to admins; RQ retries the job."""
    MatchJob.objects.filter(pk=job.pk).update(
        status=MatchJob.Status.FAILED,
        finished_at=timezone.now(),
        error="".join(traceback.format_exception(error))[-4000:],
    )
    Photo.objects.filter(pk=photo.pk).update(
        face_state=Photo.FaceState.FAILED,
        face_state_detail="Face processing failed; it will be retried.",
    )
