"""Writes about people, studios and access. Each function checks its rules and writes atomically."""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from portal import audit_chain
from portal.client_ip import client_ip
from portal.errors import (
    CohortError,
    InviteError,
    InviteFileError,
    InviteNotFoundError,
    InviteNotPendingError,
    MembershipError,
    PermissionDeniedError,
    SeatLimitError,
    StudioClosedInviteError,
    StudioError,
)
from portal.models import (
    AgreementAcceptance,
    AgreementVersion,
    AuditEvent,
    Cohort,
    Invite,
    Membership,
    Organization,
    User,
)

Action = AuditEvent.Action


# --- Audit ------------------------------------------------------------------------------------------------------------
def audit_record(
    *,
    action: str,
    actor: User | None = None,
    organization: Organization | None = None,
    target: Model | None = None,
    request=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Write one line of the audit trail. Every audited action in the portal goes through here."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        audit_chain.lock_chain_head(connection)
        event = AuditEvent.objects.create(
            action=action,
            actor=actor,
            actor_email=actor.email if actor else "",
            organization=organization,
            organization_name=organization.name if organization else "",
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            ip_address=client_ip(request),
            # As the database gives it back (tuples become lists, keys strings), so the hash verifies later.
            detail=json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder)),
        )
        # The id is known only after the insert; under the lock no other row can have come in between.
        previous = AuditEvent.objects.filter(id__lt=event.id).order_by("-id").values_list("row_hash", flat=True)
        event.prev_hash = previous.first() or audit_chain.GENESIS
        event.row_hash = audit_chain.row_hash(event)
        AuditEvent.objects.filter(id=event.id).update(prev_hash=event.prev_hash, row_hash=event.row_hash)
    return event


# --- Invites ----------------------------------------------------------------------------------------------------------
def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)  # 256 random bits
    return token, hash_token(token)


def invite_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:invite", args=[token])


def seats_used(organization: Organization) -> int:
    return (
        Membership.objects.filter(organization=organization).count()
        + Invite.objects.filter(organization=organization).pending().count()
    )


def _can_invite(actor: User, organization: Organization) -> bool:
    if actor.is_programme_admin:
        return True
    return Membership.objects.filter(user=actor, organization=organization, role=Membership.Role.OWNER).exists()


def _send_invite_email(invite: Invite, token: str) -> None:
    """The invite link; or, to someone who already has an account, a notice without one (see invite_create)."""
    if User.objects.filter(email__iexact=invite.email).exists():
        _send_existing_account_notice(invite)
        return
    context = {
        "invite": invite,
        "organization": invite.organization,
        "url": invite_url(token),
        "inviter": invite.invited_by,
        "portal_name": settings.PORTAL_NAME,
        "expires_at": invite.expires_at,
    }
    subject = render_to_string("portal/email/invite_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("portal/email/invite_body.txt", context),
        to=[invite.email],
    )
    message.attach_alternative(render_to_string("portal/email/invite_body.html", context), "text/html")
    message.send()


def _send_existing_account_notice(invite: Invite) -> None:
    context = {
        "invite": invite,
        "organization": invite.organization,
        "inviter": invite.invited_by,
        "portal_name": settings.PORTAL_NAME,
        "sign_in_url": settings.SITE_URL + reverse("account_login"),
    }
    EmailMultiAlternatives(
        subject=render_to_string("portal/email/invite_existing_account_subject.txt", context).strip(),
        body=render_to_string("portal/email/invite_existing_account_body.txt", context),
        to=[invite.email],
    ).send()


def _check_invitable_email(email: str, organization: Organization, *, reveal_accounts: bool = True) -> None:
    """Refuse members of the studio and duplicate pending invites. An account elsewhere is named only when
    `reveal_accounts` (programme admins, who see every studio); for owners it is invited like anyone else."""
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if Membership.objects.filter(user=existing, organization=organization).exists():
            raise InviteError(f"{email} is already a member of {organization.name}.")
        if not reveal_accounts:
            return
        raise InviteError(
            f"{email} already has an account. People cannot belong to two studios in the beta; "
            "ask the programme team to move the account."
        )
    if Invite.objects.filter(organization=organization, email__iexact=email).pending().exists():
        raise InviteError(f"{email} already has a pending invite to {organization.name}; resend it instead.")


def _normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InviteError(f"“{email}” is not a valid email address.") from exc
    return email


def _apply_cohort(organization: Organization, cohort: Cohort | None) -> None:
    if cohort is None:
        return
    if organization.cohort_id is None:
        organization.cohort = cohort
        organization.save(update_fields=["cohort", "updated_at"])
    elif organization.cohort_id != cohort.pk:
        raise InviteError(f"{organization.name} is in the cohort “{organization.cohort}”, not “{cohort}”.")


def invite_create(
    *,
    actor: User,
    email: str,
    organization: Organization,
    role: str = Membership.Role.MEMBER,
    cohort: Cohort | None = None,
    request=None,
    send: bool = True,
) -> tuple[Invite, str]:
    """Invite a person to a studio. Returns the invite and its token (the only time the token exists).

    An owner inviting an address that already has an account (in another studio) gets the same answer and the same
    pending invite as for any address, so that the team page reveals nothing about other studios; the person is
    emailed a notice instead of a link, and no second membership can come of it (invite_accept refuses existing
    accounts).
    """
    if not _can_invite(actor, organization):
        raise PermissionDeniedError("Only the studio's owners and programme admins can invite people.")
    if role not in Membership.Role.values:
        raise InviteError(f"“{role}” is not a role; use owner, member or viewer.")
    email = _normalise_email(email)
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)  # serialises seat counting
        _require_active_in_beta(organization)
        _check_invitable_email(email, organization, reveal_accounts=actor.is_studio_staff)
        if seats_used(organization) >= organization.seat_limit:
            raise SeatLimitError(
                f"{organization.name} has used all {organization.seat_limit} seats (members and pending invites)."
            )
        _apply_cohort(organization, cohort)
        token, token_hash = _new_token()
        now = timezone.now()
        invite = Invite.objects.create(
            email=email,
            organization=organization,
            role=role,
            token_hash=token_hash,
            invited_by=actor,
            expires_at=now + timedelta(days=settings.INVITE_EXPIRY_DAYS),
            last_sent_at=now,
        )
        audit_record(
            action=Action.INVITE_CREATED,
            actor=actor,
            organization=organization,
            target=invite,
            request=request,
            detail={"email": email, "role": role},
        )
        if send:
            transaction.on_commit(lambda: _send_invite_email(invite, token))
    return invite, token


def _manageable_invite(actor: User, invite: Invite) -> Invite:
    if not _can_invite(actor, invite.organization):
        raise PermissionDeniedError("Only the studio's owners and programme admins can manage invites.")
    return invite


def invite_resend(*, actor: User, invite: Invite, request=None) -> tuple[Invite, str]:
    """Send the invite again with a new token; the old link stops working. Also renews the expiry."""
    _manageable_invite(actor, invite)
    with transaction.atomic():
        invite = Invite.objects.select_for_update(of=("self",)).select_related("organization").get(pk=invite.pk)
        if invite.accepted_at or invite.revoked_at:
            raise InviteNotPendingError(
                f"This invite was {invite.get_status_display().lower()}; it cannot be resent.", invite.status
            )
        _require_active_in_beta(invite.organization)
        token, invite.token_hash = _new_token()
        now = timezone.now()
        invite.expires_at = now + timedelta(days=settings.INVITE_EXPIRY_DAYS)
        invite.last_sent_at = now
        invite.sent_count += 1
        invite.save(update_fields=["token_hash", "expires_at", "last_sent_at", "sent_count", "updated_at"])
        audit_record(
            action=Action.INVITE_RESENT,
            actor=actor,
            organization=invite.organization,
            target=invite,
            request=request,
            detail={"email": invite.email, "sent_count": invite.sent_count},
        )
        transaction.on_commit(lambda: _send_invite_email(invite, token))
    return invite, token


def invite_revoke(*, actor: User, invite: Invite, request=None) -> Invite:
    _manageable_invite(actor, invite)
    with transaction.atomic():
        invite = Invite.objects.select_for_update(of=("self",)).select_related("organization").get(pk=invite.pk)
        if invite.accepted_at:
            raise InviteNotPendingError("This invite was already accepted.", invite.status)
        if invite.revoked_at is None:
            invite.revoked_at = timezone.now()
            invite.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                action=Action.INVITE_REVOKED,
                actor=actor,
                organization=invite.organization,
                target=invite,
                request=request,
                detail={"email": invite.email},
            )
    return invite


_NOT_PENDING_MESSAGES = {
    Invite.Status.ACCEPTED: "This invite has already been used. If it was you, sign in.",
    Invite.Status.REVOKED: "This invite was withdrawn by the studio. Ask them for a new one.",
    Invite.Status.EXPIRED: "This invite has expired. Ask the person who invited you to resend it.",
}


def _require_active_in_beta(organization: Organization) -> None:
    """The invite door of portal/lifecycle.py: no invite to a suspended or offboarded studio is sent or accepted."""
    if not organization.is_active_in_beta:
        from portal.lifecycle import closed_message

        raise StudioClosedInviteError(closed_message(organization))


def invite_for_token(token: str) -> Invite:
    """The pending invite behind a token, without consuming it; a clear error otherwise."""
    invite = (
        Invite.objects.select_related("organization", "organization__cohort", "invited_by")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if invite is None:
        raise InviteNotFoundError("This invite link is not valid. Check that you copied the whole link.")
    if invite.status != Invite.Status.PENDING:
        raise InviteNotPendingError(_NOT_PENDING_MESSAGES[invite.status], invite.status)
    _require_active_in_beta(invite.organization)
    return invite


def invite_accept(*, token: str, user: User, full_name: str = "", request=None) -> User:
    """Consume the invite and create the account in its studio. Concurrent accepts make exactly one account.

    `user` is an unsaved User with its password set (by the signup form); its email is taken from the invite.
    """
    with transaction.atomic():
        invite = Invite.objects.select_for_update().filter(token_hash=hash_token(token or "")).first()
        if invite is None:
            raise InviteNotFoundError("This invite link is not valid. Check that you copied the whole link.")
        if invite.status != Invite.Status.PENDING:
            raise InviteNotPendingError(_NOT_PENDING_MESSAGES[invite.status], invite.status)
        _require_active_in_beta(invite.organization)
        if User.objects.filter(email__iexact=invite.email).exists():
            raise InviteError(f"An account for {invite.email} already exists. Sign in instead.")
        user.email = invite.email
        if full_name:
            user.full_name = full_name
        user.save()
        Membership.objects.create(user=user, organization_id=invite.organization_id, role=invite.role)
        invite.accepted_at = timezone.now()
        invite.accepted_by = user
        invite.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        audit_record(
            action=Action.INVITE_ACCEPTED,
            actor=user,
            organization=invite.organization,
            target=invite,
            request=request,
            detail={"email": invite.email, "role": invite.role},
        )
    return user


# --- Bulk invites -----------------------------------------------------------------------------------------------------
MAX_INVITE_FILE_BYTES = 1024 * 1024
MAX_INVITE_ROWS = 2000
_COLUMN_ALIASES = {
    "email": "email",
    "organisation": "organization",
    "organization": "organization",
    "studio": "organization",
    "role": "role",
    "cohort": "cohort",
}


@dataclass
class BulkInviteRow:
    line: int
    email: str
    organization: str
    role: str
    cohort: str
    outcome: str = ""  # "created", "skipped", "error", "ok" (valid, not created because the file has errors)
    message: str = ""


@dataclass
class BulkInviteResult:
    rows: list[BulkInviteRow] = field(default_factory=list)
    created: int = 0

    @property
    def errors(self) -> list[BulkInviteRow]:
        return [r for r in self.rows if r.outcome == "error"]

    @property
    def skipped(self) -> list[BulkInviteRow]:
        return [r for r in self.rows if r.outcome == "skipped"]


def _read_invite_csv(data: bytes) -> list[BulkInviteRow]:
    if len(data) > MAX_INVITE_FILE_BYTES:
        raise InviteFileError(f"The file is {len(data) // 1024} KB; the limit is {MAX_INVITE_FILE_BYTES // 1024} KB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InviteFileError("The file is not UTF-8 text. Export it from your spreadsheet as “CSV UTF-8”.") from exc
    if "\x00" in text:
        raise InviteFileError("The file is not a CSV file.")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InviteFileError("The file is empty.") from exc
    columns = [_COLUMN_ALIASES.get(h.strip().lower()) for h in header]
    missing = {"email", "organization", "role"} - set(columns)
    if missing:
        raise InviteFileError(
            "The first line must name the columns email, organisation, role and optionally cohort; "
            f"missing: {', '.join(sorted(missing))}."
        )
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            record = {col: (values[i].strip() if i < len(values) else "") for i, col in enumerate(columns) if col}
            rows.append(
                BulkInviteRow(
                    line=reader.line_num,
                    email=record.get("email", ""),
                    organization=record.get("organization", ""),
                    role=record.get("role", "").lower(),
                    cohort=record.get("cohort", ""),
                )
            )
            if len(rows) > MAX_INVITE_ROWS:
                raise InviteFileError(f"The file has more than {MAX_INVITE_ROWS} rows; split it.")
    except csv.Error as exc:
        raise InviteFileError(f"Line {reader.line_num} is not valid CSV: {exc}.") from exc
    if not rows:
        raise InviteFileError("The file has a header but no rows.")
    return rows


def _find_organization(value: str) -> Organization | None:
    return (
        Organization.objects.filter(slug__iexact=value).first()
        or Organization.objects.filter(name__iexact=value).first()
    )


def invite_bulk_create(*, actor: User, data: bytes, request=None) -> BulkInviteResult:
    """Invite many people from a CSV (email, organisation, role, cohort).

    Every row is checked first. If any row has an error, nothing is created and the result says, line by line,
    what is wrong; duplicates and people already invited are skipped with the reason, which is not an error.
    """
    if not actor.is_programme_admin:
        raise PermissionDeniedError("Only programme admins can invite from a file.")
    result = BulkInviteResult(rows=_read_invite_csv(data))
    seen: dict[str, int] = {}
    extra_seats: dict[int, int] = {}
    resolved: dict[int, tuple[str, Organization, Cohort | None]] = {}
    for row in result.rows:
        try:
            email = _normalise_email(row.email)
        except InviteError as exc:
            row.outcome, row.message = "error", str(exc)
            continue
        if email in seen:
            row.outcome, row.message = "skipped", f"Same email as line {seen[email]}."
            continue
        seen[email] = row.line
        organization = _find_organization(row.organization) if row.organization else None
        if organization is None:
            row.outcome, row.message = "error", f"No studio called “{row.organization}”. Create it first."
            continue
        if row.role not in Membership.Role.values:
            row.outcome, row.message = "error", f"“{row.role}” is not a role; use owner, member or viewer."
            continue
        cohort = None
        if row.cohort:
            cohort = Cohort.objects.filter(name__iexact=row.cohort).first()
            if cohort is None:
                row.outcome, row.message = "error", f"No cohort called “{row.cohort}”."
                continue
            if organization.cohort_id and organization.cohort_id != cohort.pk:
                row.outcome, row.message = "error", f"{organization.name} is in the cohort “{organization.cohort}”."
                continue
        try:
            _check_invitable_email(email, organization)
        except InviteError as exc:
            row.outcome, row.message = "skipped", str(exc)
            continue
        extra_seats[organization.pk] = extra_seats.get(organization.pk, 0) + 1
        if seats_used(organization) + extra_seats[organization.pk] > organization.seat_limit:
            row.outcome, row.message = "error", f"{organization.name} would exceed its {organization.seat_limit} seats."
            continue
        row.outcome = "ok"
        resolved[row.line] = (email, organization, cohort)

    if result.errors:
        return result
    with transaction.atomic():
        for row in result.rows:
            if row.outcome != "ok":
                continue
            email, organization, cohort = resolved[row.line]
            invite_create(
                actor=actor, email=email, organization=organization, role=row.role, cohort=cohort, request=request
            )
            row.outcome, row.message = "created", "Invite sent."
            result.created += 1
    return result


# --- Memberships ------------------------------------------------------------------------------------------------------
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


# --- Agreement --------------------------------------------------------------------------------------------------------
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


# --- Studios and cohorts (programme admins) ---------------------------------------------------------------------------


class _Unset(enum.Enum):
    """The default of an update keyword that was not given (None can be a real value, e.g. no cohort)."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def _require_admin(actor: User) -> None:
    if not actor.is_programme_admin:
        raise PermissionDeniedError("Only programme admins can manage studios and cohorts.")


def _audit_value(value):
    """A field value as the audit trail keeps it (JSON: cohorts by name, times as ISO 8601)."""
    if isinstance(value, Cohort):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# --- Studios ----------------------------------------------------------------------------------------------------------
def _apply_changes(instance, given: dict) -> dict:
    """Set the given (not _UNSET) values that differ; return {field: [old, new]} for the audit trail."""
    changes = {}
    for field_name, new in given.items():
        if new is _UNSET:
            continue
        old = getattr(instance, field_name)
        if old != new:
            changes[field_name] = [_audit_value(old), _audit_value(new)]
            setattr(instance, field_name, new)
    return changes


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
    _require_admin(actor)
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
            detail={"name": name, "slug": slug, "seat_limit": seat_limit, "cohort": _audit_value(cohort)},
        )
    return organization


def organization_update(
    *,
    actor: User,
    organization: Organization,
    seat_limit: int | _Unset = _UNSET,
    cohort: Cohort | _Unset | None = _UNSET,
    is_active: bool | _Unset = _UNSET,
    storage_quota_bytes: int | _Unset = _UNSET,
    monthly_job_quota: int | _Unset = _UNSET,
    max_concurrent_jobs: int | _Unset = _UNSET,
    request=None,
) -> Organization:
    """Change a studio's seats, cohort, active flag or quotas. Only the keywords given change; no change, no audit.

    The seat limit cannot drop below the seats in use (members plus pending invites): nobody is removed silently.
    """
    _require_admin(actor)
    given = {
        "seat_limit": seat_limit,
        "cohort": cohort,
        "is_active": is_active,
        "storage_quota_bytes": storage_quota_bytes,
        "monthly_job_quota": monthly_job_quota,
        "max_concurrent_jobs": max_concurrent_jobs,
    }
    with transaction.atomic():
        organization = (
            Organization.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=organization.pk)
        )
        changes = _apply_changes(organization, given)
        if not changes:
            return organization
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


# --- Cohorts ----------------------------------------------------------------------------------------------------------
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
    _require_admin(actor)
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
            detail={"name": name, "opens_at": _audit_value(opens_at), "closes_at": _audit_value(closes_at)},
        )
    return cohort


def cohort_update(
    *,
    actor: User,
    cohort: Cohort,
    name: str | _Unset = _UNSET,
    description: str | _Unset = _UNSET,
    opens_at: datetime | _Unset = _UNSET,
    closes_at: datetime | _Unset = _UNSET,
    request=None,
) -> Cohort:
    """Change a cohort's name, description or window. Only the keywords given change; no change, no audit."""
    _require_admin(actor)
    given = {"name": name, "description": description, "opens_at": opens_at, "closes_at": closes_at}
    with transaction.atomic():
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if given["name"] is not _UNSET:
            given["name"] = (given["name"] or "").strip()
            if not given["name"]:
                raise CohortError("A cohort needs a name.")
        changes = _apply_changes(cohort, given)
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
