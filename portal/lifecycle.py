"""Suspending and offboarding a studio: every door closes at once, from the staff pages.

Each door (sign-in and the access gate, invite acceptance and resending, API keys, webhook sends, job submission)
asks one predicate, `Organization.is_active_in_beta`, and refuses with `closed_message(organization)`. Suspension
only flips that predicate (reversible: keys and webhooks are refused, not revoked; data is kept). Offboarding is
final and runs in one transaction: pending invites voided, members deactivated, and each app closes what it owns
through the closers it registers here in its AppConfig.ready() (the portal imports no other app): API keys revoked,
webhook endpoints disabled, queued and running jobs canceled, assets tombstoned with a deletion receipt whose bytes
a worker deletes after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.errors import PermissionDeniedError, StudioError
from portal.models import AuditEvent, Invite, Membership, Organization, User
from portal.selectors import membership_of
from portal.services.audit import audit_record

Action = AuditEvent.Action
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class StudioCloser:
    """What one app closes when a studio is offboarded.

    `inventory(organization)` counts what offboarding will close or delete (for the confirmation page);
    `offboard(organization=, actor=)` does it inside the offboarding transaction and returns what it did;
    `documents(organization)` lists (label, url) of what the studio is owned afterwards (the deletion receipt).
    """

    name: str
    inventory: Callable[[Organization], Mapping[str, int | None]]
    offboard: Callable[..., dict[str, Any]]
    documents: Callable[[Organization], list[tuple[str, str]]] | None = None


_closers: dict[str, StudioCloser] = {}


def register_studio_closer(closer: StudioCloser) -> None:
    _closers[closer.name] = closer


# --- The predicate's words --------------------------------------------------------------------------------------------
def closed_message(organization: Organization) -> str:
    """Why a studio's people are refused, in words for them (empty when the studio is active in the beta)."""
    contact = settings.PROGRAMME_CONTACT_EMAIL
    if organization.offboarded_at is not None:
        return f"{organization.name} has left the beta; contact {contact} if you need anything from the programme."
    if organization.suspended_at is not None:
        return f"{organization.name}'s access to the beta is suspended; contact {contact}."
    if not organization.is_active:
        return f"{organization.name} is not active in the beta; contact {contact}."
    return ""


def studio_of(user: User) -> Organization | None:
    """The partner's studio (None for staff and for people in no studio)."""
    if user is None or not user.is_authenticated or user.is_studio_staff:
        return None
    membership = membership_of(user)
    return membership.organization if membership else None


# --- What offboarding closes ------------------------------------------------------------------------------------------
#: (key, label, what happens to it) in the order the confirmation page lists them; `bytes` is shown as a size
INVENTORY = (
    ("members", "People", "deactivated: they can no longer sign in"),
    ("pending_invites", "Pending invites", "voided: their links stop working"),
    ("api_keys", "Active API keys", "revoked"),
    ("webhooks", "Enabled webhook endpoints", "disabled, and pending deliveries dropped"),
    ("active_jobs", "Queued and running jobs", "canceled (running ones stop at their next progress report)"),
    ("jobs", "Jobs in all", "records kept for the programme, without their files"),
    ("feedback", "Feedback reports", "kept for the programme's results"),
    ("assets", "Assets and outputs", "deleted, with their previews"),
    ("stored_objects", "Stored objects", "deleted from storage by a worker after the offboarding commits"),
    ("bytes", "Stored size", "deleted"),
)


def studio_inventory(organization: Organization) -> list[dict[str, Any]]:
    counts: dict[str, int | None] = {
        "members": Membership.objects.filter(organization=organization, user__is_active=True).count(),
        "pending_invites": Invite.objects.filter(organization=organization).pending().count(),
    }
    for closer in _closers.values():
        counts.update(closer.inventory(organization))
    return [
        {"key": key, "label": label, "fate": fate, "count": counts[key], "is_size": key == "bytes"}
        for key, label, fate in INVENTORY
        if key in counts
    ]


def studio_documents(organization: Organization) -> list[tuple[str, str]]:
    return [doc for closer in _closers.values() if closer.documents for doc in closer.documents(organization)]


# --- Services ---------------------------------------------------------------------------------------------------------
def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_programme_admin:
        raise PermissionDeniedError("Only programme admins can suspend or offboard a studio.")


def _locked(organization: Organization) -> Organization:
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.offboarded_at is not None:
        raise StudioError(f"{organization.name} has already been offboarded.")
    return organization


def studio_suspend(*, actor: User, organization: Organization, reason: str, request=None) -> Organization:
    """Close every door of the studio until an admin lifts the suspension. Nothing is revoked or deleted."""
    _require_admin(actor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise StudioError("Say why the studio is suspended (its people are told to contact the programme).")
    if len(reason) > MAX_REASON_CHARS:
        raise StudioError(f"Keep the reason under {MAX_REASON_CHARS} characters.")
    with transaction.atomic():
        organization = _locked(organization)
        if organization.suspended_at is not None:
            raise StudioError(f"{organization.name} is already suspended.")
        organization.suspended_at = timezone.now()
        organization.suspended_reason = reason
        organization.suspended_by = actor
        organization.save(update_fields=["suspended_at", "suspended_reason", "suspended_by", "updated_at"])
        audit_record(
            action=Action.STUDIO_SUSPENDED, actor=actor, organization=organization, target=organization,
            request=request, detail={"reason": reason},
        )
    return organization


def studio_suspension_lift(*, actor: User, organization: Organization, request=None) -> Organization:
    """Open the doors suspension closed: sign-in, invites, API keys, webhooks and jobs work again as they were."""
    _require_admin(actor)
    with transaction.atomic():
        organization = _locked(organization)
        if organization.suspended_at is None:
            raise StudioError(f"{organization.name} is not suspended.")
        detail = {"reason": organization.suspended_reason, "suspended_at": organization.suspended_at}
        organization.suspended_at, organization.suspended_reason, organization.suspended_by = None, "", None
        organization.save(update_fields=["suspended_at", "suspended_reason", "suspended_by", "updated_at"])
        audit_record(
            action=Action.STUDIO_SUSPENSION_LIFTED, actor=actor, organization=organization, target=organization,
            request=request, detail=detail,
        )
    return organization


def studio_offboard(*, actor: User, organization: Organization, request=None) -> dict[str, Any]:
    """Offboard the studio in one transaction: every door closed and its material deleted (bytes by a worker after
    commit). Returns what was done, as recorded in the audit trail."""
    _require_admin(actor)
    with transaction.atomic():
        organization = _locked(organization)
        now = timezone.now()
        done: dict[str, Any] = {
            "pending_invites": Invite.objects.filter(organization=organization).pending(now).update(revoked_at=now),
        }
        for closer in _closers.values():
            done.update(closer.offboard(organization=organization, actor=actor))
        done["members"] = User.objects.filter(memberships__organization=organization, is_active=True).update(
            is_active=False
        )
        organization.is_active = False
        organization.offboarded_at = now
        organization.save(update_fields=["is_active", "offboarded_at", "updated_at"])
        audit_record(
            action=Action.STUDIO_OFFBOARDED, actor=actor, organization=organization, target=organization,
            request=request, detail=done,
        )
    return done
