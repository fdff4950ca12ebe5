"""Each person's own time zone: `User.time_zone` (an IANA name), activated for their requests so every
`localtime`/`date` in a template shows their wall clock (the `utc` filter in portal.templatetags.when keeps UTC on
hover)."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone


def valid_time_zone(name: str) -> str:
    """The name if it is a time zone this machine knows, else ""."""
    name = (name or "").strip()[:64]
    if not name:
        return ""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    return name


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        name = valid_time_zone(getattr(user, "time_zone", "")) if user is not None and user.is_authenticated else ""
        if name:
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def time_zone_detect(request):
    """POST {time_zone: <IANA name>} from static/js/timezone.js: set once, only while the person has none."""
    from django.http import HttpResponse, HttpResponseNotAllowed

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    name = valid_time_zone(request.POST.get("time_zone", ""))
    if not name:
        return HttpResponse(status=400)
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=request.user.pk, time_zone="").update(time_zone=name)
    return HttpResponse(status=204)


def time_zone_settings(request):
    """The person's own settings: their time zone (blank: detect from the browser again), and how they hear of each
    kind of notification (the second form, posted with `form=notifications`)."""
    from django.contrib import messages
    from django.contrib.auth import get_user_model
    from django.shortcuts import redirect, render

    if not request.user.is_authenticated:
        return redirect("account_login")
    error = ""
    notification_errors: dict[str, str] = {}
    if request.method == "POST" and request.POST.get("form") == "notifications":
        notification_errors = _save_notification_preferences(request)
        if not notification_errors:
            messages.success(request, "Notification settings saved.")
            return redirect("portal:time-zone-settings")
    elif request.method == "POST":
        raw = request.POST.get("time_zone", "")
        name = valid_time_zone(raw)
        if raw.strip() and not name:
            error = "Choose a time zone from the list."
        else:
            get_user_model().objects.filter(pk=request.user.pk).update(time_zone=name)
            messages.success(request, "Time zone saved.")
            return redirect("portal:time-zone-settings")
    zones = sorted(zoneinfo.available_timezones())
    from portal.models import Notification

    context = {"zones": zones, "error": error, "notification_rows": _notification_rows(request, notification_errors),
               "channels": Notification.Channel.choices}
    return render(request, "portal/time_zone.html", context, status=400 if error or notification_errors else 200)


def _save_notification_preferences(request) -> dict[str, str]:
    from portal.errors import NotificationError
    from portal.services import notifications

    choices = {kind.key: request.POST.get(f"pref-{kind.key}", "") for kind in notifications.KINDS}
    try:
        notifications.preferences_set(user=request.user, choices=choices)
    except NotificationError as exc:
        return exc.errors
    return {}


def _notification_rows(request, errors: dict[str, str]) -> list[dict]:
    from portal.services import notifications

    current = notifications.preferences_for(request.user)
    if request.method == "POST" and errors:  # show what the person sent, next to its error
        current |= {key: request.POST.get(f"pref-{key}", "") for key in current}
    return [
        {"key": kind.key, "label": kind.label, "channel": current[kind.key], "error": errors.get(kind.key, ""),
         "field_id": "pref-" + kind.key.replace(".", "-")}
        for kind in notifications.KINDS
    ]
