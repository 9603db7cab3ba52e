"""The face worker: an RQ worker that never forks and keeps the model warm.

TensorFlow is not fork-safe, and loading the Dlib model takes seconds, so the
worker runs each job in its own process (``SimpleWorker``) and loads the
face engine once, before its first job. Each job's log lines carry its id,
and database connections are checked around every job as Django's request
cycle would.

Its upkeep queues lost work again (``reconcile``): at once when the worker starts
and whenever Redis was emptied (reconcile's marker is gone: looked for after every
job and, while idle, every ``RECONCILE_REDIS_CHECK_SECONDS``, the longest the worker
waits on the queues), else every ``RECONCILE_INTERVAL_SECONDS`` for work older than
the grace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue

from families.services.partner_imports import partner_imports_upkeep
from matching import faces
from matching.services import (
    centring_update,
    outcome_calibrations_refit_if_due,
    reconcile_pending,
    retention_apply,
)
from matching.services.reconcile import redis_emptied
from reunion.logging import job_context

logger = logging.getLogger(__name__)


class FaceWorker(SimpleWorker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        if {settings.FACE_QUEUE, settings.FACE_BULK_QUEUE} & set(self.queue_names()):
            faces.get_engine()
        return super().work(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", settings.RECONCILE_INTERVAL_SECONDS)
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        """How long an idle worker waits on the queues before it looks around again."""
        return max(1, min(super().dequeue_timeout, settings.RECONCILE_REDIS_CHECK_SECONDS))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """At start, every ``maintenance_interval``, and as soon as Redis was emptied."""
        if super().should_run_maintenance_tasks:
            return True
        try:
            return redis_emptied(self.connection)
        except RedisError:  # Redis away: RQ's own loop waits for it
            return False

    def run_maintenance_tasks(self) -> None:
        """RQ's registry cleaning, then ``reconcile``: accepted work no queue holds is queued
        again, stalled partner imports too (and their old refused rows deleted); the
        retention periods (``RETENTION_DAYS``); and the outcome calibration's refit when it
        is due (``OUTCOME_REFIT_HOURS``).
        Runs when the worker starts and when Redis was emptied, with no grace (nothing in
        flight is lost by queueing it again: job ids come from the rows), and every
        ``RECONCILE_INTERVAL_SECONDS``."""
        starting = self.last_cleaned_at is None
        try:
            at_once = starting or redis_emptied(self.connection)
        except RedisError:
            at_once = False
        grace = timedelta(0) if at_once else None
        super().run_maintenance_tasks()
        steps: tuple[tuple[str, Callable[[], object]], ...] = (
            ("reconcile", lambda: reconcile_pending(actor=None, grace=grace)),
            ("the partner imports' upkeep", lambda: partner_imports_upkeep(grace=grace)),
            ("the retention periods", lambda: retention_apply(actor=None)),
            ("the outcome calibration's refit",
             lambda: outcome_calibrations_refit_if_due(actor=None)),
            ("the centring", lambda: centring_update(actor=None)),
        )
        for name, step in steps:
            try:
                step()
            except StopRequested:
                raise  # SIGTERM/Ctrl-C during the upkeep: stop now, as RQ would
            except Exception:  # a database or Redis outage must not stop the worker
                logger.exception("%s failed; it runs again at the next maintenance", name)
            finally:
                close_old_connections()

    def execute_job(self, job: Job, queue: Queue) -> None:
        close_old_connections()
        try:
            with job_context(job.id):
                super().execute_job(job, queue)
        finally:
            close_old_connections()
