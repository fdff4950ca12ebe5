"""The results dashboard's numbers, cached per set of filters for RESULTS_DASHBOARD_CACHE_SECONDS.

What is cached: the whole computed dashboard (`selectors.dashboard`: jobs-and-feedback panel, NPS, surveys, blind
comparisons, studio labels) and the page's rendered SVG charts, each under its own name. Every entry carries the
current *version*; `invalidate()` sets a new version, so the next page computes afresh. It is called after commit
where a job finishes, a report is submitted, a survey response is saved and a comparison vote is given. Other changes
(a studio renamed, a survey's questions edited, a cohort moved) show when the entries expire. Staff's chosen quotes,
the recent reports and the filter choices are read live on every page. With the setting at 0 nothing is cached.
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
    """A job finished, or a report, survey response or vote was submitted: every cached entry is out of date.
    Never fails its caller (a job or a report must not fail on the cache); the entries then expire on their own."""
    try:
        cache.set(VERSION_KEY, str(time.time_ns()), None)
    except Exception:
        logger.warning("Could not invalidate the results dashboard cache", exc_info=True)


def cached(name: str, filters, compute, *, version: str | None = None):
    """`compute()`'s value for these filters, from the cache when it is there (`name` keeps kinds apart). `version`
    pins an entry to something other than the current version: the page's HTML is pinned to the computed data it was
    drawn from, so HTML and numbers never disagree."""
    seconds = settings.RESULTS_DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    digest = hashlib.sha256(json.dumps(filters.as_params(), sort_keys=True).encode()).hexdigest()[:32]
    key = f"results:{name}:{version or _version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
