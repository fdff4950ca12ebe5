"""Programme admins' writes of the staff console: which cohorts may run each tool.

Every change goes through the ORM's save and the cohorts relation, so `beta.signals` drops the cached switch that
`beta.selectors.tool_switch_state` keeps for the catalogue and job submit (no stale availability after a change).
"""

from __future__ import annotations

from django.db import transaction

from beta import tools as catalogue
from beta.errors import ToolSwitchError
from beta.models import ToolSwitch
from portal.errors import PermissionDeniedError
from portal.models import AuditEvent, Cohort, User
from portal.services.audit import audit_record

NOTE_MAX = 200


def _require_admin(actor: User) -> None:
    if not actor.is_programme_admin:
        raise PermissionDeniedError("Only programme admins can change which cohorts may use a tool.")


def _locked_switch(tool_slug: str) -> ToolSwitch:
    """The tool's switch row, locked until the transaction ends (created, on for every cohort, if it had none)."""
    if catalogue.get_tool(tool_slug) is None:
        raise ToolSwitchError(f"There is no tool called “{tool_slug}”.")
    ToolSwitch.objects.get_or_create(slug=tool_slug)
    return ToolSwitch.objects.select_for_update().get(slug=tool_slug)


def _audit(actor: User, switch: ToolSwitch, request, **detail) -> None:
    audit_record(
        action=AuditEvent.Action.TOOL_SWITCHED, actor=actor, target=switch, request=request,
        detail={"tool": switch.slug, **detail},
    )


def tool_pause(*, actor: User, tool_slug: str, paused: bool, note: str = "", request=None) -> ToolSwitch:
    """Pause a tool for everyone (with a note partners see) or resume it; cohorts keep their choices."""
    _require_admin(actor)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ToolSwitchError(f"The note for partners has at most {NOTE_MAX} characters.")
    with transaction.atomic():
        switch = _locked_switch(tool_slug)
        switch.enabled = not paused
        switch.note = note if paused else ""
        switch.save(update_fields=["enabled", "note", "updated_at"])
        _audit(actor, switch, request, paused=paused, note=switch.note)
    return switch


def tool_cohort_set(*, actor: User, tool_slug: str, cohort: Cohort, offered: bool, request=None) -> ToolSwitch:
    """Offer a tool to one cohort or withdraw it. Withdrawing from "every cohort" keeps the others (listed by name:
    a cohort created later is then not offered the tool until an admin says so)."""
    _require_admin(actor)
    with transaction.atomic():
        switch = _locked_switch(tool_slug)
        if switch.all_cohorts and not offered:
            switch.all_cohorts = False
            switch.save(update_fields=["all_cohorts", "updated_at"])
            switch.cohorts.set(Cohort.objects.exclude(pk=cohort.pk))
        elif not switch.all_cohorts and offered:
            switch.cohorts.add(cohort)
        elif not switch.all_cohorts:
            switch.cohorts.remove(cohort)
        _audit(actor, switch, request, cohort=cohort.name, offered=offered)
    return switch


def tool_offer_to_all(*, actor: User, tool_slug: str, request=None) -> ToolSwitch:
    """Offer a tool to every cohort, those created later included."""
    _require_admin(actor)
    with transaction.atomic():
        switch = _locked_switch(tool_slug)
        switch.all_cohorts = True
        switch.save(update_fields=["all_cohorts", "updated_at"])
        switch.cohorts.clear()
        _audit(actor, switch, request, all_cohorts=True)
    return switch
