"""``/healthz``: is every part the portal needs up? JSON, and 503 when not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import django_rq
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from rq import Worker

logger = logging.getLogger(__name__)


def _database() -> dict[str, Any]:
    # The answer is public: say that it works, not which server version runs.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return {"ok": cursor.fetchone() == (1,)}


def _pgvector() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    return {"ok": row is not None, "version": row[0] if row else None}


def _redis() -> dict[str, Any]:
    django_rq.get_connection(settings.FACE_QUEUE).ping()
    return {"ok": True}


def _queues() -> dict[str, Any]:
    lengths = {
        name: django_rq.get_queue(name).count
        for name in (settings.FACE_QUEUE, settings.MATCH_QUEUE, settings.NOTIFY_QUEUE)
    }
    return {"ok": True, "lengths": lengths}


def _workers() -> dict[str, Any]:
    workers = Worker.all(connection=django_rq.get_connection(settings.FACE_QUEUE))
    face_workers = [w for w in workers if settings.FACE_QUEUE in w.queue_names()]
    return {"ok": bool(face_workers), "live": len(workers), "face": len(face_workers)}


def _model_files() -> dict[str, Any]:
    from matching.deepface_engine import missing_weight_files

    missing = missing_weight_files()
    return {"ok": not missing, "missing": missing}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _database,
    "pgvector": _pgvector,
    "redis": _redis,
    "queues": _queues,
    "workers": _workers,
    "model_files": _model_files,
}


def healthz(request: HttpRequest) -> JsonResponse:
    """All checks, or those named in ``?checks=a,b`` (a web container's own liveness)."""
    wanted = [name for name in request.GET.get("checks", "").split(",") if name in CHECKS]
    report: dict[str, Any] = {}
    for name in wanted or CHECKS:
        check = CHECKS[name]
        try:
            report[name] = check()
        except Exception as error:  # each check reports its own failure
            logger.warning("health check %s failed: %s", name, error)
            report[name] = {"ok": False, "error": str(error)[:200]}
    healthy = all(part["ok"] for part in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **report}, status=200 if healthy else 503
    )
