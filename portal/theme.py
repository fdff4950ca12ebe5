"""The colour theme each person picks (light, dark, or the system's), kept in a cookie so the server renders
`<html data-theme=...>` and the page never flashes the other theme. static/js/theme.js sets the same cookie (and
localStorage) without a round trip; the form posts here when scripts are off."""

from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

THEME_COOKIE = "theme"
THEMES = ("system", "light", "dark")
THEME_CHOICES = (("system", "Match system"), ("light", "Light"), ("dark", "Dark"))
ONE_YEAR = 60 * 60 * 24 * 365


def theme_from_request(request) -> str:
    value = request.COOKIES.get(THEME_COOKIE, "")
    return value if value in THEMES else "system"


def theme_set(request):
    """POST theme=<light|dark|system>&next=<path>: remember the choice and go back. Anything else is ignored."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    theme = request.POST.get("theme", "")
    if theme in THEMES:
        response.set_cookie(THEME_COOKIE, theme, max_age=ONE_YEAR, samesite="Lax", secure=request.is_secure())
    return response
