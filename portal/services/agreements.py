"""The beta agreement: publishing a version and accepting it."""

from __future__ import annotations

from django.utils import timezone

from portal.client_ip import client_ip
from portal.errors import PermissionDeniedError
from portal.models import AgreementAcceptance, AgreementVersion, AuditEvent, Membership, User
from portal.services.audit import audit_record

Action = AuditEvent.Action


def agreement_accept(*, user: User, version: AgreementVersion, request=None) -> AgreementAcceptance:
    acceptance, created = AgreementAcceptance.objects.get_or_create(
        user=user,
        version=version,
        defaults={
            "ip_address": client_ip(request),
            "user_agent": (request.headers.get("User-Agent", "") if request is not None else "")[:400],
        },
    )
    if created:
        membership = Membership.objects.filter(user=user).select_related("organization").first()
        audit_record(
            action=Action.AGREEMENT_ACCEPTED,
            actor=user,
            organization=membership.organization if membership else None,
            target=version,
            request=request,
            detail={"version": version.version},
        )
    return acceptance


def agreement_publish(*, actor: User, version: AgreementVersion, request=None) -> AgreementVersion:
    """Make a version current: everyone is asked to accept it again."""
    if not actor.is_programme_admin:
        raise PermissionDeniedError("Only programme admins can publish the agreement.")
    version.published_at = timezone.now()
    version.save(update_fields=["published_at", "updated_at"])
    audit_record(
        action=Action.AGREEMENT_PUBLISHED,
        actor=actor,
        target=version,
        request=request,
        detail={"version": version.version},
    )
    return version
