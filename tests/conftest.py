"""Shared fixtures: real photos, real Redis queues, real RQ workers.

Photos are read from the shared face set beside the checkout (``../shared/faces``,
or ``REUNION_FACES_DIR``); nothing is copied into the repository.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from tests import builders
from tests.face_cache import CacheStats, memoise_face_engine

#: ``warm_worker``: one real worker process shared by the tests that need one (not its start).
pytest_plugins = ["tests.warm_worker"]

BASE_DIR = Path(__file__).resolve().parent.parent
FACES_DIR = Path(os.environ.get("REUNION_FACES_DIR", BASE_DIR.parent / "shared" / "faces"))
ALL_QUEUES = settings.WORKER_QUEUES
#: The portal's own password hashers (full-strength PBKDF2 first), as configured.
PROJECT_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)
#: The packaged Redis this run started (``None`` when one already answered).
EMBEDDED_REDIS = pytest.StashKey[object]()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not (FACES_DIR / "identities.csv").is_file():
        pytest.fail(f"The shared face photos are missing: {FACES_DIR}/identities.csv")
    return FACES_DIR


@pytest.fixture(scope="session")
def identities(faces_dir: Path) -> dict[str, str]:
    """File name → person, for the single-person photos."""
    with open(faces_dir / "identities.csv", newline="") as handle:
        return {row["file"]: row["identity"] for row in csv.DictReader(handle)}


@pytest.fixture
def photo_bytes(faces_dir: Path) -> Callable[[str], bytes]:
    return lambda name: (faces_dir / name).read_bytes()


def pytest_configure(config: pytest.Config) -> None:
    """On a machine with no Redis at REDIS_URL, the packaged one serves this test run:
    started by the process that runs pytest (before any test process of a parallel run
    starts) and stopped by it after the last."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    assert settings.configured
    if hasattr(config, "workerinput"):  # a test process of a parallel run
        return
    from reunion import embedded_redis

    config.stash[EMBEDDED_REDIS] = embedded_redis.start(settings.REDIS_URL)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(EMBEDDED_REDIS, None)
    if server is not None:
        server.stop()


#: How often the face model answered from ``face_model_answers_once`` (shown at the end).
FACE_CACHE_STATS: list[CacheStats] = []


@pytest.fixture(scope="session", autouse=True)
def face_model_answers_once() -> Iterator[CacheStats]:
    """The face model runs once per distinct input in this process: the shared photos are
    detected and embedded for real the first time, and answered from memory after
    (``tests/face_cache.py``)."""
    from matching.faces.deepface_engine import DeepFaceEngine

    with memoise_face_engine(DeepFaceEngine) as stats:
        FACE_CACHE_STATS.append(stats)
        yield stats


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A test process of a parallel run hands its counts to the process that runs pytest."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["face_model_calls"] = [
            (stats.misses, stats.hits) for stats in FACE_CACHE_STATS
        ]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: a test process ended; its face model counts join this process's."""
    for misses, hits in getattr(node, "workeroutput", {}).get("face_model_calls", []):
        FACE_CACHE_STATS.append(CacheStats(misses=misses, hits=hits))


def pytest_terminal_summary(terminalreporter) -> None:
    if FACE_CACHE_STATS:
        misses = sum(stats.misses for stats in FACE_CACHE_STATS)
        hits = sum(stats.hits for stats in FACE_CACHE_STATS)
        terminalreporter.write_line(
            f"face model calls: {misses} run, {hits} answered from memory"
        )


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete() -> Iterator[None]:
    """A transactional test's database is emptied with DELETE, not TRUNCATE.

    PostgreSQL's TRUNCATE makes every table's files anew: 0.3 s for the portal's tables
    however few rows they hold, after each of hundreds of transactional tests; DELETE of the
    few rows a test wrote takes 0.01 s. The foreign keys Django makes are deferred, so
    the order does not matter inside flush's transaction. A flush that resets sequences
    keeps Django's own SQL.
    """
    operations = type(connection.ops)
    truncate = operations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences,
                            allow_cascade=allow_cascade)
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = truncate


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """Test users' passwords are hashed with MD5, as Django advises for tests: a
    full-strength hash takes about half a second and the suite makes hundreds of users.
    The portal's own hashers stay listed after it, so their hashes still verify; a test of
    real hashing asks for ``real_password_hashing``."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher", *PROJECT_PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=fast):
        yield


@pytest.fixture
def real_password_hashing(settings) -> list[str]:
    """The portal's own password hashers, for a test of hashing itself or of a process
    that checks a password made here (another process never reads the fast one)."""
    settings.PASSWORD_HASHERS = PROJECT_PASSWORD_HASHERS
    return PROJECT_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings) -> Path:
    """Each test stores its photos in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def redis_queues() -> Iterator[dict[str, object]]:
    """The RQ queues on the tests' own Redis database, emptied before and after."""
    redis = django_rq.get_connection("face")
    assert redis.connection_pool.connection_kwargs.get("db") != 0 or os.environ.get(
        "REUNION_TEST_REDIS_OK"
    ), "Tests must not run against Redis database 0 (set REDIS_URL to a test database)."
    redis.flushdb()
    yield {name: django_rq.get_queue(name) for name in ALL_QUEUES}
    redis.flushdb()


@pytest.fixture
def run_worker(redis_queues) -> Callable[..., bool]:
    """Runs a real face worker in this process until the queues are empty (burst mode)."""
    from reunion.worker import PortalWorker

    def run(queues: tuple[str, ...] = ALL_QUEUES) -> bool:
        worker = PortalWorker(
            [django_rq.get_queue(name) for name in queues],
            connection=django_rq.get_connection("face"),
        )
        return worker.work(burst=True, with_scheduler=False)

    return run


def worker_environment(media_root: Path) -> dict[str, str]:
    """Environment for a worker subprocess that sees the test database and media."""
    env = dict(os.environ)
    env["MEDIA_ROOT"] = str(media_root)
    env["REUNION_DB_NAME"] = connection.settings_dict["NAME"]
    env["DEBUG"] = "true"
    return env


@pytest.fixture
def worker_process(media_root: Path, redis_queues) -> Callable[..., subprocess.Popen]:
    """Starts ``manage.py rqworker`` with the face worker class as a separate process."""
    started: list[subprocess.Popen] = []

    def start(*, burst: bool = True, queues: tuple[str, ...] = ALL_QUEUES) -> subprocess.Popen:
        command = [
            sys.executable, str(BASE_DIR / "manage.py"), "rqworker",
            "--worker-class", "reunion.worker.PortalWorker", *queues,
        ]
        if burst:
            command.append("--burst")
        process = subprocess.Popen(
            command, env=worker_environment(media_root), cwd=BASE_DIR,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def database_outage() -> Callable[[], AbstractContextManager[None]]:
    """``with database_outage():`` points this process's database connection at a port
    nobody listens on, then back."""

    @contextmanager
    def outage() -> Iterator[None]:
        saved_port = connection.settings_dict.get("PORT")
        connection.close()
        connection.settings_dict["PORT"] = "1"
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["PORT"] = saved_port

    return outage


@pytest.fixture
def superuser(django_user_model):
    """An admin (a superuser), for the Django admin's pages."""
    return django_user_model.objects.create_superuser(
        email="admin@example.org", password="a long enough password 1"
    )


@pytest.fixture
def admin_client(client, superuser):
    """The test client, logged in as ``superuser``."""
    client.force_login(superuser)
    return client


@pytest.fixture
def make_user(django_user_model) -> Callable[..., object]:
    counter = iter(range(1, 10_000))

    def make(*, volunteer: bool = False, **extra: object):
        from django.contrib.auth.models import Group

        number = next(counter)
        user = django_user_model.objects.create_user(
            email=extra.pop("email", f"user{number}@example.org"),
            password=extra.pop("password", "a long enough password 1"),
            full_name=extra.pop("full_name", f"User {number}"),
            **extra,
        )
        if volunteer:
            group, _ = Group.objects.get_or_create(name="volunteer")
            user.groups.add(group)
        return user

    return make


@pytest.fixture
def make_people(make_user) -> Callable[..., tuple[object, object]]:
    """A family's published case and an adult's consenting seeker posting, each posted from an
    account of its own, with no photos: ``make_people(missing_province="Sichuan")``. Case
    fields are given as keywords, the posting's as ``posting_fields``."""
    def make(*, posting_fields: dict | None = None, **case_fields: object):
        case = builders.case(family=make_user(), **case_fields)
        posting = builders.seeker_posting(seeker=make_user(), **(posting_fields or {}))
        return case, posting

    return make


@pytest.fixture
def make_candidate(make_people) -> Callable[..., object]:
    """A candidate between a new case and a new seeker posting (``make_people``), recorded
    as a match job records one, where the face model is not the point."""
    def make(*, score: float = 0.5, posting_fields: dict | None = None, **case_fields: object):
        case, posting = make_people(posting_fields=posting_fields, **case_fields)
        return builders.candidate(case=case, posting=posting, score=score)

    return make


#: Fixtures that make a test slow: a worker (and the face model) in a process of its own
#: or the shared one, a development server, or a real worker running the face pipeline in
#: this process.
SLOW_FIXTURES = {"worker_process", "warm_worker", "runserver", "run_worker"}
#: Files whose every test takes long: the access matrix walks every page as every role;
#: the workers' scale test starts two workers of its own.
SLOW_FILES = {"test_access_matrix.py", "test_workers_scale.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks ``slow`` what ``SLOW_FIXTURES`` and ``SLOW_FILES`` name, so that
    ``-m "not slow and not browser"`` is a quick run while working (``make test`` runs all)."""
    for item in items:
        if (SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or Path(str(item.fspath)).name in SLOW_FILES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _abuse_limits_off(settings) -> None:
    """Rate limits and log-in lock-out count across tests (one address, one cache): off by
    default; tests of them turn them on with ``abuse_limits``."""
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False


@pytest.fixture
def abuse_limits(settings, redis_queues) -> object:
    """Rate limits and lock-out on, counting from zero (the test Redis database is emptied)."""
    from axes.models import AccessAttempt

    settings.RATELIMIT_ENABLE = True
    settings.AXES_ENABLED = True
    AccessAttempt.objects.all().delete()
    return settings


@pytest.fixture(autouse=True)
def english_by_default() -> Iterator[None]:
    """A request in Chinese leaves Chinese active in the thread: each test starts in English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
