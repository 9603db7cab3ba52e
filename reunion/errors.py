"""The portal's own error pages (404, 403, 500), in the visitor's language, with a way back.

An old email link or a mistyped address must not end on a bare English "Not Found":
the page says what happened, kindly, and where to go next. A path with a language
prefix (``/zh-hans/...``) keeps that language; a path without one is answered in the
language the visitor chose (the language cookie) or their browser asks for
(Accept-Language), since such a path may be a link from before the prefixes.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from families.partners.api.errors import api_error_response, is_api


def visitor_language(request: HttpRequest) -> str:
    """The language of the path's prefix, else the visitor's cookie or browser."""
    from_path = translation.get_language_from_path(request.path_info)
    return from_path or translation.get_language_from_request(request)


def _render(request: HttpRequest, template: str, status: int) -> HttpResponse:
    language = visitor_language(request)
    with translation.override(language):
        response = render(request, template, {"request_path": request.path}, status=status)
    response["Content-Language"] = language
    return response


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the page is not here (or not for this visitor: the same answer); under
    ``/api/`` the API's error shape."""
    if is_api(request):
        return api_error_response(request, 404, "not_found", lambda: _(
            "There is no such endpoint. The endpoints are listed at /api/v1/docs/."))
    return _render(request, "404.html", 404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``: this account may not do that."""
    return _render(request, "403.html", 403)


def server_error_page(request: HttpRequest) -> HttpResponse:
    """The 500 page. Rendered without context processors: they may be what failed."""
    language = visitor_language(request)
    with translation.override(language):
        body = loader.render_to_string("500.html", {"LANGUAGE_CODE": language})
    response = HttpResponse(body, status=500)
    response["Content-Language"] = language
    return response
