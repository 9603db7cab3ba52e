"""The one way to queue work: the queues, the retry policy, and whether a job is alive.

Low in the house (it imports no app): services of both apps queue their jobs here, in
``transaction.on_commit``, by the job function's dotted name, so no service imports a
jobs module. Reconcile, the worker's upkeep, the health check and the demo ask here
which jobs and workers are alive.

Job ids are derived from the database row a job serves, and ``enqueue_once`` queues a
job only if Redis holds no job of that id (RQ's ``unique``), so a job enqueued twice
(by a retry, by ``reconcile`` racing the upload's own enqueue) is one job in Redis, not
two: RQ alone would push the id twice and run the work twice.

Every job is retried (``RETRY``; an email, whose server may be away longer, with
``EMAIL_RETRY``). A worker that dies in the middle of a job (SIGKILL, out of memory, a
lost machine) leaves the job in RQ's ``StartedJobRegistry``; once the job's heartbeat
expires, the registry cleanup that every worker runs at start-up and every few minutes
treats it as abandoned and, because it has retries left, schedules it again. The
services are idempotent, so the rerun ends as if the first run never started.

Reconcile keeps a marker key in Redis (``REDIS_KEPT_MARKER``): when it is gone, Redis
lost its data (``redis_emptied``) and every piece of unfinished work must be found again.
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
from rq.registry import FailedJobRegistry

#: Retries with back-off for transient failures (database restarts, Redis blips, dead workers).
RETRY = Retry(max=3, interval=[10, 60, 300])
#: The same policy for an email, held longer: a mail server that is down for a moment (or
#: an hour) must not lose a notice.
EMAIL_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])

#: The key whose absence says Redis was emptied since reconcile last ran.
REDIS_KEPT_MARKER = "reunion:redis-kept"


def connection(queue: str | None = None) -> Redis:
    """The Redis connection of ``queue`` (all queues share one Redis)."""
    return django_rq.get_connection(queue or settings.FACE_QUEUE)


def queue(name: str) -> Queue:
    return django_rq.get_queue(name)


def enqueue(
    queue_name: str, function: str, *args: object, job_id: str, timeout: int,
    retry: Retry = RETRY,
) -> str:
    """Queues ``function`` (a dotted name) under ``job_id``; a finished job of that id is
    replaced. Returns the id."""
    job = queue(queue_name).enqueue(
        function, *args, job_id=job_id, retry=retry, job_timeout=timeout
    )
    return job.id


def enqueue_once(
    queue_name: str, function: str, *args: object, job_id: str, timeout: int,
    retry: Retry = RETRY,
) -> str:
    """Queues the job unless Redis already holds one of that id; returns the id either way."""
    with contextlib.suppress(DuplicateJobError):
        queue(queue_name).enqueue(
            function, *args, job_id=job_id, retry=retry, job_timeout=timeout, unique=True
        )
    return job_id


def job_alive(redis: Redis, job_id: str) -> bool:
    """Whether RQ still holds the job and will run it: queued, scheduled, or with a live worker."""
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return Queue(job.origin, connection=redis).get_job_position(job_id) is not None
    if status in (JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    if status == JobStatus.STARTED:
        return _worker_alive(redis, job.worker_name)
    return False


def job_delete(redis: Redis, job_id: str) -> None:
    """Forgets a dead or failed job, so that queueing its id again starts it afresh."""
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(job_id, connection=redis).delete()


def _worker_alive(redis: Redis, name: str | None) -> bool:
    """Whether the worker that started a job still lives (on this machine: its process)."""
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + (name or "?"),
                                connection=redis) if name else None
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


def workers(redis: Redis | None = None) -> list[Worker]:
    """The workers registered in Redis (each refreshes its registration as it works)."""
    return Worker.all(connection=redis or connection())


def face_workers(redis: Redis | None = None) -> list[Worker]:
    """The registered workers that take the face queue (and so hold the face model)."""
    return [worker for worker in workers(redis) if settings.FACE_QUEUE in worker.queue_names()]


def failed_count(name: str) -> int:
    """Jobs of queue ``name`` whose retries are used up (RQ's failed registry)."""
    return FailedJobRegistry(queue=queue(name)).count


def redis_emptied(redis: Redis) -> bool:
    """Whether Redis lost its data since reconcile last ran (its marker is gone)."""
    return not redis.exists(REDIS_KEPT_MARKER)
