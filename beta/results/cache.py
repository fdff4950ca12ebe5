"""The results dashboard's jobs-and-feedback panel, cached per set of filters for RESULTS_DASHBOARD_CACHE_SECONDS.

Every cached panel carries the current *version*; `invalidate()` (called after commit where a job finishes and where a
report is submitted) sets a new version, so the next page computes afresh. NPS, surveys and blind comparisons are
not cached (they are cheap). With the setting at 0 nothing is cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)
VERSION_KEY = "results:panel:version"


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, str(time.time_ns()), None)
        version = cache.get(VERSION_KEY)
    return str(version)


def invalidate() -> None:
    """A job finished or a report was submitted: every cached panel is out of date. Never fails its caller (a job
    or a report must not fail on the cache); the panels then expire on their own."""
    try:
        cache.set(VERSION_KEY, str(time.time_ns()), None)
    except Exception:
        logger.warning("Could not invalidate the results dashboard cache", exc_info=True)


def panel(filters, compute):
    seconds = settings.RESULTS_DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    digest = hashlib.sha256(json.dumps(filters.as_params(), sort_keys=True).encode()).hexdigest()[:32]
    key = f"results:panel:{_version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
