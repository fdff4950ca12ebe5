"""The access gate: MFA for staff (and partners when required), then the current beta agreement for partners."""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from portal import selectors

# Paths that must stay reachable before MFA is set up or the agreement accepted.
ALWAYS_OPEN = ("/accounts/", "/static/", "/media/", "/healthz", "/readyz", "/invite/", "/favicon",
               "/tdm-policy/", "/.well-known/", "/robots.txt")


def mfa_required(user) -> bool:
    return user.is_studio_staff or settings.REQUIRE_PARTNER_MFA


class AccessGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(ALWAYS_OPEN):
            response = self._gate(request, user)
            if response is not None:
                return response
        return self.get_response(request)

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
        return JsonResponse(
            {"type": "/api/v1/problems/forbidden", "title": "Not allowed", "status": 403, "detail": detail},
            status=403, content_type="application/problem+json",
        )
