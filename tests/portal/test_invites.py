"""portal/services/invites.py: tokens, single use, expiry, revocation, resend, seat limit, bulk CSV, concurrency."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal.errors import InviteError, InviteNotFoundError, InviteNotPendingError, PermissionDeniedError, SeatLimitError
from portal.models import Invite, Membership, User
from portal.services import invites
from tests.factories import (
    AdminFactory,
    CohortFactory,
    InviteFactory,
    MembershipFactory,
    OrganizationFactory,
    OwnerFactory,
)

pytestmark = pytest.mark.django_db


def _new_user(password="a-long-enough-passphrase"):
    user = User()
    user.set_password(password)
    return user


def test_only_the_sha256_of_the_token_is_stored(mailoutbox):
    admin, studio = AdminFactory(), OrganizationFactory()
    invite, token = invites.invite_create(actor=admin, email="Ana@Example.test", organization=studio, role="member")
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    assert invite.token_hash == invites.hash_token(token)
    assert token not in invite.token_hash
    stored = Invite.objects.filter(pk=invite.pk).values()[0]
    assert all(token not in str(value) for value in stored.values())
    assert invite.email == "ana@example.test"
    assert invite.expires_at - timezone.now() > timedelta(days=13, hours=23)


def test_invite_email_has_text_and_html_with_the_link(mailoutbox, django_capture_on_commit_callbacks):
    admin, studio = AdminFactory(), OrganizationFactory(name="Northlight")
    with django_capture_on_commit_callbacks(execute=True):
        _invite, token = invites.invite_create(actor=admin, email="ana@example.test", organization=studio)
    [message] = mailoutbox
    assert message.to == ["ana@example.test"]
    assert "Northlight" in message.subject
    assert f"/invite/{token}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"/invite/{token}/" in html


def test_opening_the_link_shows_the_invite_and_does_not_consume_it(client):
    invite = InviteFactory()
    for _ in range(3):
        response = client.get(reverse("portal:invite", args=[invite.token]))
        assert response.status_code == 200
        assert invite.organization.name in response.content.decode()
    invite.refresh_from_db()
    assert invite.status == Invite.Status.PENDING
    assert invite.accepted_at is None


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, 410, "expired"),
        ({"revoked_at": timezone.now()}, 410, "withdrawn"),
        ({"accepted_at": timezone.now()}, 410, "already been used"),
    ],
)
def test_expired_revoked_and_used_invites_are_refused_with_a_clear_page(client, change, status, text):
    invite = InviteFactory(**change)
    response = client.get(reverse("portal:invite", args=[invite.token]))
    assert response.status_code == status
    assert text in response.content.decode()
    response = client.post(reverse("portal:invite", args=[invite.token]))
    assert response.status_code == status
    assert "portal_invite_token" not in client.session


def test_unknown_token_is_refused(client):
    response = client.get(reverse("portal:invite", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_accept_consumes_the_invite_and_joins_the_studio():
    invite = InviteFactory(role="viewer")
    user = invites.invite_accept(token=invite.token, user=_new_user(), full_name="Ana Lopez")
    invite.refresh_from_db()
    assert invite.status == Invite.Status.ACCEPTED
    assert invite.accepted_by == user
    assert user.email == invite.email
    assert Membership.objects.get(user=user).role == "viewer"
    with pytest.raises(InviteNotPendingError):
        invites.invite_accept(token=invite.token, user=_new_user())


def test_expired_invite_is_refused_on_accept():
    invite = InviteFactory(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InviteNotPendingError, match="expired"):
        invites.invite_accept(token=invite.token, user=_new_user())
    assert not User.objects.filter(email=invite.email).exists()


def test_unknown_token_is_refused_on_accept():
    with pytest.raises(InviteNotFoundError):
        invites.invite_accept(token="nope", user=_new_user())


def test_resend_issues_a_new_token_and_voids_the_old(mailoutbox, django_capture_on_commit_callbacks):
    admin = AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invite, old_token = invites.invite_create(
            actor=admin, email="ana@example.test", organization=OrganizationFactory()
        )
        invite, new_token = invites.invite_resend(actor=admin, invite=invite)
    assert new_token != old_token
    assert invite.sent_count == 2
    assert len(mailoutbox) == 2
    assert new_token in mailoutbox[1].body
    with pytest.raises(InviteNotFoundError):
        invites.invite_for_token(old_token)
    assert invites.invite_for_token(new_token) == invite


def test_revoked_invite_cannot_be_resent_or_accepted():
    admin, invite = AdminFactory(), InviteFactory()
    invites.invite_revoke(actor=admin, invite=invite)
    with pytest.raises(InviteNotPendingError):
        invites.invite_resend(actor=admin, invite=invite)
    with pytest.raises(InviteNotPendingError, match="withdrawn"):
        invites.invite_accept(token=invite.token, user=_new_user())


def test_seat_limit_counts_members_and_pending_invites():
    owner = OwnerFactory(organization__seat_limit=3)
    studio = owner.organization
    MembershipFactory(organization=studio)
    invites.invite_create(actor=owner.user, email="third@example.test", organization=studio)
    with pytest.raises(SeatLimitError, match="3 seats"):
        invites.invite_create(actor=owner.user, email="fourth@example.test", organization=studio)
    assert Invite.objects.filter(organization=studio).count() == 1


def test_owners_invite_only_to_their_own_studio_and_members_not_at_all():
    owner, member, other = OwnerFactory(), MembershipFactory(), OrganizationFactory()
    with pytest.raises(PermissionDeniedError):
        invites.invite_create(actor=owner.user, email="x@example.test", organization=other)
    with pytest.raises(PermissionDeniedError):
        invites.invite_create(actor=member.user, email="x@example.test", organization=member.organization)


def test_existing_accounts_and_duplicate_pending_invites_are_refused_clearly():
    admin, member = AdminFactory(), MembershipFactory()
    with pytest.raises(InviteError, match="already a member"):
        invites.invite_create(actor=admin, email=member.user.email.upper(), organization=member.organization)
    with pytest.raises(InviteError, match="already has an account"):
        invites.invite_create(actor=admin, email=member.user.email, organization=OrganizationFactory())
    invite = InviteFactory()
    with pytest.raises(InviteError, match="pending invite"):
        invites.invite_create(actor=admin, email=invite.email, organization=invite.organization)


def test_bulk_csv_with_good_duplicate_and_malformed_rows_creates_nothing(mailoutbox):
    admin, studio = AdminFactory(), OrganizationFactory(slug="northlight", cohort=None)
    cohort = CohortFactory(name="March wave 1")
    data = (
        b"email,organisation,role,cohort\n"
        b"ana@example.test,northlight,member,March wave 1\n"
        b"ana@example.test,northlight,member,March wave 1\n"
        b"not-an-email,northlight,member,\n"
        b"bo@example.test,nowhere,member,\n"
        b"cy@example.test,northlight,boss,\n"
    )
    result = invites.invite_bulk_create(actor=admin, data=data)
    outcomes = [(r.line, r.outcome) for r in result.rows]
    assert outcomes == [(2, "ok"), (3, "skipped"), (4, "error"), (5, "error"), (6, "error")]
    assert "line 2" in result.rows[1].message
    assert "not a valid email" in result.rows[2].message
    assert "No studio" in result.rows[3].message
    assert "not a role" in result.rows[4].message
    assert result.created == 0
    assert Invite.objects.count() == 0
    assert mailoutbox == []
    studio.refresh_from_db()
    assert studio.cohort is None
    assert cohort.organizations.count() == 0


def test_bulk_csv_with_good_and_duplicate_rows_creates_the_good_ones(mailoutbox, django_capture_on_commit_callbacks):
    admin, studio = AdminFactory(), OrganizationFactory(slug="northlight", cohort=None)
    cohort = CohortFactory(name="March wave 1")
    existing = InviteFactory(organization=studio, email="dup@example.test")
    data = (
        "\ufeffEmail,Studio,Role,Cohort\r\n"
        "ana@example.test,Northlight,owner,march wave 1\r\n"
        "dup@example.test,northlight,member,\r\n"
        "bo@example.test,northlight,VIEWER,\r\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        result = invites.invite_bulk_create(actor=admin, data=data)
    assert [(r.line, r.outcome) for r in result.rows] == [(2, "created"), (3, "skipped"), (4, "created")]
    assert "pending invite" in result.rows[1].message
    assert result.created == 2
    assert set(Invite.objects.exclude(pk=existing.pk).values_list("email", "role")) == {
        ("ana@example.test", "owner"),
        ("bo@example.test", "viewer"),
    }
    assert len(mailoutbox) == 2
    studio.refresh_from_db()
    assert studio.cohort == cohort


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not"),
        (b"", "empty"),
        (b"name,company\nAna,Northlight\n", "missing: email, organization, role"),
        (b"email,organisation,role\n", "no rows"),
    ],
)
def test_an_invalid_file_is_refused_whole(data, message):
    from portal.errors import InviteFileError

    with pytest.raises(InviteFileError, match=message):
        invites.invite_bulk_create(actor=AdminFactory(), data=data)
    assert Invite.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_accepts_create_exactly_one_account(postgres_only):
    invite = InviteFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def accept(n):
        try:
            barrier.wait(timeout=10)
            invites.invite_accept(token=invite.token, user=_new_user(), full_name=f"Racer {n}")
            outcomes.append("ok")
        except InviteError as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["InviteNotPendingError", "ok"]
    assert User.objects.filter(email=invite.email).count() == 1
    assert Membership.objects.filter(user__email=invite.email).count() == 1
