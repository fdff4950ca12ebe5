"""The access gate: staff must set up MFA first; partners must accept the current agreement first."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse

from portal.models import AgreementAcceptance, AuditEvent
from tests.factories import (
    PASSWORD,
    TOTP_SECRET,
    AgreementVersionFactory,
    MembershipFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def totp_code(secret: str = TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_staff_without_mfa_are_sent_to_mfa_setup_before_anything_else(client):
    reviewer = StaffFactory(totp=False)
    client.force_login(reviewer)
    for url in (reverse("portal:staff-home"), reverse("portal:staff-studios"), reverse("portal:dashboard")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == reverse("mfa_activate_totp")
    # The setup page itself is reachable (allauth first asks a force-logged-in user to confirm the password).
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 200 or setup.url.startswith(reverse("account_reauthenticate"))


def test_staff_with_mfa_pass_the_gate(client):
    client.force_login(StaffFactory())
    assert client.get(reverse("portal:staff-home")).status_code == 200


def test_partners_need_mfa_only_when_required(client, settings):
    member = MembershipFactory()
    client.force_login(member.user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    settings.REQUIRE_PARTNER_MFA = True
    assert client.get(reverse("portal:dashboard")).url == reverse("mfa_activate_totp")


def test_totp_sign_in_works_end_to_end(client):
    reviewer = StaffFactory()
    response = client.post(reverse("account_login"), {"login": reviewer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not signed in before the second factor
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == reviewer.pk
    assert client.get(reverse("portal:staff-home")).status_code == 200
    assert AuditEvent.objects.filter(action="login.succeeded", actor=reviewer).count() == 1


def test_a_fragment_request_is_never_answered_with_the_page_the_gate_sends_to(client):
    """The header's bell polls with htmx on every page, the agreement page included. Before the agreement is
    accepted, the gate's redirect would have htmx swap the whole agreement page into the bell: instead htmx is told
    to go there as a page, and on the agreement page itself it gets nothing."""
    AgreementVersionFactory()
    member = MembershipFactory()
    client.force_login(member.user)
    bell = reverse("portal:notifications-bell")
    agreement = reverse("portal:agreement")

    elsewhere = client.get(bell, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/jobs/")
    on_the_agreement = client.get(bell, HTTP_HX_REQUEST="true",
                                  HTTP_HX_CURRENT_URL=f"http://testserver{agreement}?next=%2Fjobs%2F")
    plain = client.get(bell)

    assert elsewhere.status_code == 204
    assert elsewhere["HX-Redirect"].startswith(agreement)
    assert elsewhere.content == b""
    assert on_the_agreement.status_code == 204
    assert "HX-Redirect" not in on_the_agreement
    assert on_the_agreement.content == b""
    assert plain.status_code == 302  # a page request is redirected as before
    assert plain.url.startswith(agreement)


def test_partner_without_the_current_agreement_reaches_no_beta_page(client):
    agreement = AgreementVersionFactory()
    member = MembershipFactory()
    client.force_login(member.user)
    for url in (reverse("portal:dashboard"), reverse("portal:team"), reverse("portal:home")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("portal:agreement"))
    page = client.get(reverse("portal:agreement"))
    assert agreement.text in page.content.decode()

    refused = client.post(reverse("portal:agreement"), {"next": "/team/"})
    assert refused.status_code == 400
    assert not AgreementAcceptance.objects.exists()

    response = client.post(
        reverse("portal:agreement"),
        {"accept": "yes", "next": "/team/"},
        HTTP_USER_AGENT="Playwright/1.0",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.url == "/team/"
    acceptance = AgreementAcceptance.objects.get(user=member.user)
    assert acceptance.version == agreement
    assert acceptance.ip_address == "203.0.113.9"
    assert acceptance.user_agent == "Playwright/1.0"
    assert client.get(reverse("portal:dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="agreement.accepted", actor=member.user).exists()


def test_a_new_agreement_version_asks_again(client):
    from datetime import timedelta

    from django.utils import timezone

    from portal.services.agreements import agreement_accept

    old = AgreementVersionFactory(published_at=timezone.now() - timedelta(days=3))
    member = MembershipFactory()
    agreement_accept(user=member.user, version=old)
    client.force_login(member.user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    AgreementVersionFactory(version="2.0")
    assert client.get(reverse("portal:dashboard")).url.startswith(reverse("portal:agreement"))


def test_next_cannot_send_the_partner_off_site(client):
    AgreementVersionFactory()
    client.force_login(MembershipFactory().user)
    response = client.post(reverse("portal:agreement"), {"accept": "yes", "next": "https://evil.example/"})
    assert response.url == reverse("portal:home")


def test_staff_are_not_asked_for_the_agreement(client):
    AgreementVersionFactory()
    client.force_login(StaffFactory())
    assert client.get(reverse("portal:staff-home")).status_code == 200
