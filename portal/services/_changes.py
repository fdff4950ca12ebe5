"""Shared steps of the programme admins' edits to studios and cohorts."""

from __future__ import annotations

import enum
from datetime import datetime

from portal.errors import PermissionDeniedError
from portal.models import Cohort, User


class Unset(enum.Enum):
    """The default of an update keyword that was not given (None can be a real value, e.g. no cohort)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


def require_admin(actor: User) -> None:
    if not actor.is_programme_admin:
        raise PermissionDeniedError("Only programme admins can manage studios and cohorts.")


def audit_value(value):
    """A field value as the audit trail keeps it (JSON: cohorts by name, times as ISO 8601)."""
    if isinstance(value, Cohort):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def apply_changes(instance, given: dict) -> dict:
    """Set the given (not UNSET) values that differ; return {field: [old, new]} for the audit trail."""
    changes = {}
    for field_name, new in given.items():
        if new is UNSET:
            continue
        old = getattr(instance, field_name)
        if old != new:
            changes[field_name] = [audit_value(old), audit_value(new)]
            setattr(instance, field_name, new)
    return changes

