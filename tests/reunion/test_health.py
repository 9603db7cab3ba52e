"""``/healthz``: the public learns only up or down; staff and the token holder see each part."""

from __future__ import annotations

import json
import time

import django_rq
import pytest
from rq import Worker

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "a-long-random-health-token"
PARTS = {"database", "pgvector", "redis", "queues", "workers", "model_files"}


@pytest.fixture(autouse=True)
def _token(settings) -> None:
    settings.HEALTHZ_TOKEN = TOKEN


def _wait_for_worker(timeout: float = 120) -> None:
    connection = django_rq.get_connection("face")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any("face" in worker.queue_names() for worker in Worker.all(connection=connection)):
            return
        time.sleep(0.5)
    raise AssertionError("the face worker did not register")


def _with_token(client, url: str = "/healthz", token: str = TOKEN):
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_all_parts_ok_with_a_live_worker(client, warm_worker, make_user):
    _wait_for_worker()
    public = client.get("/healthz")
    assert public.status_code == 200
    assert public.json() == {"status": "ok"}
    assert public["Cache-Control"] == "no-store"

    response = _with_token(client)
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    for part in PARTS:
        assert body[part]["ok"] is True, part
    assert body["pgvector"]["version"]
    assert body["workers"]["face"] >= 1
    assert set(body["queues"]["lengths"]) == {"face", "match", "notify"}

    # A signed-in volunteer sees the same details; a family only the verdict.
    client.force_login(make_user(volunteer=True))
    assert set(client.get("/healthz").json()) == {"status", *PARTS}
    client.force_login(make_user())
    assert client.get("/healthz").json() == {"status": "ok"}


def test_no_worker_answers_503_and_only_the_token_names_the_part(client, redis_queues):
    public = client.get("/healthz")
    assert public.status_code == 503
    assert public.json() == {"status": "down"}

    response = _with_token(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["workers"]["ok"] is False
    assert body["database"]["ok"] is True


def test_a_wrong_or_missing_token_gets_the_public_answer(client, redis_queues, settings):
    for headers in ({"HTTP_AUTHORIZATION": "Bearer not-the-token"},
                    {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
                    {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
                    {}):
        response = client.get("/healthz", **headers)
        assert response.json() == {"status": "down"}, headers
    # With no token configured, no header opens the details.
    settings.HEALTHZ_TOKEN = ""
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "down"}


def test_missing_model_files_are_named_to_the_token_holder_only(
    client, redis_queues, settings, tmp_path
):
    settings.DEEPFACE_HOME = tmp_path / "empty"
    body = _with_token(client, "/healthz?checks=model_files").json()
    assert body["model_files"]["ok"] is False
    assert "dlib_face_recognition_resnet_model_v1.dat" in body["model_files"]["missing"]

    public = client.get("/healthz?checks=model_files")
    assert public.status_code == 503
    assert public.json() == {"status": "down"}
    assert b".dat" not in public.content


def test_redis_down_answers_503_without_its_error_text(client, settings):
    settings.RQ_QUEUES = {
        name: {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 5}
        for name in ("face", "match", "notify")
    }
    response = _with_token(client, "/healthz?checks=database,redis")
    assert response.status_code == 503
    body = response.json()
    assert body["redis"]["ok"] is False and body["redis"]["error"]
    assert set(body) == {"status", "database", "redis"}

    public = client.get("/healthz?checks=database,redis")
    assert public.status_code == 503
    assert json.loads(public.content) == {"status": "down"}
    for leak in (b"6379", b"127.0.0.1", b"Error", b"version", b"lengths"):
        assert leak not in public.content


def test_the_public_can_not_narrow_the_checks(client, redis_queues):
    """A liveness subset that is up must not make a portal without workers look up."""
    response = client.get("/healthz?checks=database")
    assert response.status_code == 503
    assert _with_token(client, "/healthz?checks=database").status_code == 200
