"""Staff pages for a studio's lifecycle: suspend, lift the suspension, offboard (portal/lifecycle.py).

Programme admins act; reviewers see the studio's state on its page but none of these pages (404, like every staff
page they may not use); partners get 404 everywhere here.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal import lifecycle
from portal.decorators import admin_required
from portal.errors import PortalError
from portal.forms.lifecycle import OffboardForm, SuspendForm
from portal.models import Organization


def _studio(request, organization_id) -> Organization:
    return get_object_or_404(Organization.objects.for_user(request.user), pk=organization_id)


def studio_lifecycle_context(request, studio: Organization) -> dict:
    """What the staff studio page shows about suspension and offboarding (its forms only for programme admins)."""
    admin = request.user.is_programme_admin
    return {
        "closed_message": lifecycle.closed_message(studio),
        "documents": lifecycle.studio_documents(studio) if studio.offboarded_at else [],
        "suspend_form": SuspendForm() if admin and not studio.suspended_at and not studio.offboarded_at else None,
        "can_act": admin and not studio.offboarded_at,
    }


@admin_required
@require_POST
def studio_suspend(request, organization_id):
    studio = _studio(request, organization_id)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{studio.name} was not suspended: say why it is suspended.")
        return redirect("portal:staff-studio", organization_id=studio.pk)
    try:
        lifecycle.studio_suspend(actor=request.user, organization=studio, reason=form.cleaned_data["reason"],
                                 request=request)
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{studio.name} is suspended: its people, invites, API keys, webhooks and jobs are "
                                  "refused until you lift the suspension. Nothing was deleted.")
    return redirect("portal:staff-studio", organization_id=studio.pk)


@admin_required
@require_POST
def studio_suspension_lift(request, organization_id):
    studio = _studio(request, organization_id)
    try:
        lifecycle.studio_suspension_lift(actor=request.user, organization=studio, request=request)
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The suspension of {studio.name} is lifted: everything works again as before.")
    return redirect("portal:staff-studio", organization_id=studio.pk)


@admin_required
def studio_offboard(request, organization_id):
    """GET: what offboarding will close and delete, and the typed confirmation. POST: offboard."""
    studio = _studio(request, organization_id)
    if studio.offboarded_at:
        return redirect("portal:staff-studio", organization_id=studio.pk)
    form = OffboardForm(request.POST or None, studio=studio)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.studio_offboard(actor=request.user, organization=studio, request=request)
        except PortalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{studio.name} was offboarded. Every door is closed; a worker is deleting its "
                                      "stored bytes, and the deletion receipt is below.")
            return redirect("portal:staff-studio", organization_id=studio.pk)
    context = {"studio": studio, "form": form, "inventory": lifecycle.studio_inventory(studio)}
    return render(request, "portal/staff_studio_offboard.html", context, status=400 if form.errors else 200)
