"""Every error of the API in one shape::

    {"error": {"code": "invalid", "message": "...", "fields": {"sex": ["..."]}}}

``code`` is stable for programs, ``message`` is for people (in the request's
language), ``fields`` names each refused field (empty when none).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler, set_rollback

from families.audit import audit_record
from families.partners.selectors import partner_key_from

logger = logging.getLogger(__name__)

#: Where the API's answers are: every answer under it is JSON, errors included.
API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def activate_language(request: HttpRequest) -> None:
    """The language the call asks for (``Accept-Language``). The API's URLs carry no
    language prefix, so the site's middleware would answer in the default language."""
    translation.activate(translation.get_language_from_request(request, check_path=False))


def key_header_message() -> str:
    return _("Send your organisation's key in the header \"Authorization: Api-Key <key>\".")


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
        # A fault of Reunion's: logged with its traceback, answered in the one shape
        # (and recorded in the audit log like every call with a key).
        logger.error("API error on %s", context["request"].path, exc_info=exc)
        set_rollback()
        return Response(error_body("server_error", server_error_message()), status=500)
    if isinstance(exc, exceptions.NotAuthenticated):
        response.data = error_body(exc.default_code, key_header_message())
        return response
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


def audited_path(request: HttpRequest) -> str:
    """The path as the audit log keeps it: a NUL byte (which the database's JSON can't
    hold) written as ``\\x00``."""
    return request.path.replace("\x00", "\\x00")


def server_error_message() -> str:
    return _("Something went wrong on Reunion's side; it was logged. Try again later.")


def api_error_response(request: HttpRequest, status: int, code: str,
                       message: str) -> JsonResponse:
    """An error answered before the API's views (a body too large, a route that is not
    one, a server error outside a view), in the one shape and, when the call carries a
    known key, recorded in the audit log against its organisation like any other call."""
    activate_language(request)
    response = JsonResponse(error_body(code, message() if callable(message) else message),
                            status=status)
    keyword, _space, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if keyword.lower() == "api-key":
        try:
            key = partner_key_from(raw_key.strip())
        except Exception:  # the database may be the fault being answered
            logger.exception("the key of a refused call could not be read")
            key = None
        if key is not None:
            audit_record(actor=key.member, action="api.called", obj=key.organisation,
                         detail={"key": key.prefix, "endpoint": "", "method": request.method,
                                 "path": audited_path(request), "status": status})
    return response
