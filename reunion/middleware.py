"""A database outage answers 503 with a message instead of a stack trace.

Views raise ``OperationalError``/``InterfaceError`` when PostgreSQL is down
or restarting; ``DatabaseUnavailableMiddleware`` turns those into a 503 page
that says what happened and asks the visitor to try again shortly (with
``Retry-After``). Errors raised outside a view (a session saved after the
response, a middleware's own query) reach ``server_error``, the 500 handler,
which answers the same 503 when the cause is the database. Nothing that was
accepted is lost: uploads are committed before they are acknowledged, and the
work they queue is found again by ``manage.py reconcile``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, UnreadablePostError
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django_ratelimit.exceptions import Ratelimited

from families.partners.api.errors import api_error_response, is_api, server_error_message
from families.selectors import partner_organisations_of
from reunion.errors import server_error_page
from reunion.ratelimits import rate_limited, used_up

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def database_unavailable_response() -> HttpResponse:
    """The 503 page. Rendered without the request: its context processors would query."""
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _caused_by_database(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, DATABASE_ERRORS):
            return True
        error = error.__cause__ or error.__context__
    return False


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _caused_by_database(exception):
            return None
        logger.error("database unavailable: %s: %s", type(exception).__name__, exception)
        return database_unavailable_response()


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 when the database is the cause, the API's error shape under
    ``/api/``, the portal's 500 page otherwise."""
    if _caused_by_database(sys.exc_info()[1]):
        logger.error("database unavailable outside a view: %s", sys.exc_info()[1])
        return database_unavailable_response()
    if is_api(request):
        return api_error_response(request, 500, "server_error", server_error_message)
    try:
        return server_error_page(request)
    except Exception:
        return HttpResponseServerError("<h1>Server Error (500)</h1>")


class RequestSizeLimitMiddleware:
    """Refuses a request body larger than ``REQUEST_MAX_BYTES`` before anything reads it.

    Django bounds form fields but not uploaded files, which it would spool to disk
    whatever their size; a photo is at most ``PHOTO_MAX_BYTES``, so a much larger
    body is refused at once with 413 and a message. The one exception is a partner's
    import, from an active member of an active organisation within its rate. A
    smaller body is parsed here, so that form fields over Django's own bound
    (``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``RequestDataTooBig``) get the same page
    rather than a bare 400 (or, with
    DEBUG on, the debug page); the CSRF check would parse it next anyway.

    The answer sets no ``Connection`` header: it is hop-by-hop, which a WSGI
    application must not send (the development server refuses the whole response
    with a 500); the server decides whether to keep the connection.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_large = length > settings.REQUEST_MAX_BYTES
        bulk = too_large and _is_bulk_upload(request)
        if bulk:
            if used_up(request, BULK_UPLOAD_RATE, key="user"):
                logger.warning("refused a %d-byte import past its rate", length)
                return rate_limited(request, Ratelimited())
            too_large = length > _bulk_max_bytes()
        if not too_large and request.method == "POST":
            try:
                request.POST  # noqa: B018 (parsed now, within Django's bounds, or refused)
            except RequestDataTooBig:
                too_large = True
            except UnreadablePostError:
                pass  # the client went away; the CSRF check answers as it always has
        if too_large:
            logger.warning("refused a %d-byte request to %s", length, request.path)
            if is_api(request):
                return api_error_response(request, 413, "too_large", lambda: _(
                    "The request is larger than %(mb)d MB: a photo is at most %(mb)d MB.")
                    % {"mb": settings.PHOTO_MAX_BYTES // 2**20})
            return render(request, "413.html", {
                "limit_mb": settings.PHOTO_MAX_BYTES // 2**20,
                "bulk_limit_mb": _bulk_max_bytes() // 2**20 if bulk else None,
            }, status=413)
        return self.get_response(request)


#: The one page that takes more than a photo: a partner's CSV and zip of photos.
BULK_UPLOAD_VIEW = "partners:partner_imports"


#: Its rate, per account (``RATE_LIMITS``), counted by the view.
BULK_UPLOAD_RATE = "partner_import"


def _is_bulk_upload(request: HttpRequest) -> bool:
    """An active member of an active partner organisation sending an import.

    Anyone else (a visitor, any other account, confirmed or not) is refused before
    a byte of the body is read, as on every other page. Asked only of a body larger
    than a photo's, so the session (the database) is read for those alone."""
    try:
        if resolve(request.path_info).view_name != BULK_UPLOAD_VIEW:
            return False
    except Resolver404:
        return False
    return partner_organisations_of(request.user).exists()


def _bulk_max_bytes() -> int:
    return (settings.PARTNER_IMPORT_ZIP_MAX_BYTES + settings.PARTNER_IMPORT_CSV_MAX_BYTES
            + 2**20)
