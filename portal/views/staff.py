"""Staff pages: programme overview, studios, cohorts, invites and the audit trail.

Reviewers and programme admins see the overview and the studios; everything that changes the programme
(studios, cohorts, invites) and the audit trail is for programme admins. Writes go through services.
"""

from types import SimpleNamespace

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal import selectors
from portal.cohorts import CohortWindow, cohort_window
from portal.decorators import admin_required, staff_required
from portal.errors import InviteFileError, PortalError
from portal.forms.staff import (
    AuditFilterForm,
    CohortForm,
    InviteFilterForm,
    InviteForm,
    InviteUploadForm,
    StudioCreateForm,
    StudioUpdateForm,
)
from portal.models import Cohort, Invite, Membership, Organization
from portal.services import invites as invite_services
from portal.services.cohorts import cohort_create, cohort_update
from portal.services.studios import organization_create, organization_update
from portal.views.lifecycle import studio_lifecycle_context

PAGE_SIZE = 50


def _window(cohort: Cohort, now=None) -> CohortWindow:
    """The cohort's state (upcoming, open, closed), from the same rule partners' pages use."""
    return cohort_window(SimpleNamespace(cohort=cohort), now=now)


def _with_windows(cohorts, now=None) -> list[Cohort]:
    now = now or timezone.now()
    cohorts = list(cohorts)
    for cohort in cohorts:
        cohort.window = _window(cohort, now)
    return cohorts


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _report_ignored(request, form) -> None:
    for problem in form.ignored:
        messages.warning(request, f"Filter ignored — {problem}")


# --- Overview ---------------------------------------------------------------------------------------------------------
@staff_required
def staff_home(request):
    studios = list(selectors.organizations_overview())
    context = {
        "studios": studios,
        "active_studios": sum(1 for s in studios if s.is_active),
        "member_count": sum(s.member_count for s in studios),
        "cohorts": _with_windows(selectors.cohorts_overview()),
        "pending_invites": selectors.invites_for_staff(status=Invite.Status.PENDING).count(),
        "events": list(selectors.audit_events()[:10]) if request.user.is_programme_admin else None,
    }
    return render(request, "portal/staff_home.html", context)


# --- Studios ----------------------------------------------------------------------------------------------------------
@staff_required
def studio_list(request):
    form = None
    if request.user.is_programme_admin:
        form = StudioCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                studio = organization_create(actor=request.user, request=request, **form.cleaned_data)
            except PortalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{studio.name} was created. Invite its first owner next.")
                return redirect("portal:staff-studio", organization_id=studio.pk)
    elif request.method == "POST":
        raise Http404
    studios = list(selectors.organizations_overview())
    now = timezone.now()
    for studio in studios:
        studio.window = cohort_window(studio, now)
    return render(request, "portal/staff_studios.html", {"studios": studios, "form": form})


@staff_required
def studio_detail(request, organization_id):
    studio = get_object_or_404(Organization.objects.for_user(request.user).select_related("cohort"), pk=organization_id)
    form = None
    if request.user.is_programme_admin:
        form = StudioUpdateForm.for_studio(studio, data=request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                organization_update(
                    actor=request.user, organization=studio, request=request, **form.service_kwargs(studio)
                )
            except PortalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{studio.name} was saved.")
                return redirect("portal:staff-studio", organization_id=studio.pk)
    elif request.method == "POST":
        raise Http404
    members = selectors.teammates_for_organization(studio)
    invites = selectors.pending_invites_for_organization(studio)
    context = {
        "studio": studio,
        "window": cohort_window(studio),
        "members": members,
        "invites": invites,
        "seats_used": len(members) + len(invites),
        "form": form,
        "invite_form": InviteForm(initial={"organization": studio.pk}) if request.user.is_programme_admin else None,
        **studio_lifecycle_context(request, studio),
    }
    return render(request, "portal/staff_studio.html", context)


# --- Cohorts ----------------------------------------------------------------------------------------------------------
@admin_required
def cohort_list(request):
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = cohort_create(actor=request.user, request=request, **form.cleaned_data)
        except PortalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The cohort “{cohort.name}” was created. Add studios to it next.")
            return redirect("portal:staff-cohort", cohort_id=cohort.pk)
    cohorts = _with_windows(selectors.cohorts_overview().prefetch_related("organizations"))
    return render(request, "portal/staff_cohorts.html", {"cohorts": cohorts, "form": form})


@admin_required
def cohort_detail(request, cohort_id):
    cohort = get_object_or_404(Cohort, pk=cohort_id)  # cohorts are programme-wide, not partner-owned
    form = CohortForm(request.POST or None, cohort=cohort)
    if request.method == "POST" and form.is_valid():
        try:
            cohort_update(actor=request.user, cohort=cohort, request=request, **form.cleaned_data)
        except PortalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The cohort “{form.cleaned_data['name']}” was saved.")
            return redirect("portal:staff-cohort", cohort_id=cohort.pk)
    cohort.window = _window(cohort)
    studios = selectors.organizations_overview().filter(cohort=cohort)
    return render(request, "portal/staff_cohort.html", {"cohort": cohort, "form": form, "studios": studios})


# --- Invites ----------------------------------------------------------------------------------------------------------
@admin_required
def invite_list(request):
    """The invites table with its filters; POST invites one person (and comes back here on success)."""
    invite_form = InviteForm(request.POST or None)
    if request.method == "POST" and invite_form.is_valid():
        data = invite_form.cleaned_data
        try:
            invite, _token = invite_services.invite_create(
                actor=request.user,
                email=data["email"],
                organization=data["organization"],
                role=data["role"],
                cohort=data["cohort"],
                request=request,
            )
        except PortalError as exc:
            invite_form.add_error(None, str(exc))
        else:
            messages.success(request, f"Invite sent to {invite.email} for {invite.organization.name}.")
            return _redirect_back(request)

    filter_form = InviteFilterForm(request.GET)
    _report_ignored(request, filter_form)
    filters = filter_form.filters
    studio, cohort = filters.get("studio"), filters.get("cohort")
    invites = selectors.invites_for_staff(
        status=filters.get("status", ""),
        organization_id=studio.pk if studio else None,
        cohort_id=cohort.pk if cohort else None,
        q=filters.get("q", ""),
    )
    context = {
        "page_obj": _page(request, invites),
        "filter_form": filter_form,
        "filtered": bool(filters),
        "invite_form": invite_form,
        "upload_form": InviteUploadForm(),
    }
    return render(request, "portal/staff_invites.html", context)


@admin_required
def invite_upload(request):
    """Bulk invites from a CSV: every row is checked first; any error and nothing is created."""
    form = InviteUploadForm(request.POST or None, request.FILES or None)
    result = None
    file_error = ""
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            result = invite_services.invite_bulk_create(actor=request.user, data=uploaded.read(), request=request)
        except (InviteFileError, PortalError) as exc:
            file_error = str(exc)
        else:
            form = InviteUploadForm()
    return render(
        request,
        "portal/staff_invite_upload.html",
        {"form": form, "result": result, "file_error": file_error, "roles": Membership.Role.values},
    )


def _staff_invite(request, invite_id) -> Invite:
    return get_object_or_404(Invite.objects.for_user(request.user).select_related("organization"), pk=invite_id)


def _redirect_back(request):
    """Back where the button was pressed (the filtered list or a studio page), never to another site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("portal:staff-invites")


@admin_required
@require_POST
def invite_resend(request, invite_id):
    invite = _staff_invite(request, invite_id)
    try:
        invite_services.invite_resend(actor=request.user, invite=invite, request=request)
    except PortalError as exc:
        messages.error(request, f"{invite.email}: {exc}")
    else:
        messages.success(request, f"Invite sent again to {invite.email}; the earlier link no longer works.")
    return _redirect_back(request)


@admin_required
@require_POST
def invite_revoke(request, invite_id):
    invite = _staff_invite(request, invite_id)
    try:
        invite_services.invite_revoke(actor=request.user, invite=invite, request=request)
    except PortalError as exc:
        messages.error(request, f"{invite.email}: {exc}")
    else:
        messages.success(request, f"The invite to {invite.email} was revoked; its link no longer works.")
    return _redirect_back(request)


# --- Audit trail ------------------------------------------------------------------------------------------------------
@admin_required
def audit_list(request):
    form = AuditFilterForm(request.GET)
    _report_ignored(request, form)
    filters = form.filters
    since, until = form.window
    studio = filters.get("studio")
    events = selectors.audit_events(
        action=filters.get("action", ""),
        organization_id=studio.pk if studio else None,
        actor=filters.get("actor", ""),
        since=since,
        until=until,
    )
    return render(
        request,
        "portal/staff_audit.html",
        {
            "page_obj": _page(request, events),
            "filter_form": form,
            "filtered": bool(filters),
            "chain": selectors.audit_chain_verify(),
        },
    )
