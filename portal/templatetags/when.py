"""Times as people read them: `ago` (a relative time that is never in the future: a timestamp a little ahead of the
server's clock reads "now", not "4 hours from now") and `utc` (the same instant in UTC, for a title on hover).

Local times come from Django's current time zone, which `portal.middleware_timezone` activates per person."""

from __future__ import annotations

import datetime as dt

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone

register = template.Library()


@register.filter
def ago(value):
    """naturaltime, clamped to the past: a future instant (clock skew, a bad seed) shows as "now"."""
    if not isinstance(value, dt.datetime):
        return naturaltime(value)
    now = timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return naturaltime(min(value, now))


@register.filter
def utc(value, fmt: str = "Y-m-d H:i:s") -> str:
    """The instant in UTC, e.g. "2026-05-04 13:20:00 UTC"."""
    if not isinstance(value, dt.datetime):
        return ""
    from django.utils.dateformat import format as date_format

    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return f"{date_format(value.astimezone(dt.UTC), fmt)} UTC"
