"""Invites and the beta agreement: the way into the beta."""

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from portal import selectors
from portal.adapters import INVITE_SESSION_KEY
from portal.errors import InviteError, InviteNotFoundError, StudioClosedInviteError
from portal.services.agreements import agreement_accept
from portal.services.invites import invite_for_token


@never_cache
def invite(request, token):
    """GET shows the invite and never consumes it; POST starts sign-up with the invite's email."""
    try:
        invite = invite_for_token(token)
    except InviteError as exc:
        status = 404 if isinstance(exc, InviteNotFoundError) else 410
        if isinstance(exc, StudioClosedInviteError):
            status = 403
        return render(request, "portal/invite_invalid.html", {"message": str(exc)}, status=status)
    if request.user.is_authenticated:
        return render(request, "portal/invite.html", {"invite": invite, "signed_in_as": request.user})
    if request.method == "POST":
        request.session[INVITE_SESSION_KEY] = token
        get_adapter(request).stash_verified_email(request, invite.email)
        return redirect("account_signup")
    return render(request, "portal/invite.html", {"invite": invite})


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


@login_required
def agreement(request):
    """The current beta agreement: partners accept it before any beta page."""
    current = selectors.current_agreement()
    accepted = selectors.has_accepted(request.user, current) if current else True
    if request.method == "POST" and current is not None and not request.user.is_studio_staff:
        if request.POST.get("accept") != "yes":
            messages.error(request, "Tick the box to confirm that you accept the agreement.")
            return render(
                request,
                "portal/agreement.html",
                {"agreement": current, "accepted": accepted, "next": _safe_next(request), "accept_error": True},
                status=400,
            )
        agreement_accept(user=request.user, version=current, request=request)
        messages.success(request, f"Thank you. You accepted the {current.title} (version {current.version}).")
        return redirect(_safe_next(request) or "portal:home")
    return render(
        request, "portal/agreement.html", {"agreement": current, "accepted": accepted, "next": _safe_next(request)}
    )
