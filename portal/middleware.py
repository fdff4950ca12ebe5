"""The access gate: a complete sign-in (second factor included), MFA set up for staff (and partners when required),
then the current beta agreement for partners."""

import logging
from urllib.parse import urlsplit

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from portal import lifecycle, selectors
from portal.errors import PermissionDeniedError
from portal.problems import json_problem, problem
from portal.signin import mfa_required, session_passed_mfa

logger = logging.getLogger("greenlight.signin")
# Paths that need no signed-in person at all (a half-signed-in session is not ended for them).
NO_SESSION_NEEDED = ("/static/", "/healthz", "/readyz", "/favicon")

# Paths that must stay reachable before MFA is set up or the agreement accepted.
ALWAYS_OPEN = ("/accounts/", "/static/", "/media/", "/healthz", "/readyz", "/invite/", "/favicon",
               "/tdm-policy/", "/.well-known/", "/robots.txt")

__all__ = ["ALWAYS_OPEN", "AccessGateMiddleware", "DomainErrorMiddleware", "mfa_required"]


def _for_htmx(request, response):
    """A gate's redirect, said to htmx. A fragment request (the header's bell, a job's live status) must not swap
    the page it was sent to into the fragment: htmx is told to go there as a whole page (`HX-Redirect`), unless
    the person is already on that page (the agreement or the MFA set-up page polling its bell), which gets nothing."""
    if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302, 303, 307, 308):
        return response
    target = response["Location"]
    here = request.headers.get("HX-Current-URL", "")
    quiet = HttpResponse(status=204)
    if urlsplit(here).path != urlsplit(target).path:
        quiet["HX-Redirect"] = target
    return quiet


class AccessGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(NO_SESSION_NEEDED):
            response = self._end_password_only_session(request, user) or self._refuse_closed_studio(request, user)
            if response is None and not request.path.startswith(ALWAYS_OPEN):
                response = self._gate(request, user)
            if response is not None:
                return _for_htmx(request, response)
        return self.get_response(request)

    @staticmethod
    def _end_password_only_session(request, user):
        """A person with a second factor whose session never passed it was not signed in by allauth: sign them out.

        Every page, /accounts/ included (a password-only session must not reach the MFA or password settings).
        """
        if session_passed_mfa(request, user) or not is_mfa_enabled(user):
            return None
        logger.warning("session without its second factor ended", extra={"user_id": user.pk, "path": request.path})
        logout(request)
        if request.path.startswith("/api/"):
            return _problem("Sign in through the portal, second factor included, or use an API key.", status=401)
        return redirect_to_login(request.get_full_path())

    @staticmethod
    def _refuse_closed_studio(request, user):
        """A partner of a suspended or offboarded studio is signed out and told why, whatever the page
        (portal/lifecycle.py: the sign-in door, for sessions that began before the studio closed)."""
        if user.is_studio_staff:
            return None
        organization = lifecycle.studio_of(user)
        if organization is None or organization.is_active_in_beta:
            return None
        message = lifecycle.closed_message(organization)
        logout(request)
        if request.path.startswith("/api/"):
            return _problem(message)
        return render(request, "portal/studio_closed.html", {"message": message}, status=403)

    def _gate(self, request, user):
        if request.path.startswith("/api/"):  # a program cannot follow a redirect to a form: say what is missing
            return self._api_refusal(user)
        if mfa_required(user) and not is_mfa_enabled(user):
            messages.info(request, "Set up two-factor authentication to continue: it protects partners' material.")
            return redirect("mfa_activate_totp")
        if user.is_studio_staff:
            return None
        agreement_url = reverse("portal:agreement")
        if request.path == agreement_url:
            return None
        if not selectors.has_accepted(user, selectors.current_agreement()):
            return redirect(f"{agreement_url}?{urlencode({'next': request.get_full_path()})}")
        return None

    @staticmethod
    def _api_refusal(user):
        if mfa_required(user) and not is_mfa_enabled(user):
            detail = "Set up two-factor authentication in the portal before using the API."
        elif not user.is_studio_staff and not selectors.has_accepted(user, selectors.current_agreement()):
            detail = "Accept the current beta agreement in the portal before using the API."
        else:
            return None
        return _problem(detail)


def _problem(detail: str, status: int = 403) -> JsonResponse:
    return json_problem(problem("not-authenticated" if status == 401 else "forbidden", detail))


class DomainErrorMiddleware:
    """A service's PermissionDeniedError, raised through a page view, is a 403 like Django's PermissionDenied (same
    handler, same message). Views do not translate it themselves; the API's views answer it in DRF's exception
    handler (api/problems.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDeniedError):
            return response_for_exception(request, PermissionDenied(str(exception)))
        return None
