"""Each test process of a parallel run (pytest-xdist's ``-n``) on a Redis database of its own.

Tests empty their Redis database (``flushdb``) and count the workers and jobs in it, so two
test processes must never share one. Loaded with ``-p`` (the ``addopts`` in
pyproject.toml) before pytest-django reads the settings, this moves the second process to
the database below ``REDIS_URL``'s, the third to the one below that, and so on; the
subprocesses a test starts (workers, servers) inherit the environment. The test databases
of PostgreSQL get pytest-django's own suffix (``_gw0``, ``_gw1``, ...).
"""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse

#: ``REDIS_URL``'s default in the settings.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url_of_worker(url: str, worker: str) -> str:
    """``url`` with the database number lowered by the worker's index (``gw1``: by 1)."""
    parsed = urlparse(url)
    database = int(parsed.path.strip("/") or 0) - int(worker.removeprefix("gw"))
    if database < 1:
        raise RuntimeError(
            f"{url} leaves no Redis database for test process {worker}: set REDIS_URL to a "
            "database numbered at least the number of test processes (make test uses 15)."
        )
    return urlunparse(parsed._replace(path=f"/{database}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["REDIS_URL"] = redis_url_of_worker(
        os.environ.get("REDIS_URL", DEFAULT_REDIS_URL), _worker
    )
