"""Fixtures for tests of the whole web process."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR, worker_environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def runserver(media_root: Path) -> Iterator[Callable[..., str]]:
    """Starts ``manage.py runserver`` (DEBUG on, as ``make run`` does) on a free loopback
    port against the test database and Redis; returns its base URL."""
    started: list[subprocess.Popen] = []

    def start(**environment: str) -> str:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=BASE_DIR, env={**worker_environment(media_root), **environment},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        started.append(process)
        deadline = time.time() + 90
        while time.time() < deadline:
            assert process.poll() is None, process.stdout.read()
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                probe.request("GET", "/healthz")
                probe.getresponse().read()  # any answer will do (503 without a worker)
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.3)
            finally:
                probe.close()
        raise AssertionError("the development server did not start")

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
