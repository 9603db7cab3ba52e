"""``/healthz`` reports every part, and 503 when any is down."""

from __future__ import annotations

import time

import django_rq
import pytest
from rq import Worker

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for_worker(timeout: float = 120) -> None:
    connection = django_rq.get_connection("face")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any("face" in worker.queue_names() for worker in Worker.all(connection=connection)):
            return
        time.sleep(0.5)
    raise AssertionError("the face worker did not register")


def test_all_parts_ok_with_a_live_worker(client, worker_process):
    worker = worker_process(burst=False, queues=("face", "match", "notify"))
    _wait_for_worker()
    try:
        response = client.get("/healthz")
        body = response.json()
        assert response.status_code == 200, body
        assert body["status"] == "ok"
        for part in ("database", "pgvector", "redis", "queues", "workers", "model_files"):
            assert body[part]["ok"] is True, part
        assert body["pgvector"]["version"]
        assert body["workers"]["face"] >= 1
        assert set(body["queues"]["lengths"]) == {"face", "match", "notify"}
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def test_no_worker_answers_503(client, redis_queues):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["workers"]["ok"] is False
    assert body["database"]["ok"] is True


def test_missing_model_files_are_named(client, redis_queues, settings, tmp_path):
    settings.DEEPFACE_HOME = tmp_path / "empty"
    body = client.get("/healthz?checks=model_files").json()
    assert body["model_files"]["ok"] is False
    assert "dlib_face_recognition_resnet_model_v1.dat" in body["model_files"]["missing"]


def test_redis_down_answers_503(client, settings):
    settings.RQ_QUEUES = {
        name: {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 5}
        for name in ("face", "match", "notify")
    }
    response = client.get("/healthz?checks=database,redis")
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False
