"""The beta agreement: publishing a version and accepting it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from portal.client_ip import client_ip
from portal.errors import AgreementError, PermissionDeniedError
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


def _require_admin(actor: User, doing: str) -> None:
    if not actor.is_programme_admin:
        raise PermissionDeniedError(f"Only programme admins can {doing} the agreement.")


def _checked_fields(version: str, title: str, text: str) -> tuple[str, str, str]:
    version, title, text = (version or "").strip(), (title or "").strip(), (text or "").strip()
    if not version:
        raise AgreementError("Give the version a number, for example “2.0”.")
    if len(version) > 20:
        raise AgreementError("A version number has at most 20 characters.")
    if not title:
        raise AgreementError("Give the agreement a title.")
    if not text:
        raise AgreementError("The agreement needs its text.")
    return version, title, text


def agreement_draft_save(
    *, actor: User, version: str, title: str, text: str, draft: AgreementVersion | None = None, request=None
) -> AgreementVersion:
    """Create a draft version, or change one. A published version never changes: people accepted its text."""
    _require_admin(actor, "draft")
    version, title, text = _checked_fields(version, title, text)
    with transaction.atomic():
        if draft is not None:
            draft = AgreementVersion.objects.select_for_update().get(pk=draft.pk)
            if draft.published_at is not None:
                raise AgreementError(
                    f"Version {draft.version} is published and people accepted its text; draft a new version instead."
                )
        taken = AgreementVersion.objects.filter(version__iexact=version)
        if draft is not None:
            taken = taken.exclude(pk=draft.pk)
        if taken.exists():
            raise AgreementError(f"There is already a version {version}; choose another number.")
        if draft is None:
            draft = AgreementVersion.objects.create(version=version, title=title, text=text)
        else:
            draft.version, draft.title, draft.text = version, title, text
            draft.save(update_fields=["version", "title", "text", "updated_at"])
        audit_record(
            action=Action.AGREEMENT_DRAFTED,
            actor=actor,
            target=draft,
            request=request,
            detail={"version": version, "title": title},
        )
    return draft


def agreement_publish(*, actor: User, version: AgreementVersion, request=None) -> AgreementVersion:
    """Make a draft version current: everyone is asked to accept it again."""
    _require_admin(actor, "publish")
    with transaction.atomic():
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.published_at is not None:
            raise AgreementError(f"Version {version.version} is already published.")
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
