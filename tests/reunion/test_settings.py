"""Settings come from the environment, and production refuses to start unsafely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def _django_setup(env_changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in env_changes}
    env.update({key: value for key, value in env_changes.items() if value is not None})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.DEBUG, settings.DATABASES['default']['ENGINE'])"],
        cwd=BASE_DIR, env={**env, "DJANGO_SETTINGS_MODULE": "reunion.settings"},
        capture_output=True, text=True, timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _django_setup({"DEBUG": "false", "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_starts_with_a_secret_key():
    result = _django_setup({"DEBUG": "false", "SECRET_KEY": "x" * 60})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


def test_database_url_replaces_the_embedded_server():
    result = _django_setup(
        {"DEBUG": "true", "DATABASE_URL": "postgres://someone:pw@db.example:5432/reunion"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "django.db.backends.postgresql"
    embedded = _django_setup({"DEBUG": "true", "DATABASE_URL": None})
    assert embedded.stdout.split()[1] == "reunion.embedded_postgres"


def test_a_server_without_pgvector_gets_a_clear_error():
    """The machine's plain PostgreSQL has no pgvector: migrating must say so."""
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"],
                      capture_output=True).returncode != 0:
        raise AssertionError("a plain PostgreSQL on 127.0.0.1:5432 is needed for this test")
    database = "reunion_no_pgvector_check"
    admin_url = "postgres://postgres@127.0.0.1:5432/postgres"
    subprocess.run(["psql", admin_url, "-c", f"DROP DATABASE IF EXISTS {database}"],
                   capture_output=True, check=True)
    subprocess.run(["psql", admin_url, "-c", f"CREATE DATABASE {database}"],
                   capture_output=True, check=True)
    try:
        env = {**os.environ, "DEBUG": "true",
               "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}"}
        env.pop("REUNION_DB_NAME", None)
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env,
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode != 0
        assert "has no pgvector extension" in result.stderr
    finally:
        subprocess.run(["psql", admin_url, "-c", f"DROP DATABASE IF EXISTS {database}"],
                       capture_output=True)
