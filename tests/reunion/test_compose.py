"""docker-compose.yml wires the production shape together. No container engine runs here, so
each check runs what compose would run, or follows what one part names to the part that must
answer: the settings start from the environment compose gives, the services, volumes and
credentials refer to each other, the commands are the project's own, and both health checks
pass against a real server and a real worker (and fail without them)."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from rq.worker import BaseWorker

from tests.conftest import worker_environment

BASE_DIR = Path(__file__).resolve().parents[2]

# What the person starting compose must give (the header's "Start:" line).
GIVEN = {"SECRET_KEY": "k" * 60, "POSTGRES_PASSWORD": "a password", "HEALTHZ_TOKEN": "a token"}
APP_SERVICES = ("web", "worker")


def _compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def _resolve(value: object, given: dict[str, str]) -> str:
    """Compose's interpolation: ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}``."""

    def one(match: re.Match) -> str:
        name, operator, word = match.group(1), match.group(2), match.group(3) or ""
        if given.get(name):
            return given[name]
        if operator == ":?":
            raise KeyError(f"{name} must be set: {word}")
        return word if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, str(value))


def _environment(service: str, given: dict[str, str] = GIVEN) -> dict[str, str]:
    environment = _compose()["services"][service].get("environment", {})
    return {name: _resolve(value, given) for name, value in environment.items()}


def _entrypoint() -> dict[str, list[str]]:
    """The command each branch of docker-entrypoint.sh runs, as words."""
    text = (BASE_DIR / "docker-entrypoint.sh").read_text().replace("\\\n", " ")
    branches = re.findall(r"^\s*(\w+)\)\s*\n(.*?);;", text, flags=re.M | re.S)
    commands = {}
    for name, body in branches:
        line = next(line for line in body.splitlines() if line.strip().startswith("exec "))
        commands[name] = shlex.split(line)[1:]
    return commands


def _mounts(service: str) -> dict[str, str]:
    """Mount point → named volume."""
    volumes = _compose()["services"][service].get("volumes", [])
    return {target: source for source, target in (entry.split(":")[:2] for entry in volumes)}


def _production_settings(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Loads the settings in a fresh process given only compose's environment."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(json.dumps({'debug': s.DEBUG, 'engine': d['ENGINE'],"
        " 'host': d['HOST'], 'port': str(d['PORT']), 'name': d['NAME'], 'user': d['USER'],"
        " 'password': d['PASSWORD'], 'redis': s.REDIS_URL, 'media': str(s.MEDIA_ROOT),"
        " 'models': str(s.DEEPFACE_HOME), 'proxy_header': s.TRUSTED_PROXY_HEADER,"
        " 'healthz_token': s.HEALTHZ_TOKEN}))"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "reunion.settings",
           **environment}
    return subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_settings_start_in_production_from_the_environment_compose_gives(service):
    compose = _compose()
    services = compose["services"]
    result = _production_settings(_environment(service))
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["debug"] is False
    assert loaded["engine"] == "django.db.backends.postgresql", "not the embedded server"

    # The database is compose's db service, with the credentials it was created with.
    database = services[loaded["host"]]
    assert database["image"].startswith("pgvector/pgvector:"), "the migrations need pgvector"
    db_environment = _environment(loaded["host"])
    assert (loaded["port"], loaded["name"], loaded["user"], loaded["password"]) == (
        "5432", db_environment["POSTGRES_DB"], db_environment["POSTGRES_USER"],
        db_environment["POSTGRES_PASSWORD"],
    )
    # Its health check asks for that very user and database.
    words = shlex.split(database["healthcheck"]["test"][1])
    assert words[0] == "pg_isready"
    assert (words[words.index("-U") + 1], words[words.index("-d") + 1]) == (
        loaded["user"], loaded["name"])

    # Redis is compose's redis service.
    redis = urlsplit(loaded["redis"])
    assert redis.hostname in services and services[redis.hostname]["image"].startswith("redis:")
    assert (redis.port or 6379) == 6379

    # Photos and model weights live on named volumes, the same ones for web and workers.
    mounts = _mounts(service)
    assert loaded["media"] in mounts and loaded["models"] in mounts
    assert mounts[loaded["media"]] == _mounts("web")[loaded["media"]]
    assert mounts[loaded["models"]] == _mounts("web")[loaded["models"]]

    # A service that believes a forwarded address is reachable only through its proxy.
    if loaded["proxy_header"]:
        assert all(str(port).startswith("127.0.0.1:") for port in services[service]["ports"])
    if service == "web":
        assert loaded["healthz_token"] == GIVEN["HEALTHZ_TOKEN"], "its health check needs it"


def test_compose_refuses_to_start_without_what_production_needs():
    """Without a secret key, a database password or the health token compose stops with a
    message, rather than start a web process that refuses to run or a database nobody can
    reach."""
    for missing in GIVEN:
        given = {name: value for name, value in GIVEN.items() if name != missing}
        with pytest.raises(KeyError, match=missing):
            for service in (*APP_SERVICES, "db"):
                _environment(service, given)


def test_services_and_volumes_refer_to_each_other():
    compose = _compose()
    services = compose["services"]
    declared = set(compose["volumes"])
    used = set()
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for entry in service.get("volumes", []):
            source = entry.split(":")[0]
            if not source.startswith(("/", ".")):
                used.add(source)
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert used == declared, "every named volume is declared, every declared one is used"

    # One image, built once, runs web and workers; workers scale (`--scale worker=N`).
    image = services["web"]["image"]
    assert services["web"]["build"] == "."
    assert services["worker"]["image"] == image and "build" not in services["worker"]
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]


def test_the_commands_are_the_projects_own():
    compose = _compose()
    entrypoint = _entrypoint()
    web, worker = compose["services"]["web"], compose["services"]["worker"]
    assert web["command"] == ["web"] and worker["command"] == ["worker"]

    gunicorn = entrypoint["web"]
    assert gunicorn[0] == "gunicorn"
    module, attribute = gunicorn[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    bound_port = gunicorn[gunicorn.index("--bind") + 1].rsplit(":", 1)[1]
    published = [str(port).rsplit(":", 1)[1] for port in web["ports"]]
    assert published == [bound_port]
    assert f"127.0.0.1:{bound_port}/healthz" in web["healthcheck"]["test"][-1]

    rqworker = entrypoint["worker"]
    assert rqworker[:3] == ["python", "manage.py", "rqworker"]
    worker_class = rqworker[rqworker.index("--worker-class") + 1]
    module, _, name = worker_class.rpartition(".")
    assert issubclass(getattr(importlib.import_module(module), name), BaseWorker)
    queues = [word for word in rqworker[3:] if re.fullmatch(r"[a-z][a-z-]*", word)]
    assert sorted(queues) == sorted(settings.RQ_QUEUES), "the worker serves every queue"

    script = (BASE_DIR / "docker-entrypoint.sh").read_text()
    for command in re.findall(r"python manage\.py (\w+)", script):
        assert command in get_commands(), command


@pytest.mark.django_db(transaction=True)
def test_the_web_health_check_command_passes_only_with_the_token(runserver, redis_queues):
    """Compose's own command, run against a real server (no worker: only the token's
    narrower checks can pass), with the token compose gives web."""
    token = _environment("web")["HEALTHZ_TOKEN"]
    base = runserver(HEALTHZ_TOKEN=token)
    check = _compose()["services"]["web"]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    code = check[3].replace("http://127.0.0.1:8000", base)
    assert code != check[3]

    def run(token: str) -> int:
        env = {**os.environ, "HEALTHZ_TOKEN": token}
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              timeout=60).returncode

    assert run(token) == 0
    assert run("another-token") != 0


@pytest.mark.django_db(transaction=True)
def test_the_worker_health_check_sees_the_worker_the_entrypoint_starts(
    media_root, redis_queues
):
    """The entrypoint's worker command, started as the container would (its host name set),
    makes compose's worker health check pass, which fails while no such worker runs. (A worker
    that stops leaves its record for a minute; the container stops with it anyway.)"""
    check = _compose()["services"]["worker"]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    hostname = "compose-check"
    check_env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "HOSTNAME": hostname}

    def healthy() -> bool:
        return subprocess.run([sys.executable, "-c", check[3]], env=check_env,
                              capture_output=True, timeout=60).returncode == 0

    assert not healthy(), "no worker yet"
    command = [word.replace("${HOSTNAME}", hostname) for word in _entrypoint()["worker"]]
    assert command[0] == "python"
    worker = subprocess.Popen(
        [sys.executable, *command[1:]], cwd=BASE_DIR,
        env={**worker_environment(media_root), "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not healthy():
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, "the worker never became healthy"
            time.sleep(1)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            # A worker that ignores SIGTERM must not live on into the other tests; SIGABRT
            # makes it print where each of its threads stands (PYTHONFAULTHANDLER) first.
            worker.send_signal(signal.SIGABRT)
            try:
                output, _ = worker.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                output, _ = worker.communicate()
            raise AssertionError(
                f"the worker did not stop on SIGTERM:\n{output[-6000:]}") from None
    assert worker.returncode == 0, output
    assert "face model loaded" in output, "the worker serves the face queue"
