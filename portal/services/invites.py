"""Invites: create, resend, revoke, accept, bulk CSV. Tokens exist once, hashed at rest."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal import events
from portal.errors import (
    InviteError,
    InviteFileError,
    InviteNotFoundError,
    InviteNotPendingError,
    PermissionDeniedError,
    SeatLimitError,
    StudioClosedInviteError,
)
from portal.lifecycle import closed_message
from portal.models import AuditEvent, Cohort, Invite, Membership, Organization, User
from portal.selectors import seats_used
from portal.services.audit import audit_record

Action = AuditEvent.Action


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)  # 256 random bits
    return token, hash_token(token)


def invite_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:invite", args=[token])


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


def _check_room_for(email: str, organization: Organization, *, reveal_accounts: bool) -> None:
    """The studio is active in the beta, the address invitable and a seat free (under the studio's row lock)."""
    _require_active_in_beta(organization)
    _check_invitable_email(email, organization, reveal_accounts=reveal_accounts)
    if seats_used(organization) >= organization.seat_limit:
        raise SeatLimitError(
            f"{organization.name} has used all {organization.seat_limit} seats (members and pending invites)."
        )


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
        _check_room_for(email, organization, reveal_accounts=actor.is_studio_staff)
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


_NOT_PENDING_MESSAGES: dict[str, str] = {  # keyed by Invite.Status, read with the row's plain str
    Invite.Status.ACCEPTED: "This invite has already been used. If it was you, sign in.",
    Invite.Status.REVOKED: "This invite was withdrawn by the studio. Ask them for a new one.",
    Invite.Status.EXPIRED: "This invite has expired. Ask the person who invited you to resend it.",
}


def _require_active_in_beta(organization: Organization) -> None:
    """The invite door of portal/lifecycle.py: no invite to a suspended or offboarded studio is sent or accepted."""
    if not organization.is_active_in_beta:
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
        events.publish("invite.accepted", organization_id=invite.organization_id,
                       data={"invite_id": invite.pk, "user_id": user.pk, "role": invite.role})
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


class _RowRefused(Exception):
    """A CSV row that is not invited: an error (nothing is created) or skipped (not an error)."""

    def __init__(self, outcome: str, message: str):
        super().__init__(message)
        self.outcome, self.message = outcome, message


def _resolve_row_cohort(row: BulkInviteRow, organization: Organization) -> Cohort | None:
    if not row.cohort:
        return None
    cohort = Cohort.objects.filter(name__iexact=row.cohort).first()
    if cohort is None:
        raise _RowRefused("error", f"No cohort called “{row.cohort}”.")
    if organization.cohort_id and organization.cohort_id != cohort.pk:
        raise _RowRefused("error", f"{organization.name} is in the cohort “{organization.cohort}”.")
    return cohort


def _resolve_invite_row(
    row: BulkInviteRow, seen: dict[str, int], extra_seats: dict[int, int]
) -> tuple[str, Organization, Cohort | None]:
    """(email, studio, cohort) for one CSV row, counting its seat; _RowRefused says why a row is not invited."""
    try:
        email = _normalise_email(row.email)
    except InviteError as exc:
        raise _RowRefused("error", str(exc)) from exc
    if email in seen:
        raise _RowRefused("skipped", f"Same email as line {seen[email]}.")
    seen[email] = row.line
    organization = _find_organization(row.organization) if row.organization else None
    if organization is None:
        raise _RowRefused("error", f"No studio called “{row.organization}”. Create it first.")
    if row.role not in Membership.Role.values:
        raise _RowRefused("error", f"“{row.role}” is not a role; use owner, member or viewer.")
    cohort = _resolve_row_cohort(row, organization)
    try:
        _check_invitable_email(email, organization)
    except InviteError as exc:
        raise _RowRefused("skipped", str(exc)) from exc
    extra_seats[organization.pk] = extra_seats.get(organization.pk, 0) + 1
    if seats_used(organization) + extra_seats[organization.pk] > organization.seat_limit:
        raise _RowRefused("error", f"{organization.name} would exceed its {organization.seat_limit} seats.")
    return email, organization, cohort


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
            resolved[row.line] = _resolve_invite_row(row, seen, extra_seats)
        except _RowRefused as refused:
            row.outcome, row.message = refused.outcome, refused.message
        else:
            row.outcome = "ok"

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
