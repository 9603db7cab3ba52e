"""Calls are limited per API key (``RATE_LIMITS["api_key"]``, counted in the Redis cache)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from families.models import PartnerAPIKey


class PartnerKeyThrottle(SimpleRateThrottle):
    """One budget per key; off with the portal's other rate limits (``RATELIMIT_ENABLE``)."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.RATE_LIMITS["api_key"]

    def allow_request(self, request: Request, view: object) -> bool:
        if not settings.RATELIMIT_ENABLE:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: object) -> str | None:
        if not isinstance(request.auth, PartnerAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
