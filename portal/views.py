from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from portal import selectors


def landing(request):
    """What a signed-out visitor sees: the closed beta, and the way in."""
    if request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "portal/landing.html")


@login_required
def home(request):
    if request.user.is_studio_staff:
        return redirect("portal:staff-home")
    return redirect("portal:dashboard")


@login_required
def dashboard(request):
    if request.user.is_studio_staff:
        return redirect("portal:staff-home")
    membership = selectors.membership_for_user(request.user)
    teammates = selectors.teammates_for_organization(membership.organization) if membership else []
    return render(request, "portal/dashboard.html", {"membership": membership, "teammates": teammates})


def _require_staff(user) -> None:
    if not user.is_studio_staff:
        raise PermissionDenied


@login_required
def staff_home(request):
    _require_staff(request.user)
    studios = selectors.organizations_overview()
    return render(request, "portal/staff_home.html", {"studios": studios})


@login_required
def staff_studios(request):
    _require_staff(request.user)
    return render(request, "portal/staff_studios.html", {"studios": selectors.organizations_overview()})
