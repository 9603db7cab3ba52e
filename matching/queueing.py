"""Putting work on the queues. Called from ``transaction.on_commit`` by services.

Job ids are derived from the database row they serve, and a job is queued only if
Redis holds no job of that id (RQ's ``unique``), so a job enqueued twice (by a
retry, by ``reconcile`` racing the upload's own enqueue) is one job in Redis, not
two: RQ alone would push the id twice and run the work twice.

Every job is retried (``RETRY``). A worker that dies in the middle of a job
(SIGKILL, out of memory, a lost machine) leaves the job in RQ's
``StartedJobRegistry``; once the job's heartbeat expires, the registry cleanup
that every worker runs at start-up and every few minutes treats it as
abandoned and, because it has retries left, schedules it again. The services
are idempotent, so the rerun ends as if the first run never started.
"""

from __future__ import annotations

import contextlib
import os
import socket

import django_rq
from django.conf import settings
from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

#: Retries with back-off for transient failures (database restarts, Redis blips, dead workers).
RETRY = Retry(max=3, interval=[10, 60, 300])

#: Seconds before a job is considered stuck; the heartbeat (and so abandonment) follows it.
PHOTO_JOB_TIMEOUT = 600
MATCH_JOB_TIMEOUT = 180


def _enqueue(queue: str, function: str, job_id: str, timeout: int, *args: int) -> str:
    """Queues the job unless Redis already holds one of that id; returns the id either way."""
    with contextlib.suppress(DuplicateJobError):
        django_rq.get_queue(queue).enqueue(
            function, *args, job_id=job_id, retry=RETRY, job_timeout=timeout, unique=True
        )
    return job_id


def enqueue_photo_processing(match_job_id: int, photo_id: int) -> str:
    return _enqueue(
        settings.FACE_QUEUE, "matching.jobs.process_photo", f"process-photo-{match_job_id}",
        PHOTO_JOB_TIMEOUT, match_job_id, photo_id,
    )


def enqueue_bulk_photo_processing(match_job_id: int, photo_id: int) -> str:
    """A photo of a partner's bulk import: on its own queue, which workers take after the
    others, so a family's upload never waits behind thousands of imported photos."""
    return _enqueue(
        settings.FACE_BULK_QUEUE, "matching.jobs.process_photo",
        f"process-photo-{match_job_id}", PHOTO_JOB_TIMEOUT, match_job_id, photo_id,
    )


def rq_job_alive(connection: Redis, rq_job_id: str) -> bool:
    """Whether RQ still holds the job and will run it: queued, scheduled, or with a live worker."""
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


def rq_job_delete(connection: Redis, rq_job_id: str) -> None:
    """Forgets a dead or failed job, so that queueing its id again starts it afresh."""
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(rq_job_id, connection=connection).delete()


def _rq_worker_alive(connection: Redis, name: str | None) -> bool:
    """Whether the worker that started a job still lives (on this machine: its process)."""
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


def enqueue_face_embedding(match_job_id: int, face_id: int) -> str:
    """A picked (or reindexed) face's region, embedded on the face queue where the model lives."""
    return _enqueue(
        settings.FACE_QUEUE, "matching.jobs.embed_face", f"embed-face-{match_job_id}",
        PHOTO_JOB_TIMEOUT, match_job_id, face_id,
    )


def enqueue_face_matching(match_job_id: int, face_id: int) -> str:
    return _enqueue(
        settings.MATCH_QUEUE, "matching.jobs.match_face", f"match-face-{match_job_id}",
        MATCH_JOB_TIMEOUT, match_job_id, face_id,
    )


def enqueue_proposal_announcement(audit_entry_id: int, candidate_id: int, created: bool) -> str:
    """Queues what a proposal tells the volunteers, for a new pair and a known one alike, so
    that the proposal's reply does the same work either way (docs/PRIVACY.md)."""
    return _enqueue(
        settings.MATCH_QUEUE, "matching.jobs.announce_proposal", f"proposal-{audit_entry_id}",
        MATCH_JOB_TIMEOUT, candidate_id, int(created),
    )


def enqueue_outcome_calibration() -> str:
    """The refit of every face model version's outcome calibration (one job at a time)."""
    job = django_rq.get_queue(settings.MATCH_QUEUE).enqueue(
        "matching.jobs.refit_outcome_calibrations", job_id="refit-outcome-calibrations",
        retry=RETRY, job_timeout=MATCH_JOB_TIMEOUT,
    )
    return job.id
