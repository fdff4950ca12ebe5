"""allauth accounts: rate limits on sign-in, password reset that reveals nothing."""

import re

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
CSRF = re.compile(r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')


def test_repeated_failed_sign_ins_are_rate_limited(client):
    member = MembershipFactory()
    for n in range(5):
        response = client.post(reverse("account_login"), {"login": member.user.email, "password": f"wrong-{n}"})
        assert "Too many failed login attempts" not in response.content.decode()
    # Past the limit even the right password is refused for a while.
    response = client.post(reverse("account_login"), {"login": member.user.email, "password": "correct-horse-battery"})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.failed", detail__email=member.user.email).count() >= 5


def test_failed_sign_in_is_audited_with_the_studio(client):
    member = MembershipFactory()
    client.post(reverse("account_login"), {"login": member.user.email, "password": "nope"}, REMOTE_ADDR="198.51.100.7")
    event = AuditEvent.objects.get(action="login.failed")
    assert event.organization == member.organization
    assert event.ip_address == "198.51.100.7"
    assert event.actor is None


def test_password_reset_looks_the_same_for_known_and_unknown_emails(client, mailoutbox):
    member = MembershipFactory()
    known = client.post(reverse("account_reset_password"), {"email": member.user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    page_known = CSRF.sub("", client.get(known.url).content.decode())
    page_unknown = CSRF.sub("", client.get(unknown.url).content.decode())
    assert page_known == page_unknown
    # The real account holder gets a reset link; nothing reveals anything to the requester.
    assert any(member.user.email in m.to for m in mailoutbox)
