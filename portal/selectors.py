"""Reads about people, studios and access."""

from __future__ import annotations

import dataclasses

from django.db import connections, router
from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from portal import audit_chain
from portal.dashboard_panels import Step
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


def membership_for_user(user: User) -> Membership | None:
    """A partner's membership, with its studio and the studio's cohort (None for staff and for people in no studio)."""
    if not user.is_authenticated or user.is_studio_staff:
        return None
    return membership_of(user)


class _MembershipRead:
    """A person's membership, studio and cohort in one hand-written statement, built once per process and database.

    Every page and every submit reads it first; the ORM spent about three times the statement's own time building
    the same join (with `Membership.Meta.ordering`'s join of the users, which a person's one membership does not
    need). The models come from `from_db` with each field's database converters, as a queryset would build them.
    """

    MODELS = (Membership, Organization, Cohort)

    def __init__(self, connection):
        self.alias = connection.alias
        tables = ("m", "o", "c")
        self.fields = [list(model._meta.concrete_fields) for model in self.MODELS]
        self.names = [[f.attname for f in fields] for fields in self.fields]
        columns = ", ".join(f"{t}.{connection.ops.quote_name(f.column)}"
                            for t, fields in zip(tables, self.fields, strict=True) for f in fields)
        m, o, c = (model._meta.db_table for model in self.MODELS)
        self.sql = (f"SELECT {columns} FROM {m} m JOIN {o} o ON o.id = m.organization_id "  # noqa: S608 - model names
                    f"LEFT JOIN {c} c ON c.id = o.cohort_id WHERE m.user_id = %s")
        self.converters = []  # (index, [converter, ...], expression) for the columns that need converting
        index = 0
        for table, fields in zip(tables, self.fields, strict=True):
            for field in fields:
                column = field.get_col(table)
                found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if found:
                    self.converters.append((index, found, column))
                index += 1

    def __call__(self, connection, user: User) -> Membership | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [user.pk])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, converters, column in self.converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        n_m, n_o = len(self.names[0]), len(self.names[1])
        membership = Membership.from_db(self.alias, self.names[0], values[:n_m])
        organization = Organization.from_db(self.alias, self.names[1], values[n_m:n_m + n_o])
        cohort_values = values[n_m + n_o:]
        cohort = Cohort.from_db(self.alias, self.names[2], cohort_values) if cohort_values[0] is not None else None
        Organization.cohort.field.set_cached_value(organization, cohort)
        Membership.organization.field.set_cached_value(membership, organization)
        Membership.user.field.set_cached_value(membership, user)
        return membership


_membership_reads: dict[tuple[str, str], _MembershipRead] = {}


def membership_of(user: User) -> Membership | None:
    """The person's membership (one at most), with its studio and cohort, in one statement; None when they have none.
    Unlike `membership_for_user`, staff are not set aside."""
    connection = connections[router.db_for_read(Membership)]
    key = (connection.alias, connection.vendor)
    read = _membership_reads.get(key)
    if read is None:
        read = _membership_reads[key] = _MembershipRead(connection)
    return read(connection, user)


def teammates_for_organization(organization: Organization) -> QuerySet[Membership]:
    """Owners first, then members, then viewers; by email within a role."""
    rank = Case(
        When(role=Membership.Role.OWNER, then=Value(0)),
        When(role=Membership.Role.MEMBER, then=Value(1)),
        default=Value(2),
    )
    return Membership.objects.filter(organization=organization).select_related("user").order_by(rank, "user__email")


def organizations_overview() -> QuerySet[Organization]:
    return (
        Organization.objects.select_related("cohort")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name")
    )


def cohorts_overview() -> QuerySet[Cohort]:
    return Cohort.objects.annotate(studio_count=Count("organizations", distinct=True)).order_by("opens_at")


def pending_invites_for_organization(organization: Organization) -> QuerySet[Invite]:
    return (
        Invite.objects.filter(organization=organization).pending().select_related("invited_by").order_by("-created_at")
    )


def invites_for_staff(
    *, status: str = "", organization_id: int | None = None, cohort_id: int | None = None, q: str = ""
) -> QuerySet[Invite]:
    invites = Invite.objects.select_related("organization", "organization__cohort", "invited_by")
    if status:
        invites = invites.with_status(status)
    if organization_id:
        invites = invites.filter(organization_id=organization_id)
    if cohort_id:
        invites = invites.filter(organization__cohort_id=cohort_id)
    if q:
        invites = invites.filter(Q(email__icontains=q) | Q(organization__name__icontains=q))
    return invites.order_by("-created_at")


def audit_events(
    *, action: str = "", organization_id: int | None = None, actor: str = "", since=None, until=None
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor", "organization")
    if action:
        events = events.filter(action=action) if "." in action else events.filter(action__startswith=action + ".")
    if organization_id:
        events = events.filter(organization_id=organization_id)
    if actor:
        events = events.filter(actor_email__icontains=actor)
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    return events.order_by("-at", "-id")


def current_agreement() -> AgreementVersion | None:
    return (
        AgreementVersion.objects.filter(published_at__isnull=False, published_at__lte=timezone.now())
        .order_by("-published_at", "-pk")
        .first()
    )


def has_accepted(user: User, version: AgreementVersion | None) -> bool:
    if version is None:
        return True
    return AgreementAcceptance.objects.filter(user=user, version=version).exists()


AUDIT_CHAIN_CHECKPOINT = "audit-chain:checkpoint"


def audit_chain_verify(*, full: bool = False, chunk_size: int = 2000) -> audit_chain.ChainReport:
    """Verify the audit hash chain, streaming. Not `full`: from the last verified row on (the staff page), unless
    that row changed since, in which case from the start. An intact result becomes the next checkpoint."""
    from django.core.cache import cache

    checkpoint = None if full else cache.get(AUDIT_CHAIN_CHECKPOINT)
    if checkpoint and not AuditEvent.objects.filter(id=checkpoint["id"], row_hash=checkpoint["hash"]).exists():
        checkpoint = None
    start = checkpoint or {"id": 0, "hash": audit_chain.GENESIS, "checked": 0}
    rows = audit_chain.iter_rows(AuditEvent.objects.all(), chunk_size=chunk_size, after_id=start["id"])
    report = audit_chain.verify(rows, prev_hash=start["hash"], last_good_id=start["id"] or None)
    report = dataclasses.replace(report, checked=report.checked + start["checked"])
    if report.intact and report.last_good_id:
        cache.set(AUDIT_CHAIN_CHECKPOINT, {"id": report.last_good_id, "hash": report.last_hash,
                                           "checked": report.checked},
                  timeout=None)
    return report


def seats_used(organization: Organization) -> int:
    """Members and pending invites: what a studio's seat limit counts."""
    return (
        Membership.objects.filter(organization=organization).count()
        + Invite.objects.filter(organization=organization).pending().count()
    )


def getting_started_steps(user: User, organization: Organization) -> list[Step]:
    """The portal's part of the dashboard's getting-started checklist: the agreement, and the team invited."""
    team_invited = (
        Membership.objects.filter(organization=organization).exclude(user=user).exists()
        or Invite.objects.filter(organization=organization).exists()
    )
    return [
        Step(key="agreement", order=10, label="Accept the beta agreement",
             done=has_accepted(user, current_agreement()), url=reverse("portal:agreement"), action="Read and accept"),
        Step(key="team", order=20, label="Invite your team", done=team_invited, url=reverse("portal:team"),
             action="Invite people"),
    ]


# --- The agreement's versions (staff console) -------------------------------------------------------------------------
def agreement_versions() -> QuerySet[AgreementVersion]:
    """Every version, drafts first then newest published, with how many people accepted each."""
    return AgreementVersion.objects.annotate(acceptance_count=Count("acceptances")).order_by(
        F("published_at").desc(nulls_first=True), "-created_at"
    )


def agreement_acceptances(version: AgreementVersion) -> QuerySet[AgreementAcceptance]:
    """Who accepted this version, newest first, with their studio."""
    return (
        AgreementAcceptance.objects.filter(version=version)
        .select_related("user")
        .prefetch_related(Prefetch("user__memberships", queryset=Membership.objects.select_related("organization")))
        .order_by("-accepted_at")
    )


def partners_yet_to_accept(version: AgreementVersion) -> QuerySet[Membership]:
    """Active partner members who have not accepted this version (they are asked at their next visit)."""
    return (
        Membership.objects.filter(user__is_active=True)
        .exclude(user__agreement_acceptances__version=version)
        .select_related("user", "organization")
        .order_by("organization__name", "user__email")
    )
