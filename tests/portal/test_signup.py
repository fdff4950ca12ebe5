"""Sign-up is closed except through an invite; the invited email cannot be changed."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from portal.models import AuditEvent, Invite, Membership, User
from tests.factories import InviteFactory

pytestmark = pytest.mark.django_db

PASSWORD = "plates-and-matte-paintings"


def test_signup_without_an_invite_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert "Sign-up is by invitation" in response.content.decode()
    client.post(
        reverse("account_signup"),
        {"email": "me@example.test", "password1": PASSWORD, "password2": PASSWORD, "full_name": "Me"},
    )
    assert not User.objects.filter(email="me@example.test").exists()


def _start(client, invite):
    response = client.post(reverse("portal:invite", args=[invite.token]))
    assert response.status_code == 302
    assert response.url == reverse("account_signup")


def test_accepting_an_invite_creates_a_verified_account_in_the_studio(client):
    invite = InviteFactory(role="owner")
    _start(client, invite)
    page = client.get(reverse("account_signup")).content.decode()
    assert invite.email in page
    assert "disabled" in page
    response = client.post(
        reverse("account_signup"), {"full_name": "Ana Lopez", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email=invite.email)
    assert user.full_name == "Ana Lopez"
    assert Membership.objects.get(user=user).organization == invite.organization
    assert Membership.objects.get(user=user).role == "owner"
    assert EmailAddress.objects.get(user=user).verified
    invite.refresh_from_db()
    assert invite.status == Invite.Status.ACCEPTED
    assert AuditEvent.objects.filter(action="invite.accepted", actor=user).exists()
    # Signed in straight away: the email was verified by the invite.
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_the_invited_email_cannot_be_changed(client):
    invite = InviteFactory()
    _start(client, invite)
    client.post(
        reverse("account_signup"),
        {"full_name": "Mallory", "email": "mallory@evil.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert not User.objects.filter(email="mallory@evil.test").exists()
    assert User.objects.filter(email=invite.email).exists()


def test_an_invite_revoked_during_signup_creates_nothing(client):
    from django.utils import timezone

    invite = InviteFactory()
    _start(client, invite)
    Invite.objects.filter(pk=invite.pk).update(revoked_at=timezone.now())
    response = client.post(
        reverse("account_signup"), {"full_name": "Ana", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert "Sign-up is by invitation" in response.content.decode()
    assert not User.objects.filter(email=invite.email).exists()
