"""Notifications: what each person is told in the portal, by email at once, or in a daily digest.

Apps turn their domain events (portal.events) into notifications with `notify`, naming the people concerned; this
module decides how each person hears of it from their preference for that kind. A person only ever reads their own.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.urls import reverse
from django.utils import dateformat, timezone

from portal.errors import NotificationError
from portal.models import Membership, Notification, NotificationDigest, NotificationPreference, User
from portal.timezones import valid_time_zone

Channel = Notification.Channel
T = TypeVar("T")


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    default: str


#: Every kind a person can be told of, in the order the settings page lists them. The defaults keep the emails that
#: were sent before there were preferences (job finished, staff reply, survey opened).
KINDS: tuple[Kind, ...] = (
    Kind("job.finished", "A job I ran finished or failed", Channel.EMAIL),
    Kind("feedback.replied", "The AI Studio replied to my feedback", Channel.EMAIL),
    Kind("review.note_replied", "Someone replied in a review note thread I am in", Channel.IN_APP),
    Kind("survey.opened", "A survey opened for my studio", Channel.EMAIL),
    Kind("survey.due_soon", "A survey I have not answered is due soon", Channel.IN_APP),
    Kind("comparison.opened", "A comparison is waiting for my judgement", Channel.IN_APP),
    Kind("invite.accepted", "Someone accepted an invite to my studio (owners)", Channel.IN_APP),
    Kind("quota.reached", "My studio used 80% or all of a quota (owners)", Channel.IN_APP),
)
KIND_BY_KEY = {kind.key: kind for kind in KINDS}


# --- Preferences ------------------------------------------------------------------------------------------------------
def preferences_for(user: User) -> dict[str, str]:
    """Each kind's channel for the person: their choice, else the kind's default."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind.key: chosen.get(kind.key, kind.default) for kind in KINDS}


def preferences_set(*, user: User, choices: dict[str, str]) -> dict[str, str]:
    """Save the person's channel for each kind. Every choice is checked first; a bad one changes nothing."""
    valid = set(Channel.values)
    errors = {key: "Choose in the portal only, email at once, or the daily digest." for key, channel in choices.items()
              if key not in KIND_BY_KEY or channel not in valid}
    if errors:
        raise NotificationError("Your notification settings were not saved.", errors)
    with transaction.atomic():
        for key, channel in choices.items():
            NotificationPreference.objects.update_or_create(user=user, kind=key, defaults={"channel": channel})
    return preferences_for(user)


def _told_and_chosen(people: list[User], kind: str, dedupe_key: str) -> tuple[set[int], dict[int, str]]:
    """Who has been told of `dedupe_key` already, and each person's chosen channel for `kind`: one query."""
    ids = [person.pk for person in people]
    chosen = NotificationPreference.objects.filter(user_id__in=ids, kind=kind).values_list("user_id", "channel")
    if dedupe_key:
        told = (Notification.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key).order_by()
                .values_list("recipient_id", Value("", output_field=CharField())))
        chosen = chosen.order_by().union(told, all=True)
    told_ids, channels = set(), {}
    for user_id, channel in chosen:
        if channel:
            channels[user_id] = channel
        else:
            told_ids.add(user_id)
    return told_ids, channels


# --- Making notifications ---------------------------------------------------------------------------------------------
def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    url: str = "",
    body: str = "",
    organization_id: int | None = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """Tell each active person once (once per `dedupe_key` when given), by the channel they chose for `kind`.

    Returns the notifications made; an email chosen "at once" is sent after the surrounding transaction commits.
    """
    if kind not in KIND_BY_KEY:
        raise ValueError(f"unknown notification kind {kind!r}")
    people = list({person.pk: person for person in recipients if person.is_active}.values())
    if not people:
        return []
    told, chosen = _told_and_chosen(people, kind, dedupe_key)
    default = KIND_BY_KEY[kind].default
    made = [
        Notification(recipient=person, organization_id=organization_id, kind=kind, title=title[:200], body=body,
                     url=url[:500], channel=chosen.get(person.pk, default), dedupe_key=dedupe_key)
        for person in people if person.pk not in told
    ]
    if len(made) == 1:  # one INSERT is atomic on its own
        made[0].save(force_insert=True)
    elif made:
        with transaction.atomic():
            made = Notification.objects.bulk_create(made)
    for notification in made:
        if notification.channel == Channel.EMAIL:
            transaction.on_commit(_later(_email_now, notification))
    return made


def _later(send: Callable[[T], None], what: T) -> Callable[[], None]:
    """A call for on_commit, bound to this loop's value."""
    return lambda: send(what)


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path if path.startswith("/") else path


def _email_now(notification: Notification) -> None:
    _email_to((notification.recipient.email, notification))


def _email_to(to: tuple[str, Notification]) -> None:
    email, notification = to
    if not email:
        return
    text = notification.body or notification.title
    if notification.url:
        text += f"\n\nSee it here: {absolute_url(notification.url)}"
    text += f"\n\n— {settings.PORTAL_NAME}"
    send_mail(notification.title, text, None, [email], fail_silently=True)


# --- Reading and marking ----------------------------------------------------------------------------------------------
def unread_count(user: User) -> int:
    """The bell's number: one COUNT on the unread partial index."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notification_open(*, user: User, notification_id: int) -> Notification:
    """The person opens one of their notifications: it is read from now on. Someone else's does not exist."""
    notification = Notification.objects.for_user(user).filter(pk=notification_id).first()
    if notification is None:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


# --- The daily digest -------------------------------------------------------------------------------------------------
def _pending_digest(recipient_id: int, now: datetime):
    return Notification.objects.filter(
        recipient_id=recipient_id, channel=Channel.DIGEST, digested_at__isnull=True, created_at__lte=now
    )


def digests_send(*, now: datetime | None = None) -> int:
    """Email each person who has digest items waiting one list of them, at most once a (UTC) day. Each item is listed
    in one digest only: the items are locked and marked, and the day's row written, in one transaction, so a second
    run the same day sends nothing. Returns the number of emails sent."""
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    waiting = (Notification.objects.filter(channel=Channel.DIGEST, digested_at__isnull=True, created_at__lte=now)
               .values_list("recipient_id", flat=True).distinct().order_by())
    sent = 0
    for recipient_id in list(waiting):
        with transaction.atomic():
            items = list(_pending_digest(recipient_id, now).select_for_update().select_related("recipient")
                         .order_by("created_at", "id"))
            if not items:
                continue
            _digest, created = NotificationDigest.objects.get_or_create(
                recipient_id=recipient_id, day=day, defaults={"items": len(items)}
            )
            if not created:  # today's digest went out already: these wait for tomorrow's
                continue
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(digested_at=now)
            transaction.on_commit(_later(_email_digest, items))
            sent += 1
    return sent


def _email_digest(items: list[Notification]) -> None:
    person = items[0].recipient
    if not person.email or not person.is_active:
        return
    zone = zoneinfo.ZoneInfo(valid_time_zone(person.time_zone) or "UTC")
    lines = [f"Here is what happened in {settings.PORTAL_NAME} today ({len(items)}):", ""]
    for item in items:
        stamp = dateformat.format(timezone.localtime(item.created_at, zone), "H:i T")
        lines.append(f"- {stamp}  {item.title}")
        if item.url:
            lines.append(f"  {absolute_url(item.url)}")
    settings_url = absolute_url(reverse("portal:time-zone-settings"))
    lines += ["", f"All your notifications: {absolute_url(reverse('portal:notifications'))}", "",
              f"Choose what comes by email on your settings page: {settings_url}", "", f"— {settings.PORTAL_NAME}"]
    updates = "update" if len(items) == 1 else "updates"
    send_mail(f"Your daily digest: {len(items)} {updates}", "\n".join(lines), None, [person.email],
              fail_silently=True)


# --- Who is told ------------------------------------------------------------------------------------------------------
def studio_members(organization_id: int, *, roles: Iterable[str] | None = None) -> list[User]:
    """The active people of an active studio (of the given roles)."""
    people = User.objects.filter(
        is_active=True, memberships__organization_id=organization_id, memberships__organization__is_active=True
    )
    if roles is not None:
        people = people.filter(memberships__role__in=list(roles))
    return list(people.distinct().order_by("pk"))


_USERS, _MEMBERS = User._meta.db_table, Membership._meta.db_table
_NOTIFICATIONS, _PREFERENCES = Notification._meta.db_table, NotificationPreference._meta.db_table


def _may_hear_of(user_ids: list[int], organization_id: int) -> tuple[str, list]:
    """The rule for who a studio's news may reach, as a condition on `u` (a user row) and its parameters: one of
    these people, active, and staff or a member of that studio (not a former one). Written once, in SQL, for both
    `who_may_hear_of` and `tell`."""
    ids = ", ".join(["%s"] * len(user_ids))
    condition = (f"u.id IN ({ids}) AND u.is_active AND (u.staff_role IN (%s, %s) OR EXISTS ("  # noqa: S608
                 f"SELECT 1 FROM {_MEMBERS} m WHERE m.user_id = u.id AND m.organization_id = %s))")
    return condition, [*user_ids, User.StaffRole.REVIEWER, User.StaffRole.ADMIN, organization_id]


def who_may_hear_of(user_ids: Iterable[int], organization_id: int) -> list[User]:
    """Those of these people a studio's news may reach (`_may_hear_of`), in one query."""
    ids = [int(i) for i in user_ids]
    if not ids:
        return []
    condition, params = _may_hear_of(ids, organization_id)
    return list(User.objects.raw(f"SELECT u.* FROM {_USERS} u WHERE {condition} ORDER BY u.id", params))  # noqa: S608


_MADE = "id, recipient_id, channel"


def tell(
    *,
    user_ids: Iterable[int],
    organization_id: int,
    kind: str,
    title: str,
    url: str = "",
    body: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """`notify` the people among `user_ids` whom the studio's news may reach (`who_may_hear_of`), in one statement:
    an INSERT … SELECT that picks them, skips those told of `dedupe_key` already and takes each one's channel for
    `kind`. The same notifications as `notify(recipients=who_may_hear_of(...))`, without reading anyone first."""
    if kind not in KIND_BY_KEY:
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = [int(i) for i in user_ids]
    if not ids:
        return []
    now = timezone.now()
    title, url = title[:200], url[:500]
    condition, params = _may_hear_of(ids, organization_id)
    insert = f"""
        INSERT INTO {_NOTIFICATIONS} (recipient_id, organization_id, kind, title, body, url, channel, dedupe_key,
            created_at)
        SELECT u.id, %s, %s, %s, %s, %s,
            COALESCE((SELECT p.channel FROM {_PREFERENCES} p WHERE p.user_id = u.id AND p.kind = %s), %s), %s, %s
        FROM {_USERS} u
        WHERE {condition} AND (%s = '' OR NOT EXISTS (
            SELECT 1 FROM {_NOTIFICATIONS} n WHERE n.recipient_id = u.id AND n.dedupe_key = %s))
        ON CONFLICT DO NOTHING
        RETURNING {_MADE}
    """  # noqa: S608 - table names from the models, values bound
    created_at = connection.ops.adapt_datetimefield_value(now)
    params = [organization_id, kind, title, body, url, kind, KIND_BY_KEY[kind].default, dedupe_key, created_at,
              *params, dedupe_key, dedupe_key]
    if connection.vendor == "postgresql":  # the emails come with the rows made
        sql = f"WITH made AS ({insert}) SELECT made.*, u.email FROM made JOIN {_USERS} u ON u.id = made.recipient_id"  # noqa: S608
    else:
        sql = insert
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor != "postgresql":
        emails = {}
        if any(row[2] == Channel.EMAIL for row in rows):
            emails = dict(User.objects.filter(pk__in=[row[1] for row in rows]).values_list("pk", "email"))
        rows = [(*row, emails.get(row[1], "")) for row in rows]
    made = []
    for pk, recipient_id, channel, email in rows:
        notification = Notification(pk=pk, recipient_id=recipient_id, organization_id=organization_id, kind=kind,
                                    title=title, body=body, url=url, channel=channel,
                                    dedupe_key=dedupe_key, created_at=now)
        made.append(notification)
        if channel == Channel.EMAIL:
            transaction.on_commit(_later(_email_to, (email, notification)))
    return made


#: the shares of a quota at which a studio's owners are told, once each a month
QUOTA_THRESHOLDS = (100, 80)


def quota_check(*, organization_id: int, quota: str, label: str, used: float, limit: float, month: str,
                url: str = "", amounts: str = "") -> list[Notification]:
    """Tell the studio's owners when `used` reaches 80% or all of `limit` (the highest threshold passed, once a month
    per quota and threshold). `quota` names it in the key ("jobs"), `label` for people ("jobs this month"),
    `amounts` how to show the numbers (default "<used> of <limit>")."""
    if limit <= 0:
        return []
    share = used / limit * 100
    threshold = next((t for t in QUOTA_THRESHOLDS if share >= t), None)
    if threshold is None:
        return []
    owners = studio_members(organization_id, roles=["owner"])
    title = (f"Your studio has used all of its {label}" if threshold == 100
             else f"Your studio has used {threshold}% of its {label}")
    return notify(
        recipients=owners, kind="quota.reached", title=title, url=url, organization_id=organization_id,
        body=f"{title}: {amounts or f'{used:,.0f} of {limit:,.0f}'}.", dedupe_key=f"quota:{quota}:{threshold}:{month}",
    )
