"""Calls are limited per API key with a token bucket, counted in Redis.

A key holds up to ``RATE_LIMITS["api_key_burst"]`` calls at once (never more than the
sustained rate's own count) and earns them back at the sustained rate,
``RATE_LIMITS["api_key"]`` (1200/h: one every 3 seconds). A partner that sends a
burst waits for the next call it has earned, and ``Retry-After`` says how long: a few
seconds, not the rest of the hour a fixed window would take.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from families.models import PartnerAPIKey
from reunion import queueing

#: Takes one call from the bucket if it holds one. KEYS[1]: the bucket; ARGV: capacity,
#: calls earned per second, now (seconds). Returns {allowed, seconds until the next call}.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate end
return {allowed, tostring(wait)}
"""

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"1200/h"`` as (1200, 3600): calls, and the seconds they are counted over."""
    count, _slash, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


class PartnerKeyThrottle(BaseThrottle):
    """One bucket per key; off with the portal's other rate limits (``RATELIMIT_ENABLE``)."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        if not settings.RATELIMIT_ENABLE or not isinstance(request.auth, PartnerAPIKey):
            return True
        count, seconds = parse_rate(settings.RATE_LIMITS["api_key"])
        burst = int(settings.RATE_LIMITS.get("api_key_burst", count))
        capacity = max(1, min(burst, count))
        redis = queueing.connection()
        allowed, wait = redis.eval(_TAKE, 1, f"api-key-bucket:{request.auth.prefix}",
                                   capacity, count / seconds, time.time())
        self._wait = float(wait)
        return bool(int(allowed))

    def wait(self) -> float | None:
        """Seconds until the key has earned its next call (at least one)."""
        return max(1, math.ceil(self._wait)) if self._wait is not None else None
