"""Rate limits on the doors abuse comes through: sign-up, log-in, password reset, uploads,
the emails a person can make the portal send, and the CPU-heavy pages.

Counting is django-ratelimit's, in the shared Redis cache; the rates are
settings (``RATE_LIMITS``) read at request time, so an operator can tune them
and tests can tighten them. When Redis itself is briefly unreachable the
limits fail open (and say so in the log): a family must still be able to log
in while the queue server restarts. Repeated failed log-ins for one account
are locked out separately by django-axes.

No limit counted per account can lock its owner out (docs/PRIVACY.md): a log-in
is refused for an account only from an address that has already given it a
wrong password, so the right password from any other address is always
checked; past the per-account limits of sign-up and password reset the answer
is the usual one and only the email is left out (the links already sent work).

Both count by the client's address, found by ``client_ip`` (their settings
``AXES_CLIENT_IP_CALLABLE`` and ``RATELIMIT_IP_META_KEY`` name it), so a proxy
header is believed by both or by neither.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import urls as auth_urls
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django_ratelimit.core import get_usage, is_ratelimited
from django_ratelimit.exceptions import Ratelimited
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as the trusted proxies saw it.

    Without ``TRUSTED_PROXY_HEADER`` it is ``REMOTE_ADDR`` and any forwarding
    header is ignored (a client can write whatever it likes there). With it, each
    of the ``TRUSTED_PROXY_COUNT`` proxies in front appends the address it saw,
    so the one that count from the right is the client's; what the client itself
    put to the left is never read. A request that did not pass those proxies
    (too few addresses, or not an address) counts as ``REMOTE_ADDR``.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if not header:
        return remote
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    hops = [hop.strip() for hop in request.META.get(meta_key, "").split(",") if hop.strip()]
    count = max(getattr(settings, "TRUSTED_PROXY_COUNT", 1), 1)
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def rate_for(group: str, request: HttpRequest | None = None) -> str | None:
    """The configured rate of ``group`` (``"10/h"``), or ``None`` for no limit."""
    return getattr(settings, "RATE_LIMITS", {}).get(group)


def limit(
    group: str, *, key: str = "ip", methods: Iterable[str] = ("POST",)
) -> Callable[[View], View]:
    """Refuses a request with 429 once ``key`` has used up the rate of ``group``.

    Only the listed methods count (showing a form is free; sending it is not).
    Stack several for several keys, e.g. per address and per account.
    """
    method_list = [method.upper() for method in methods]

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in method_list:
                enforce(request, group, key=key)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def enforce(request: HttpRequest, group: str, *, key: str | Callable[..., str] = "ip") -> None:
    """Counts this request in ``group`` and raises ``Ratelimited`` (a 429 page) once over.

    For a view that limits only some of its requests (an email change, not
    every save of the profile form).
    """
    try:
        over = is_ratelimited(
            request, group=group, key=key, rate=rate_for, method=is_ratelimited.ALL,
            increment=True,
        )
    except RedisError as error:
        logger.warning("rate limit %s not checked, cache unavailable: %s", group, error)
        over = False
    if over:
        logger.warning("rate limit %s reached for %s", group, request.path)
        raise Ratelimited()


def usage(
    request: HttpRequest, group: str, *, key: str | Callable[..., str], increment: bool
) -> tuple[int, int] | None:
    """How many requests ``key`` has made in ``group``'s window, and the limit.

    ``None`` when the limits are off, the group has no rate, or the cache is
    unreachable (the limits fail open).
    """
    try:
        used = get_usage(request, group=group, key=key, rate=rate_for,
                         method=is_ratelimited.ALL, increment=increment)
    except RedisError as error:
        logger.warning("rate limit %s not checked, cache unavailable: %s", group, error)
        return None
    if used is None:
        return None
    return used["count"], used["limit"]


def used_up(request: HttpRequest, group: str, *, key: str | Callable[..., str]) -> bool:
    """Whether ``key`` has used up ``group``'s rate, without counting this request."""
    used = usage(request, group, key=key, increment=False)
    return used is not None and used[0] >= used[1]


def count_over(request: HttpRequest, group: str, *, key: str | Callable[..., str]) -> bool:
    """Counts this request in ``group``; whether it goes over the rate."""
    used = usage(request, group, key=key, increment=True)
    if used is not None and used[0] > used[1]:
        logger.warning("rate limit %s reached for %s", group, request.path)
        return True
    return False


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``RATELIMIT_VIEW``: a page that says what happened and when to try again."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "600"
    return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: says the log-in is paused, for how long, and what to do."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = round(cool_off.total_seconds() / 60) if cool_off else None
    response = render(
        request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429
    )
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def posted_account(group: str, request: HttpRequest) -> str:
    """The account a log-in or reset form names, as typed (case and spaces ignored)."""
    return (request.POST.get("username") or request.POST.get("email") or "").strip().lower()


def _account_from_address(group: str, request: HttpRequest) -> str:
    """The account a form names together with the address sending it."""
    return f"{posted_account(group, request)}|{client_ip(request)}"


def guard_login(view: View) -> View:
    """The log-in's limits, none of which can keep the owner out.

    Every attempt counts per address (``login``). Per account, only wrong
    passwords count (``login_account``), and once they are used up the account
    is refused only to the addresses that gave it a wrong password in the
    window: the right password from any other address is always checked. With
    django-axes (by account and address together) this bounds guessing by the
    number of addresses, not the family's way in.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        enforce(request, "login")
        account = posted_account("login_account", request)
        if account and used_up(request, "login_account", key=posted_account) and used_up(
            request, "login_account_address", key=_account_from_address
        ):
            logger.warning("rate limit login_account reached for %s", request.path)
            raise Ratelimited()
        response = view(request, *args, **kwargs)
        # A log-in that worked redirects; the form shown again is a wrong password (whoever
        # is signed in already: their own session does not make a guess free).
        if account and response.status_code == 200:
            count_over(request, "login_account", key=posted_account)
            count_over(request, "login_account_address", key=_account_from_address)
        return response

    return wrapped


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the per-account limit leaving out the email, never the answer.

    Past ``password_reset_account`` the page answers as always ("check your
    inbox") and no new email goes out: those already sent in the window hold
    working links, so whoever floods an account with resets neither fills its
    owner's inbox nor keeps the owner from resetting.
    """

    def form_valid(self, form: Any) -> HttpResponse:
        if count_over(self.request, "password_reset_account", key=posted_account):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


#: django.contrib.auth's pages that take a password guess or send an email.
AUTH_LIMITS: dict[str, tuple[Callable[[View], View], ...]] = {
    "login": (guard_login,),
    "password_reset": (limit("password_reset"),),
}
#: Our own views in place of django.contrib.auth's.
AUTH_VIEWS: dict[str, View] = {"password_reset": PasswordResetView.as_view()}


def auth_urlpatterns() -> list[URLPattern]:
    """django.contrib.auth's account pages, log-in and password reset rate-limited."""
    patterns = []
    for pattern in auth_urls.urlpatterns:
        view = AUTH_VIEWS.get(pattern.name, pattern.callback)
        for decorator in AUTH_LIMITS.get(pattern.name, ()):
            view = decorator(view)
        patterns.append(path(str(pattern.pattern), view, name=pattern.name))
    return patterns
