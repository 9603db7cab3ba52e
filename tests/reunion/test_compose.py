"""docker-compose.yml describes the production shape (no engine here to run it)."""

from __future__ import annotations

from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_services_and_images():
    services = _compose()["services"]
    assert set(services) == {"web", "worker", "db", "redis"}
    assert services["web"]["build"] == "."
    assert services["worker"]["image"] == services["web"]["image"]
    assert services["db"]["image"].startswith("pgvector/pgvector:")
    assert any("shared_buffers=" in part for part in services["db"]["command"])
    assert services["redis"]["image"].startswith("redis:")
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "gunicorn" in (BASE_DIR / "docker-entrypoint.sh").read_text()
    assert "pip install -r requirements.txt" in dockerfile


def test_every_service_has_a_health_check():
    for name, service in _compose()["services"].items():
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no health check"
        assert check.get("interval"), name


def test_named_volumes_for_database_media_and_model_weights():
    compose = _compose()
    assert {"db", "media", "models"} <= set(compose["volumes"])
    services = compose["services"]
    assert "db:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in ("web", "worker"):
        assert "media:/data/media" in services[name]["volumes"]
        assert "models:/data/models" in services[name]["volumes"]


def test_workers_scale():
    worker = _compose()["services"]["worker"]
    # `--scale worker=N` needs no fixed name and no published port.
    assert "container_name" not in worker
    assert "ports" not in worker


def test_production_environment():
    services = _compose()["services"]
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "false"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DEEPFACE_HOME"] == "/data/models"
        assert env["MEDIA_ROOT"] == "/data/media"
    for dependency in ("db", "redis"):
        assert services["web"]["depends_on"][dependency]["condition"] == "service_healthy"
