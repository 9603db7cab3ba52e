"""Settings come from the environment, and production refuses to start unsafely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

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


PLAIN_SERVER = "postgres://postgres@127.0.0.1:5432"


def _query(statement: str) -> list[tuple]:
    """Runs one statement on the plain server's maintenance database, outside a transaction."""
    server = psycopg2.connect(f"{PLAIN_SERVER}/postgres", connect_timeout=5)
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        server.close()


def _plain_server_or_skip() -> None:
    """Skips, saying why, unless a PostgreSQL without pgvector answers at 127.0.0.1:5432."""
    try:
        offered = _query("SELECT name FROM pg_available_extensions WHERE name = 'vector'")
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split())
        pytest.skip(f"no plain PostgreSQL answers at 127.0.0.1:5432: {reason}")
    if offered:
        pytest.skip("the PostgreSQL at 127.0.0.1:5432 offers pgvector: nothing to refuse")


def test_a_server_without_pgvector_gets_a_clear_error():
    """The machine's plain PostgreSQL has no pgvector: migrating must say so."""
    _plain_server_or_skip()
    database = "reunion_no_pgvector_check"
    _query(f"DROP DATABASE IF EXISTS {database}")
    _query(f"CREATE DATABASE {database}")
    try:
        env = {**os.environ, "DEBUG": "true", "DATABASE_URL": f"{PLAIN_SERVER}/{database}"}
        env.pop("REUNION_DB_NAME", None)
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env,
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode != 0
        assert "has no pgvector extension" in result.stderr
    finally:
        _query(f"DROP DATABASE IF EXISTS {database}")
