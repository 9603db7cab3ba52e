"""Every error of the API in one shape::

    {"error": {"code": "invalid", "message": "...", "fields": {"sex": ["..."]}}}

``code`` is stable for programs, ``message`` is for people (in the request's
language), ``fields`` names each refused field (empty when none).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            name: _fields(value) if isinstance(value, dict) else [str(m) for m in _flatten(value)]
            for name, value in detail.items()
        }
    return {"non_field_errors": [str(m) for m in _flatten(detail)]}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with services' ``ValidationError`` as a 400, in the one shape."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's own handler answers 500
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        messages = _flatten(exc.detail)
        body = error_body("invalid", messages[0] if messages else _("The request is not valid."),
                          fields)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        message = _flatten(exc.detail)[0] if isinstance(exc, exceptions.APIException) else ""
        body = error_body(code, message)
    response.data = body  # a refused call for too many requests keeps DRF's Retry-After header
    return response
