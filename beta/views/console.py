"""The staff console's tools and quotas pages.

Tools: the catalogue with each tool's version, queue, time limits and configuration, its availability per cohort
(switches), the queues live (htmx polling) and the jobs that failed in the last day. Quotas: each studio's usage
against its four limits, and a form to change them. Reviewers read; programme admins change (anyone else's POST is
a 404, as on the other staff pages). Writes go through services, which audit them.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from beta import tools as catalogue
from beta.errors import ToolSwitchError
from beta.programme import selectors
from beta.programme.forms import QuotaForm, ToolSwitchForm
from beta.programme.services import tool_cohort_set, tool_offer_to_all, tool_pause
from portal.decorators import admin_required, staff_required
from portal.errors import PortalError
from portal.models import Organization
from portal.services.studios import organization_update

QUEUE_POLL_SECONDS = 5


def _queues_context() -> dict:
    now = timezone.now()
    failed, failed_count = selectors.failed_jobs_recent(now)
    return {
        "queues": selectors.queues_overview(now),
        "failed_jobs": failed,
        "failed_count": failed_count,
        "seen_seconds": selectors.WORKER_SEEN_SECONDS,
        "poll_seconds": QUEUE_POLL_SECONDS,
        "checked_at": now,
    }


# --- Tools ------------------------------------------------------------------------------------------------------------
@staff_required
@require_GET
def tools_page(request):
    context = {"tools": selectors.tools_overview(), "can_change": request.user.is_programme_admin, **_queues_context()}
    return render(request, "beta/console/tools.html", context)


@staff_required
@require_GET
def tools_queues(request):
    """The live part of the tools page (queues and recent failures), polled by htmx."""
    return render(request, "beta/console/_queues.html", _queues_context())


def _switch(request, tool_slug: str, form: ToolSwitchForm) -> str:
    """Apply one switch; the message saying what changed."""
    action, cohort = form.cleaned_data["action"], form.cleaned_data.get("cohort")
    tool = catalogue.get_tool(tool_slug)
    name = tool.name if tool else tool_slug
    if action in ("pause", "resume"):
        switch = tool_pause(actor=request.user, tool_slug=tool_slug, paused=action == "pause",
                            note=form.cleaned_data.get("note", ""), request=request)
        return f"{name} is paused for every cohort." if not switch.enabled else f"{name} runs again."
    if action == "offer-all":
        tool_offer_to_all(actor=request.user, tool_slug=tool_slug, request=request)
        return f"{name} is offered to every cohort, including those created later."
    if cohort is None:  # the form requires one for "offer" and "withdraw"
        raise ToolSwitchError("Choose the cohort to offer the tool to or withdraw it from.")
    tool_cohort_set(actor=request.user, tool_slug=tool_slug, cohort=cohort, offered=action == "offer", request=request)
    return f"{name} is {'now offered to' if action == 'offer' else 'no longer offered to'} {cohort.name}."


@admin_required
@require_POST
def tool_switch(request, tool_slug):
    form = ToolSwitchForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {form.first_error()}")
        return redirect("beta:staff-tools")
    try:
        done = _switch(request, tool_slug, form)
    except PortalError as exc:
        messages.error(request, f"Nothing was changed. {exc}")
    else:
        messages.success(request, done)
    return redirect(f"{reverse('beta:staff-tools')}#tool-{tool_slug}")


# --- Quotas -----------------------------------------------------------------------------------------------------------
@staff_required
@require_GET
def quota_list(request):
    studios = list(Organization.objects.for_user(request.user).select_related("cohort").order_by("name"))
    usage = selectors.quota_usage(studios)
    rows = [{"studio": studio, "lines": usage[studio.pk]} for studio in studios]
    return render(request, "beta/console/quotas.html", {"rows": rows})


@staff_required
def quota_detail(request, organization_id):
    studio = get_object_or_404(Organization.objects.for_user(request.user).select_related("cohort"), pk=organization_id)
    form = None
    if request.user.is_programme_admin:
        form = QuotaForm.for_studio(studio, data=request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                organization_update(actor=request.user, organization=studio, request=request,
                                    **form.service_kwargs(studio))
            except PortalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{studio.name}'s limits were saved.")
                return redirect("beta:staff-quota", organization_id=studio.pk)
    elif request.method == "POST":
        raise Http404
    lines = selectors.quota_usage([studio])[studio.pk]
    status = 400 if form is not None and form.errors else 200
    return render(request, "beta/console/quota.html", {"studio": studio, "lines": lines, "form": form}, status=status)
