from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


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
