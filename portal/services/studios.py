"""Partner studios (Organization): created and edited by programme admins."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from portal.errors import StudioError
from portal.models import AuditEvent, Cohort, Organization, User
from portal.selectors import seats_used
from portal.services._changes import UNSET, Unset, apply_changes, audit_value, require_admin
from portal.services.audit import audit_record

Action = AuditEvent.Action


def organization_create(
    *,
    actor: User,
    name: str,
    slug: str = "",
    cohort: Cohort | None = None,
    seat_limit: int = 10,
    request=None,
) -> Organization:
    """Create a partner studio. The slug is made from the name when not given."""
    require_admin(actor)
    name = (name or "").strip()
    slug = slugify(slug or name)[:60]
    if not name:
        raise StudioError("A studio needs a name.")
    if not slug:
        raise StudioError("A studio needs a short name (slug) made of letters, digits or hyphens.")
    if seat_limit < 1:
        raise StudioError("A studio needs at least one seat.")
    with transaction.atomic():
        if Organization.objects.filter(name__iexact=name).exists():
            raise StudioError(f"A studio called “{name}” already exists.")
        if Organization.objects.filter(slug__iexact=slug).exists():
            raise StudioError(f"The short name “{slug}” is taken by another studio.")
        organization = Organization.objects.create(name=name, slug=slug, cohort=cohort, seat_limit=seat_limit)
        audit_record(
            action=Action.STUDIO_CREATED,
            actor=actor,
            organization=organization,
            target=organization,
            request=request,
            detail={"name": name, "slug": slug, "seat_limit": seat_limit, "cohort": audit_value(cohort)},
        )
    return organization


def _check_limits(organization: Organization, changes: dict) -> None:
    """A changed seat limit holds everyone in it (and at least one seat); a studio can run at least one job."""
    if "seat_limit" in changes:
        if organization.seat_limit < 1:
            raise StudioError("A studio needs at least one seat.")
        in_use = seats_used(organization)
        if organization.seat_limit < in_use:
            raise StudioError(
                f"{organization.name} uses {in_use} seats (members and pending invites); the limit cannot go "
                f"below that. Revoke invites or remove people first."
            )
    if "max_concurrent_jobs" in changes and organization.max_concurrent_jobs < 1:
        raise StudioError("A studio must be able to run at least one job at a time.")
    if "storage_quota_bytes" in changes and organization.storage_quota_bytes < 1:
        raise StudioError("A studio's storage quota must be more than nothing.")
    for name in ("monthly_job_quota", "monthly_compute_minutes"):
        if name in changes and getattr(organization, name) < 0:
            raise StudioError("A monthly quota cannot be negative.")


def organization_update(
    *,
    actor: User,
    organization: Organization,
    seat_limit: int | Unset = UNSET,
    cohort: Cohort | Unset | None = UNSET,
    is_active: bool | Unset = UNSET,
    storage_quota_bytes: int | Unset = UNSET,
    monthly_job_quota: int | Unset = UNSET,
    monthly_compute_minutes: int | Unset = UNSET,
    max_concurrent_jobs: int | Unset = UNSET,
    request=None,
) -> Organization:
    """Change a studio's seats, cohort, active flag or quotas. Only the keywords given change; no change, no audit.

    The seat limit cannot drop below the seats in use (members plus pending invites): nobody is removed silently.
    """
    require_admin(actor)
    given = {
        "seat_limit": seat_limit,
        "cohort": cohort,
        "is_active": is_active,
        "storage_quota_bytes": storage_quota_bytes,
        "monthly_job_quota": monthly_job_quota,
        "monthly_compute_minutes": monthly_compute_minutes,
        "max_concurrent_jobs": max_concurrent_jobs,
    }
    with transaction.atomic():
        organization = (
            Organization.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=organization.pk)
        )
        changes = apply_changes(organization, given)
        if not changes:
            return organization
        _check_limits(organization, changes)
        organization.save(update_fields=[*changes, "updated_at"])
        audit_record(
            action=Action.STUDIO_UPDATED,
            actor=actor,
            organization=organization,
            target=organization,
            request=request,
            detail={"changes": changes},
        )
    return organization

