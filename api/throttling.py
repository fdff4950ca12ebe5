"""Rate limits on Redis (Django's cache): per API key and per person, fixed one-window counters.

A counter is one atomic INCR, so concurrent requests are counted exactly; an answer over the limit is a 429 with
`Retry-After` (the seconds left in the window). When Redis is down the throttle fails open (config/failopen.py):
the request is served, a warning is logged and THROTTLE_FAIL_OPEN counts it.
"""

import time

from django.conf import settings
from django.core.cache import cache as _cache
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey
from config.failopen import FailOpenCache
from portal.client_ip import client_ip

cache = FailOpenCache(_cache, "api_throttle")

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400,
           "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"600/min" -> (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


class _WindowThrottle(BaseThrottle):
    setting = ""
    scope = ""

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        ident = self.ident(request)
        if ident is None:
            return True
        limit, period = parse_rate(getattr(settings, self.setting))
        now = time.time()
        window = int(now // period)
        key = f"api-throttle:{self.scope}:{ident}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
        if count is None:  # the cache is down: failed open (logged and counted)
            return True
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self):
        return max(self._wait, 1)


class KeyRateThrottle(_WindowThrottle):
    """Per API key (API_THROTTLE_KEY_RATE)."""

    setting = "API_THROTTLE_KEY_RATE"
    scope = "key"

    def ident(self, request):
        return str(request.auth.pk) if isinstance(request.auth, ApiKey) else None


class UserRateThrottle(_WindowThrottle):
    """Per person, all their keys and their session together (API_THROTTLE_USER_RATE); anonymous callers per IP."""

    setting = "API_THROTTLE_USER_RATE"
    scope = "user"

    def ident(self, request):
        if request.user and request.user.is_authenticated:
            return f"u{request.user.pk}"
        return f"ip{client_ip(request) or ''}"
