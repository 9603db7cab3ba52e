"""Putting work on the queues. Called from ``transaction.on_commit`` by services.

Job ids are derived from the database row they serve, so a job enqueued twice
(by a retry, by ``reconcile``) is one job in Redis, not two.

Every job is retried (``RETRY``). A worker that dies in the middle of a job
(SIGKILL, out of memory, a lost machine) leaves the job in RQ's
``StartedJobRegistry``; once the job's heartbeat expires, the registry cleanup
that every worker runs at start-up and every few minutes treats it as
abandoned and, because it has retries left, schedules it again. The services
are idempotent, so the rerun ends as if the first run never started.
"""

from __future__ import annotations

import django_rq
from django.conf import settings
from rq import Retry

#: Retries with back-off for transient failures (database restarts, Redis blips, dead workers).
RETRY = Retry(max=3, interval=[10, 60, 300])

#: Seconds before a job is considered stuck; the heartbeat (and so abandonment) follows it.
PHOTO_JOB_TIMEOUT = 600
MATCH_JOB_TIMEOUT = 180


def _enqueue(queue: str, function: str, job_id: str, timeout: int, *args: int) -> str:
    job = django_rq.get_queue(queue).enqueue(
        function, *args, job_id=job_id, retry=RETRY, job_timeout=timeout
    )
    return job.id


def enqueue_photo_processing(match_job_id: int, photo_id: int) -> str:
    return _enqueue(
        settings.FACE_QUEUE, "matching.jobs.process_photo", f"process-photo-{match_job_id}",
        PHOTO_JOB_TIMEOUT, match_job_id, photo_id,
    )


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


def enqueue_outcome_calibration() -> str:
    """The refit of every face model version's outcome calibration (one job at a time)."""
    job = django_rq.get_queue(settings.MATCH_QUEUE).enqueue(
        "matching.jobs.refit_outcome_calibrations", job_id="refit-outcome-calibrations",
        retry=RETRY, job_timeout=MATCH_JOB_TIMEOUT,
    )
    return job.id
