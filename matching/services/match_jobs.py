"""Match jobs: the rows that mirror each face-processing and matching run.

A service schedules work by writing a ``MatchJob`` row and queueing its RQ job
once the transaction commits; the job marks the row running, done or failed,
so failures stay visible in the admin and ``reconcile`` finds lost work.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from families.audit import audit_record
from families.models import Photo, User
from matching import queueing
from matching.models import Face, MatchJob

logger = logging.getLogger(__name__)


def photo_schedule_processing(*, actor: User | None, photo: Photo) -> MatchJob:
    """Marks the photo waiting and queues face detection once the upload commits."""
    with transaction.atomic():
        photo.face_state = Photo.FaceState.WAITING
        photo.face_state_detail = ""
        photo.save(update_fields=["face_state", "face_state_detail", "updated_at"])
        job = MatchJob.objects.create(kind=MatchJob.Kind.PROCESS_PHOTO, photo=photo)
        audit_record(actor=actor, action="photo.processing_scheduled", obj=photo)
        enqueue = (queueing.enqueue_bulk_photo_processing if photo.partner_import_id
                   else queueing.enqueue_photo_processing)
        transaction.on_commit(lambda: enqueue_match_job(enqueue, job.pk, photo.pk))
    return job


def face_schedule_matching(*, actor: User | None, face: Face) -> MatchJob | None:
    """Queues a match job for an embedded, searchable face once the transaction commits."""
    if face.embedding is None or not face.searchable:
        return None
    with transaction.atomic():
        job = MatchJob.objects.create(kind=MatchJob.Kind.MATCH_FACE, face=face)
        audit_record(actor=actor, action="face.matching_scheduled", obj=face)
        transaction.on_commit(
            lambda: enqueue_match_job(queueing.enqueue_face_matching, job.pk, face.pk)
        )
    return job


def enqueue_match_job(
    enqueue: Callable[[int, int], str], match_job_id: int, object_id: int
) -> None:
    """Queues a committed match job; with Redis away, ``reconcile`` queues it later."""
    try:
        rq_id = enqueue(match_job_id, object_id)
    except RedisError as error:
        # The row is committed: the upload is accepted, and `reconcile` queues it later.
        logger.warning("queue unavailable, match job %s left for reconcile: %s",
                       match_job_id, error)
        return
    MatchJob.objects.filter(pk=match_job_id).update(rq_job_id=rq_id)


def job_started(match_job_id: int) -> MatchJob | None:
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


def job_done(job: MatchJob) -> None:
    MatchJob.objects.filter(pk=job.pk).update(
        status=MatchJob.Status.DONE, finished_at=timezone.now(), error=""
    )


def job_failed(job: MatchJob, error: BaseException, photo: Photo | None = None) -> None:
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
