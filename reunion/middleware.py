"""A database outage answers 503 with a message instead of a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import OperationalError, InterfaceError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable: %s", exception)
        body = render_to_string("503.html", request=None)
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "30"
        return response
