"""Reconciling the queues with the database.

The database is the record of what was accepted; Redis only holds the work in
flight. If Redis is emptied or restarted, or a worker dies mid-job, the rows
still say what is unfinished, and ``reconcile_pending`` queues it again under
the same job ids (derived from the rows), so queueing twice is harmless.

Reconcile keeps a marker key in Redis (``reunion.queueing.REDIS_KEPT_MARKER``). When it is gone,
Redis lost its data (a restart without persistence, a failover, a ``FLUSHALL``)
and every piece of unfinished work must be found again: the next run then leaves
no grace, and the face workers look for the marker between jobs and at least
every ``RECONCILE_REDIS_CHECK_SECONDS`` while idle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis import Redis

from families.audit import audit_record
from families.models import Photo, User
from families.notifications import notifications_requeue_unsent
from matching import queueing
from matching.models import Face, MatchJob
from matching.services.match_jobs import face_schedule_matching, photo_schedule_processing
from reunion.queueing import REDIS_KEPT_MARKER, job_alive, job_delete, redis_emptied
from reunion.queueing import connection as queue_connection

logger = logging.getLogger(__name__)


#: Runs of one match job after which it stays failed for an admin to look at.
RECONCILE_MAX_ATTEMPTS = 12


_PENDING_JOB = (MatchJob.Status.QUEUED, MatchJob.Status.RUNNING, MatchJob.Status.FAILED)


_PENDING_PHOTO = (Photo.FaceState.WAITING, Photo.FaceState.PROCESSING, Photo.FaceState.FAILED)


def _job_enqueuer(job: MatchJob) -> tuple[Callable[[int, int], str], int, str]:
    """How a match job row is queued: the enqueue function, its object id, the job id."""
    if job.kind == MatchJob.Kind.MATCH_FACE:
        return queueing.enqueue_face_matching, job.face_id, f"match-face-{job.pk}"
    if job.face_id:
        return queueing.enqueue_face_embedding, job.face_id, f"embed-face-{job.pk}"
    if job.photo.partner_import_id:
        return queueing.enqueue_bulk_photo_processing, job.photo_id, f"process-photo-{job.pk}"
    return queueing.enqueue_photo_processing, job.photo_id, f"process-photo-{job.pk}"


def _requeue(job: MatchJob, actor: User | None, connection: Redis) -> None:
    enqueue, object_id, rq_job_id = _job_enqueuer(job)
    job_delete(connection, rq_job_id)  # a dead or failed leftover
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
    alone; without a ``grace``, ``RECONCILE_GRACE_SECONDS``, or none at all when Redis was
    emptied (nothing in flight survived it). A job is looked for under the id its row
    derives, so a job queued a moment ago whose id is not yet written on the row counts as
    queued. One run at a time (a Redis lock). Returns what it did, by kind.
    """
    connection = queue_connection()
    if grace is None:
        grace = timedelta(0) if redis_emptied(connection) else timedelta(
            seconds=settings.RECONCILE_GRACE_SECONDS)
    settled_before = timezone.now() - grace
    report = {"requeued": 0, "photos_scheduled": 0, "faces_scheduled": 0,
              "in_queue": 0, "given_up": 0}
    lock = connection.lock("reunion:reconcile", timeout=600, blocking=False)
    if not lock.acquire():
        logger.info("reconcile: another run holds the lock")
        return {**report, "skipped": True}
    # Set before the run: an emptying during it removes the marker again, and the next
    # check runs reconcile once more.
    connection.set(REDIS_KEPT_MARKER, timezone.now().isoformat())
    try:
        for job in MatchJob.objects.filter(
            status__in=_PENDING_JOB, created_at__lt=settled_before
        ).order_by("pk"):
            rq_job_id = job.rq_job_id or _job_enqueuer(job)[2]
            if job_alive(connection, rq_job_id):
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


        report["emails_requeued"] = notifications_requeue_unsent(grace=grace)
    except BaseException:
        connection.delete(REDIS_KEPT_MARKER)  # unfinished: the next check runs it again
        raise
    finally:
        lock.release()
    logger.info("reconcile: %s", report)
    return report
