"""One real face worker process, started once per test run and shared.

A worker process loads TensorFlow and the face model cold (20 to 60 s on a busy machine).
Tests that need a worker in a process of its own but not its start-up or its death (the
health check seeing a live worker, the demo matched by a running worker, a running worker
noticing Redis emptied) share this one: ``warm_worker`` hands it to a test with the
queues emptied, the test's photos stored where the worker reads them, and the worker
registered and taking jobs.

Between those tests the worker is paused: it takes no job and touches no Redis key (so
other tests' queues are theirs alone, and no health check sees it) until the fixture opens
its gate, a file (a Redis key would go with each test's ``flushdb``). After the test the
fixture closes the gate, wakes the worker from its wait on the queues with a job that does
nothing, and returns once the worker says it is paused (its last job done).

A test of a worker's start-up, of killing one, or of its own settings still starts its
own (``worker_process``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django_rq
import pytest
from rq import Worker, worker_registration
from rq.utils import now, utcformat

from reunion.worker import PortalWorker

#: How long the worker may take to start (TensorFlow and the model, cold, on a busy machine).
START_SECONDS = 300
#: How long a test's last job may keep the worker busy after the test.
SETTLE_SECONDS = 300
#: How often the idle worker looks up from the queues (``RECONCILE_REDIS_CHECK_SECONDS``,
#: 15 by default): shorter, so a test of what it notices waits less.
CHECK_SECONDS = 5
#: The folder of the gate (``open``: take jobs) and of the worker's ``paused`` flag.
GATE_ENV = "REUNION_TEST_WORKER_GATE"


def nothing() -> None:
    """The job that wakes the paused worker from its wait on the queues."""


class WarmWorker(PortalWorker):
    """The portal's worker, paused while its gate is closed, and registering itself again
    after a test empties Redis (so that it stays visible to the health check and the test)."""

    def dequeue_job_and_maintain_ttl(self, timeout: int | None,
                                     max_idle_time: int | None = None) -> Any:
        gate = Path(os.environ[GATE_ENV])
        if not (gate / "open").exists():
            (gate / "paused").touch()
            while not (gate / "open").exists():
                if self._stop_requested:
                    return None
                time.sleep(0.05)
            (gate / "paused").unlink()
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is None and not self.connection.sismember(
            worker_registration.REDIS_WORKER_KEYS, self.key
        ):
            with self.connection.pipeline() as again:
                again.hset(self.key, mapping=self.serialize())
                worker_registration.register(self, again)
                again.expire(self.key, self.worker_ttl + 60)
                again.execute()


@dataclass
class SharedWorker:
    process: subprocess.Popen
    gate: Path
    media_root: Path
    log: Path
    name: str
    registration: dict[bytes, bytes]
    queues: tuple[str, ...]

    @property
    def key(self) -> str:
        return Worker.redis_worker_namespace_prefix + self.name

    def state(self) -> str | None:
        raw = django_rq.get_connection("face").hget(self.key, "state")
        return raw.decode() if raw else None

    def register_again(self) -> None:
        """After ``flushdb``: the worker's registration as it was, without waiting for its
        next heartbeat (up to ``RECONCILE_REDIS_CHECK_SECONDS``)."""
        redis = django_rq.get_connection("face")
        with redis.pipeline() as pipeline:
            pipeline.hset(self.key, mapping={
                **self.registration, "last_heartbeat": utcformat(now()),
            })
            pipeline.sadd(worker_registration.REDIS_WORKER_KEYS, self.key)
            for name in self.queues:
                pipeline.sadd(worker_registration.WORKERS_BY_QUEUE_KEY % name, self.key)
            pipeline.expire(self.key, 600)
            pipeline.execute()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def resume(self) -> None:
        """Opens the gate and waits until the worker takes jobs again."""
        (self.gate / "open").touch()
        _wait(lambda: not (self.gate / "paused").exists(), timeout=60,
              what="the shared worker to resume", process=self.process, log=self.log)

    def pause(self) -> None:
        """Closes the gate, wakes the worker, and waits until it is paused (its jobs done)."""
        (self.gate / "open").unlink()
        if not (self.gate / "paused").exists():
            django_rq.get_queue(self.queues[0]).enqueue(
                "tests.warm_worker.nothing", job_id="warm-worker-wake-up")
        _wait(lambda: (self.gate / "paused").exists(), timeout=SETTLE_SECONDS,
              what="the shared worker to finish the test's jobs and pause",
              process=self.process, log=self.log)
        redis = django_rq.get_connection("face")
        redis.srem(worker_registration.REDIS_WORKER_KEYS, self.key)
        for name in self.queues:
            redis.srem(worker_registration.WORKERS_BY_QUEUE_KEY % name, self.key)
        redis.delete(self.key)


def _wait(condition, *, timeout: float, what: str, worker: SharedWorker | None = None,
          process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the shared worker exited: {log.read_text() if log else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def _shared_worker(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[SharedWorker]:
    from tests.conftest import ALL_QUEUES, BASE_DIR, worker_environment

    folder = tmp_path_factory.mktemp("warm-worker")
    media_root = folder / "media"
    media_root.mkdir()
    gate = folder / "gate"
    gate.mkdir()
    (gate / "open").touch()  # open for its start-up (its registration), closed after
    log = folder / "worker.log"
    with django_db_blocker.unblock():
        env = {**worker_environment(media_root), GATE_ENV: str(gate),
               "RECONCILE_REDIS_CHECK_SECONDS": str(CHECK_SECONDS)}
    redis = django_rq.get_connection("face")
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "rqworker",
             "--worker-class", "tests.warm_worker.WarmWorker", *ALL_QUEUES],
            env=env, cwd=BASE_DIR, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        def registered() -> Worker | None:
            for worker in Worker.all(connection=redis):
                if worker.pid == process.pid and worker.get_state() == "idle":
                    return worker
            return None

        _wait(lambda: registered() is not None, timeout=START_SECONDS,
              what="the shared worker to start", process=process, log=log)
        found = registered()
        worker = SharedWorker(
            process=process, gate=gate, media_root=media_root, log=log, name=found.name,
            registration=redis.hgetall(found.key), queues=tuple(found.queue_names()),
        )
        worker.pause()
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def warm_worker(_shared_worker: SharedWorker, redis_queues, settings) -> Iterator[SharedWorker]:
    """The shared face worker on every queue, for a transactional test: idle, registered,
    with Redis emptied and this test's photos stored where it reads them."""
    worker = _shared_worker
    for child in worker.media_root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    settings.MEDIA_ROOT = worker.media_root
    worker.register_again()
    worker.resume()
    yield worker
    worker.pause()
    assert worker.process.poll() is None, worker.output()
