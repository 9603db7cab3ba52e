"""``/healthz``: is every part the portal needs up? JSON, and 503 when not.

The public learns only ``{"status": "ok"}`` or ``{"status": "down"}``: versions,
error text, queue lengths and file names help an attacker more than a visitor.
The details go to a signed-in volunteer or admin, or to a caller that sends the
operator's token (``HEALTHZ_TOKEN``) as ``Authorization: Bearer <token>``, such
as the container health check; only they may narrow the checks with ``?checks=``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from families.selectors import is_volunteer
from reunion import queueing

logger = logging.getLogger(__name__)


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return {"ok": cursor.fetchone() == (1,)}


def _pgvector() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    return {"ok": row is not None, "version": row[0] if row else None}


def _redis() -> dict[str, Any]:
    queueing.connection().ping()
    return {"ok": True}


def _queues() -> dict[str, Any]:
    lengths = {
        name: queueing.queue(name).count
        for name in (settings.FACE_QUEUE, settings.MATCH_QUEUE, settings.NOTIFY_QUEUE)
    }
    return {"ok": True, "lengths": lengths}


def _workers() -> dict[str, Any]:
    workers = queueing.workers()
    face_workers = queueing.face_workers()
    return {"ok": bool(face_workers), "live": len(workers), "face": len(face_workers)}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _database,
    "pgvector": _pgvector,
    "redis": _redis,
    "queues": _queues,
    "workers": _workers,
}


def register_check(name: str, check: Callable[[], dict[str, Any]]) -> None:
    """Adds a part to the report (an app's ``AppConfig.ready``; matching: ``model_files``).
    ``check()`` returns at least ``{"ok": bool}``; an exception reports the part down."""
    CHECKS[name] = check


def _token_matches(request: HttpRequest) -> bool:
    """Whether the request carries the operator's token (compared in constant time)."""
    expected = getattr(settings, "HEALTHZ_TOKEN", "")
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def may_see_details(request: HttpRequest) -> bool:
    """Staff (volunteers, admins) and holders of the token see each part; others the verdict."""
    if _token_matches(request):
        return True
    user = getattr(request, "user", None)
    return user is not None and is_volunteer(user)


def healthz(request: HttpRequest) -> JsonResponse:
    """All checks, or (for those who see details) those named in ``?checks=a,b``."""
    details = may_see_details(request)
    wanted = [name for name in request.GET.get("checks", "").split(",") if name in CHECKS]
    report: dict[str, Any] = {}
    for name in (wanted if details and wanted else CHECKS):
        try:
            report[name] = CHECKS[name]()
        except Exception as error:  # each check reports its own failure
            logger.warning("health check %s failed: %s", name, error)
            report[name] = {"ok": False, "error": str(error)[:200]}
    healthy = all(part["ok"] for part in report.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "down"}
    if details:
        body.update(report)
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
