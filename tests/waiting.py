"""Making a worker process stop where a test wants it, and waiting for what it does."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg2
from django.db import connection


def lock_row(table: str, pk: int):
    """Holds a row lock from another connection, so a worker touching the row waits there.

    Returns the holding connection: ``rollback()`` and ``close()`` it to let the worker on.
    """
    holder = psycopg2.connect(**connection.get_connection_params())
    cursor = holder.cursor()
    cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608
    return holder


def someone_waits_for_a_lock() -> bool:
    """Whether a connection to this test database is waiting for a row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
