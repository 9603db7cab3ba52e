"""The portal's worker: an RQ worker that never forks, and the upkeep each app registers.

TensorFlow is not fork-safe, and loading the face model takes seconds, so the worker runs
each job in its own process (``SimpleWorker``) and runs, before its first job, what the
apps register to run at start (matching: load the face model when the worker takes a
face queue). Each job's log lines carry its id, and database connections are checked
around every job as Django's request cycle would.

Its upkeep runs the steps the apps register in their ``AppConfig.ready``
(``register_upkeep``; matching: reconcile, the retention periods, the outcome
calibration's refit, the centring, each face's hubness r; families: the partner imports'
upkeep): at once when the worker
starts and whenever Redis was emptied (reconcile's marker is gone: looked for after every
job and, while idle, every ``RECONCILE_REDIS_CHECK_SECONDS``, the longest the worker waits
on the queues), else every ``RECONCILE_INTERVAL_SECONDS`` for work older than the grace.
Each step's failure is logged and the next runs; a stop request stops the worker.

``manage.py rqworker --worker-class reunion.worker.PortalWorker face match notify import
face-bulk`` (the launcher, the container's entrypoint).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue

from reunion.logging import job_context
from reunion.queueing import redis_emptied

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpkeepStep:
    """One step of the worker's upkeep. ``run(grace)``: ``grace`` is ``timedelta(0)`` when
    nothing in flight can be trusted (the worker's start, Redis emptied), else ``None``
    (the step's own grace)."""

    name: str
    order: int
    run: Callable[[timedelta | None], object]


_upkeep: dict[str, UpkeepStep] = {}
_at_start: dict[str, Callable[[Collection[str]], object]] = {}


def register_upkeep(name: str, run: Callable[[timedelta | None], object], *,
                    order: int) -> None:
    """Adds (or replaces) a step of every worker's upkeep; steps run by ``order``."""
    _upkeep[name] = UpkeepStep(name=name, order=order, run=run)


def register_at_start(name: str, run: Callable[[Collection[str]], object]) -> None:
    """Adds (or replaces) what a worker does before its first job, given its queue names."""
    _at_start[name] = run


def upkeep_steps() -> list[UpkeepStep]:
    return sorted(_upkeep.values(), key=lambda step: step.order)


class PortalWorker(SimpleWorker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        for run in _at_start.values():
            run(self.queue_names())
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
        """RQ's registry cleaning, then each registered upkeep step in order, with no grace
        when the worker starts or Redis was emptied (nothing in flight is lost by queueing
        it again: job ids come from the rows)."""
        starting = self.last_cleaned_at is None
        try:
            at_once = starting or redis_emptied(self.connection)
        except RedisError:
            at_once = False
        grace = timedelta(0) if at_once else None
        super().run_maintenance_tasks()
        for step in upkeep_steps():
            try:
                step.run(grace)
            except StopRequested:
                raise  # SIGTERM/Ctrl-C during the upkeep: stop now, as RQ would
            except Exception:  # a database or Redis outage must not stop the worker
                logger.exception("%s failed; it runs again at the next maintenance", step.name)
            finally:
                close_old_connections()

    def execute_job(self, job: Job, queue: Queue) -> None:
        close_old_connections()
        try:
            with job_context(job.id):
                super().execute_job(job, queue)
        finally:
            close_old_connections()
