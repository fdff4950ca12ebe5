"""Cohorts: created and edited by programme admins."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from portal.errors import CohortError
from portal.models import AuditEvent, Cohort, User
from portal.services._changes import UNSET, Unset, apply_changes, audit_value, require_admin
from portal.services.audit import audit_record

Action = AuditEvent.Action


def _check_window(opens_at: datetime, closes_at: datetime) -> None:
    if closes_at <= opens_at:
        raise CohortError("A cohort must close after it opens.")


def cohort_create(
    *,
    actor: User,
    name: str,
    opens_at: datetime,
    closes_at: datetime,
    description: str = "",
    request=None,
) -> Cohort:
    """Create a cohort (a wave of the beta). Partners in it run tools only between opens_at and closes_at."""
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise CohortError("A cohort needs a name.")
    _check_window(opens_at, closes_at)
    with transaction.atomic():
        if Cohort.objects.filter(name__iexact=name).exists():
            raise CohortError(f"A cohort called “{name}” already exists.")
        cohort = Cohort.objects.create(name=name, description=description, opens_at=opens_at, closes_at=closes_at)
        audit_record(
            action=Action.COHORT_CREATED,
            actor=actor,
            target=cohort,
            request=request,
            detail={"name": name, "opens_at": audit_value(opens_at), "closes_at": audit_value(closes_at)},
        )
    return cohort


def cohort_update(
    *,
    actor: User,
    cohort: Cohort,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    opens_at: datetime | Unset = UNSET,
    closes_at: datetime | Unset = UNSET,
    request=None,
) -> Cohort:
    """Change a cohort's name, description or window. Only the keywords given change; no change, no audit."""
    require_admin(actor)
    given = {"name": name, "description": description, "opens_at": opens_at, "closes_at": closes_at}
    with transaction.atomic():
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if given["name"] is not UNSET:
            given["name"] = (given["name"] or "").strip()
            if not given["name"]:
                raise CohortError("A cohort needs a name.")
        changes = apply_changes(cohort, given)
        if not changes:
            return cohort
        _check_window(cohort.opens_at, cohort.closes_at)
        if "name" in changes and Cohort.objects.filter(name__iexact=cohort.name).exclude(pk=cohort.pk).exists():
            raise CohortError(f"A cohort called “{cohort.name}” already exists.")
        cohort.save(update_fields=[*changes, "updated_at"])
        audit_record(
            action=Action.COHORT_UPDATED, actor=actor, target=cohort, request=request, detail={"changes": changes}
        )
    return cohort
