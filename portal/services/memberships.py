"""Memberships: role changes and removals by a studio's owners."""

from __future__ import annotations

from django.db import transaction

from portal.errors import MembershipError, PermissionDeniedError
from portal.models import AuditEvent, Membership, Organization, User
from portal.services.audit import audit_record

Action = AuditEvent.Action


def _require_owner_or_admin(actor: User, organization: Organization) -> None:
    if actor.is_programme_admin:
        return
    if not Membership.objects.filter(user=actor, organization=organization, role=Membership.Role.OWNER).exists():
        raise PermissionDeniedError("Only the studio's owners can manage its team.")


def _other_owners(membership: Membership) -> int:
    return (
        Membership.objects.filter(organization_id=membership.organization_id, role=Membership.Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


def membership_change_role(*, actor: User, membership: Membership, role: str, request=None) -> Membership:
    if role not in Membership.Role.values:
        raise MembershipError(f"“{role}” is not a role.")
    _require_owner_or_admin(actor, membership.organization)
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=membership.organization_id)
        membership = Membership.objects.select_related("user", "organization").get(pk=membership.pk)
        old = membership.role
        if old == role:
            return membership
        if old == Membership.Role.OWNER and _other_owners(membership) == 0:
            raise MembershipError("A studio needs at least one owner. Make someone else an owner first.")
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_record(
            action=Action.ROLE_CHANGED,
            actor=actor,
            organization=membership.organization,
            target=membership,
            request=request,
            detail={"user": membership.user.email, "from": old, "to": role},
        )
    return membership


def membership_remove(*, actor: User, membership: Membership, request=None) -> None:
    """Remove a person from their studio and close their account (partner accounts exist only for a studio)."""
    _require_owner_or_admin(actor, membership.organization)
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=membership.organization_id)
        membership = Membership.objects.select_related("user", "organization").get(pk=membership.pk)
        if membership.role == Membership.Role.OWNER and _other_owners(membership) == 0:
            raise MembershipError("A studio needs at least one owner. Make someone else an owner first.")
        user = membership.user
        audit_record(
            action=Action.MEMBERSHIP_REMOVED,
            actor=actor,
            organization=membership.organization,
            target=membership,
            request=request,
            detail={"user": user.email, "role": membership.role},
        )
        membership.delete()
        user.is_active = False
        user.save(update_fields=["is_active"])
