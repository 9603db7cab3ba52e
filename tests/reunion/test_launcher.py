"""``make run`` (reunion/launcher.py) on a machine with no Redis: it starts the packaged one,
serves, and a Ctrl-C stops everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from reunion import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local address)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_make_run_starts_the_packaged_redis_and_ctrl_c_stops_everything(tmp_path):
    web, redis_port = _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    assert not embedded_redis.answers(redis_url)
    env = {
        **os.environ, "DEBUG": "true", "REDIS_URL": redis_url,
        "REUNION_ADDRESS": f"127.0.0.1:{web}", "MEDIA_ROOT": str(tmp_path / "media"),
        # The test database, already migrated: the launcher's migrate has nothing to do.
        "REUNION_DB_NAME": connection.settings_dict["NAME"],
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "reunion.launcher"], cwd=BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and launcher.poll() is None:
            if _status(f"http://127.0.0.1:{web}/healthz") == 200:
                break
            time.sleep(1)
        assert _status(f"http://127.0.0.1:{web}/healthz") == 200, launcher.poll()
        assert embedded_redis.answers(redis_url)
        assert _status(f"http://127.0.0.1:{web}/") == 200

        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
        output, _ = launcher.communicate(timeout=90)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        for leftover in (BASE_DIR / "var" / "redis").glob(f"*-{redis_port}.*"):
            leftover.unlink()
    assert launcher.returncode == 0, output
    assert "Started the packaged Redis" in output
    assert not embedded_redis.answers(redis_url)
    assert _status(f"http://127.0.0.1:{web}/healthz") is None


def test_make_run_starts_a_worker_on_every_queue_in_the_settings_order():
    from django.conf import settings

    from reunion import launcher

    assert launcher.WORKER_QUEUES == settings.WORKER_QUEUES
    assert set(settings.RQ_QUEUES) == set(settings.WORKER_QUEUES)
