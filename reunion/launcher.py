"""``make run``: the whole portal on one machine, stopped together by Ctrl-C.

Starts (when needed) the packaged Redis (``reunion.embedded_redis``) and the
embedded PostgreSQL, then the web server on 127.0.0.1:8000 (``REUNION_ADDRESS``)
and one face worker; prints the address; on Ctrl-C or SIGTERM stops everything
it started, in reverse order. ``REDIS_URL`` and ``DATABASE_URL`` win: a server
given there is used, never started or stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reunion import embedded_redis
from reunion.embedded_postgres import PGDATA_FOLDER, repair_handle_list, stop_server

#: ``settings.WORKER_QUEUES``, in its order (Django is not loaded here).
WORKER_QUEUES = ("face", "match", "notify", "import", "face-bulk")

BASE_DIR = Path(__file__).resolve().parent.parent
# The same data folder as the settings' (REUNION_DATA_DIR), for the servers started here.
DATA_DIR = Path(os.environ.get("REUNION_DATA_DIR", BASE_DIR / "var"))
PYTHON = sys.executable
ADDRESS = os.environ.get("REUNION_ADDRESS", "127.0.0.1:8000")


def _start_redis(url: str) -> embedded_redis.EmbeddedRedis | None:
    """The Redis at ``url`` if one answers; otherwise the packaged one, keeping its data."""
    try:
        server = embedded_redis.start(url, data_dir=DATA_DIR / "redis")
    except embedded_redis.EmbeddedRedisError as error:
        sys.exit(str(error))
    if server is not None:
        print(f"Started the packaged Redis at {url} (data in {DATA_DIR / 'redis'}).", flush=True)
    return server


def _start_postgres() -> object | None:
    """The embedded PostgreSQL in the data folder's ``PGDATA_FOLDER``, unless ``DATABASE_URL``
    names a server.

    Returns the server when this process started it (so it stops it), else ``None``.
    """
    if os.environ.get("DATABASE_URL"):
        return None
    import pgserver

    pgdata = DATA_DIR / PGDATA_FOLDER
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    older = DATA_DIR / "pgdata"  # the embedded server of earlier versions kept its data here
    if older.is_dir() and not pgdata.exists():
        print(f"Note: {older} holds the database of an earlier version, which this one does "
              f"not open; a new one starts in {pgdata}. To carry the data over, back it up "
              "with the earlier version and restore it here (docs/OPERATIONS.md).", flush=True)
    was_running = (pgdata / "postmaster.pid").exists()
    repair_handle_list(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    return None if was_running else server  # someone else's: leave it running


class Portal:
    """What ``make run`` started, stopped in reverse order whatever happens."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self.redis: embedded_redis.EmbeddedRedis | None = None
        self.postgres: object | None = None

    def stop(self, code: int = 0) -> None:
        # A second Ctrl-C must not interrupt the stopping half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.time() + 20
        for process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()
        # Last: the web server and the worker talk to both while they stop.
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.postgres is not None:
            stop_server(self.postgres)
            self.postgres = None
            # The portal's processes exit together and each rewrites the package's list of
            # its users on the way out (with no lock between processes): the package reads
            # it once more at this process's exit.
            repair_handle_list(DATA_DIR / PGDATA_FOLDER)
        sys.exit(code)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunion.settings")
    os.environ.setdefault("SITE_URL", f"http://{ADDRESS}")
    redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    portal = Portal()
    signal.signal(signal.SIGINT, lambda *_: portal.stop())
    signal.signal(signal.SIGTERM, lambda *_: portal.stop())
    try:
        portal.redis = _start_redis(redis_url)
        portal.postgres = _start_postgres()
        manage = [PYTHON, str(BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput"], check=True)
        portal.processes.append(subprocess.Popen([*manage, "runserver", ADDRESS, "--noreload"]))
        portal.processes.append(subprocess.Popen(
            [*manage, "rqworker", "--worker-class", "reunion.worker.PortalWorker",
             *WORKER_QUEUES, "--with-scheduler"]
        ))
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"Reunion could not start: {error}", file=sys.stderr, flush=True)
        portal.stop(1)
    print(f"\nReunion is running at http://{ADDRESS}/  (Ctrl-C stops it)\n", flush=True)
    while True:
        for process in portal.processes:
            if process.poll() is not None:
                print(f"a portal process exited ({process.args[2:4]}); stopping.", flush=True)
                portal.stop(1)
        time.sleep(1)


if __name__ == "__main__":
    main()
