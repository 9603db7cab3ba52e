"""Putting work on the queues. Called from ``transaction.on_commit`` by services.

Job ids are derived from the database row they serve, so a job enqueued twice
(by a retry, by ``reconcile``) is one job in Redis, not two.
"""

from __future__ import annotations

import django_rq
from django.conf import settings
from rq import Retry

#: Retries with back-off for transient failures (database restarts, Redis blips).
RETRY = Retry(max=3, interval=[10, 60, 300])


def enqueue_photo_processing(match_job_id: int, photo_id: int) -> str:
    job = django_rq.get_queue(settings.FACE_QUEUE).enqueue(
        "matching.jobs.process_photo",
        match_job_id,
        photo_id,
        job_id=f"process-photo-{match_job_id}",
        retry=RETRY,
        job_timeout=600,
    )
    return job.id


def enqueue_face_matching(match_job_id: int, face_id: int) -> str:
    job = django_rq.get_queue(settings.MATCH_QUEUE).enqueue(
        "matching.jobs.match_face",
        match_job_id,
        face_id,
        job_id=f"match-face-{match_job_id}",
        retry=RETRY,
        job_timeout=600,
    )
    return job.id
