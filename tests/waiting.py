"""Making a worker process stop where a test wants it, and waiting for what it does."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

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


def make_due(registry, job_id: str) -> datetime:
    """Brings a scheduled job's time (a retry's back-off) to now, as the clock would, so
    RQ's scheduler enqueues it at its next look instead of the test sleeping until then.

    Returns the time it had been scheduled for, which must lie ahead."""
    scheduled = registry.get_scheduled_time(job_id)
    assert scheduled > datetime.now(UTC), "the job was not scheduled for later"
    registry.connection.zadd(registry.key, {job_id: int(time.time()) - 1})
    return scheduled
