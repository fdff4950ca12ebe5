"""Partner pages: the studio dashboard and the team page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal import selectors
from portal.cohorts import cohort_window
from portal.dashboard_panels import Step, checklist_steps, dashboard_panels
from portal.decorators import partner_required
from portal.errors import InviteError, MembershipError, SeatLimitError
from portal.forms.team import InviteForm, MemberRoleForm
from portal.models import Invite, Membership
from portal.services.invites import invite_create, invite_resend, invite_revoke
from portal.services.memberships import membership_change_role, membership_remove


def _is_owner(membership: Membership | None) -> bool:
    return membership is not None and membership.role == Membership.Role.OWNER


def _primary_action(steps: list[Step], membership: Membership) -> dict | None:
    """One clear next step: upload footage while the studio has none, then run a tool (viewers can do neither)."""
    if membership.role == Membership.Role.VIEWER:
        return None
    by_key = {step.key: step for step in steps}
    upload, run = by_key.get("upload"), by_key.get("run")
    if upload is not None and not upload.done:
        return {"label": "Upload footage", "url": upload.url}
    if run is not None:
        return {"label": "Run a tool", "url": run.url}
    return None


@partner_required
def dashboard(request):
    """The studio's home: what to do next (checklist, primary action), and what happened (jobs, usage, replies)."""
    membership = selectors.membership_for_user(request.user)
    context = {"membership": membership, "window": cohort_window(membership.organization if membership else None)}
    if membership is not None:
        organization = membership.organization
        steps = checklist_steps(
            user=request.user, organization=organization,
            own=selectors.getting_started_steps(request.user, organization),
        )
        context.update(
            organization=organization,
            is_owner=_is_owner(membership),
            teammates=selectors.teammates_for_organization(organization),
            pending_invite_count=selectors.pending_invites_for_organization(organization).count(),
            seats_used=selectors.seats_used(organization),
            steps=steps,
            steps_done=sum(step.done for step in steps),
            primary_action=_primary_action(steps, membership),
            panels=dashboard_panels(user=request.user, organization=organization),
        )
    return render(request, "portal/dashboard.html", context)


@partner_required
@require_http_methods(["GET", "HEAD", "POST"])
def team(request):
    """Everyone in the studio sees the team; owners also invite people and manage roles, invites and members."""
    membership = selectors.membership_for_user(request.user)
    is_owner = _is_owner(membership)
    if request.method == "POST" and not is_owner:
        raise PermissionDenied("Only the studio's owners can invite people.")
    if membership is None:
        return render(request, "portal/team.html", {"membership": None})

    organization = membership.organization
    form = InviteForm(request.POST if request.method == "POST" else None) if is_owner else None
    if request.method == "POST" and form.is_valid():
        try:
            invite, _token = invite_create(
                actor=request.user,
                email=form.cleaned_data["email"],
                organization=organization,
                role=form.cleaned_data["role"],
                request=request,
            )
        except SeatLimitError as exc:
            form.add_error(None, str(exc))
        except InviteError as exc:
            # The remaining invite errors are about the address (invalid, already a member, already invited).
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invite sent to {invite.email} as {invite.get_role_display().lower()}.")
            return redirect("portal:team")

    return render(
        request,
        "portal/team.html",
        {
            "membership": membership,
            "organization": organization,
            "is_owner": is_owner,
            "members": selectors.teammates_for_organization(organization),
            "invites": selectors.pending_invites_for_organization(organization),
            "seats_used": selectors.seats_used(organization),
            "form": form,
            "role_choices": Membership.Role.choices,
            "invite_expiry_days": settings.INVITE_EXPIRY_DAYS,
        },
    )


def _invite(request, invite_id: int) -> Invite:
    return get_object_or_404(Invite.objects.for_user(request.user).select_related("organization"), pk=invite_id)


def _membership(request, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.for_user(request.user).select_related("user", "organization"), pk=membership_id
    )


@partner_required
@require_POST
def team_invite_resend(request, invite_id):
    invite = _invite(request, invite_id)
    try:
        invite, _token = invite_resend(actor=request.user, invite=invite, request=request)
    except InviteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invite sent again to {invite.email}. The earlier link no longer works.")
    return redirect("portal:team")


@partner_required
@require_POST
def team_invite_revoke(request, invite_id):
    invite = _invite(request, invite_id)
    try:
        invite = invite_revoke(actor=request.user, invite=invite, request=request)
    except InviteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invite to {invite.email} revoked. Its link no longer works.")
    return redirect("portal:team")


@partner_required
@require_POST
def team_member_role(request, membership_id):
    membership = _membership(request, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["role"][0])
        return redirect("portal:team")
    old_role = membership.role
    try:
        membership = membership_change_role(
            actor=request.user, membership=membership, role=form.cleaned_data["role"], request=request
        )
    except MembershipError as exc:
        messages.error(request, str(exc))
    else:
        role = membership.get_role_display().lower()
        if membership.role == old_role:
            messages.info(request, f"{membership.user} is already {role}; nothing changed.")
        else:
            messages.success(request, f"{membership.user} is now {role}.")
    return redirect("portal:team")


@partner_required
@require_POST
def team_member_remove(request, membership_id):
    membership = _membership(request, membership_id)
    name, studio = str(membership.user), membership.organization.name
    leaving = membership.user_id == request.user.pk
    try:
        membership_remove(actor=request.user, membership=membership, request=request)
    except MembershipError as exc:
        messages.error(request, str(exc))
        return redirect("portal:team")
    if leaving:
        # Removing yourself closes your account: sign out rather than land on a page you can no longer open.
        logout(request)
        messages.success(request, f"You have left {studio} and your account is closed.")
        return redirect("portal:landing")
    messages.success(request, f"{name} was removed from {studio} and their account closed.")
    return redirect("portal:team")
