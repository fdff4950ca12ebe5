"""Throttling fails open when Redis is down: a rate limit that cannot count lets the request through.

Only throttles use this (the API throttle, allauth's rate limits, the API key's use-recording gate); everything else
talks to the cache directly. Each fallback writes a warning and counts in THROTTLE_FAIL_OPEN (by where it happened),
so an outage shows in the logs and can be alerted on.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from redis.exceptions import RedisError

logger = logging.getLogger("greenlight.throttle")

#: Errors that mean "the cache is unreachable", as opposed to a bug in the caller.
CACHE_DOWN_ERRORS = (RedisError, ConnectionError, TimeoutError, OSError)


class FailOpenCounter:
    """A monotonically increasing counter per label (Prometheus style: greenlight_throttle_fail_open_total)."""

    name = "greenlight_throttle_fail_open_total"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[str] = Counter()

    def inc(self, where: str) -> None:
        with self._lock:
            self._values[where] += 1

    def value(self, where: str | None = None) -> int:
        with self._lock:
            return sum(self._values.values()) if where is None else self._values[where]

    def exposition(self) -> str:
        """The counter in the Prometheus text format."""
        with self._lock:
            lines = [f"# TYPE {self.name} counter"]
            lines += [f'{self.name}{{where="{where}"}} {count}' for where, count in sorted(self._values.items())]
        return "\n".join(lines) + "\n"


THROTTLE_FAIL_OPEN = FailOpenCounter()


def record_fail_open(where: str, exc: BaseException) -> None:
    THROTTLE_FAIL_OPEN.inc(where)
    logger.warning(
        "throttle cache unavailable, failing open (%s): %s", where, exc, extra={"throttle": where, "error": repr(exc)}
    )


class FailOpenCache:
    """A cache wrapper for rate limiters: on a cache outage, reads find nothing and writes succeed without storing.

    `add` answers True so that a lock taken with it is granted; `get` answers the default so that no history counts.
    """

    def __init__(self, cache, where: str) -> None:
        self._cache = cache
        self._where = where

    def _call(self, method: str, fallback, *args, **kwargs):
        try:
            return getattr(self._cache, method)(*args, **kwargs)
        except CACHE_DOWN_ERRORS as exc:
            record_fail_open(self._where, exc)
            return fallback

    def get(self, key, default=None, **kwargs):
        return self._call("get", default, key, default, **kwargs)

    def set(self, key, value, timeout=None, **kwargs):
        return self._call("set", None, key, value, timeout, **kwargs)

    def add(self, key, value, timeout=None, **kwargs):
        return self._call("add", True, key, value, timeout, **kwargs)

    def delete(self, key, **kwargs):
        return self._call("delete", False, key, **kwargs)

    def incr(self, key, delta=1, **kwargs):
        return self._call("incr", None, key, delta, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cache, name)
