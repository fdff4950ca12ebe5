"""In Chromium: an admin invites a partner; the partner opens the email's link, signs up, accepts the
agreement and lands on the studio dashboard. A screenshot of each step goes to tests/browser/artifacts/."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from portal.models import AuditEvent, Invite, Membership
from tests.factories import PASSWORD, TOTP_SECRET, AdminFactory, AgreementVersionFactory, OrganizationFactory
from tests.test_totp import fresh_totp_code_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_invites_a_partner_who_signs_up_and_lands_on_the_dashboard(live_server, browser, mailoutbox):
    admin = AdminFactory(email="ada@studio.example")
    studio = OrganizationFactory(name="Northlight Pictures")
    agreement = AgreementVersionFactory(title="Beta agreement and NDA", text="Your material stays yours.")

    # The admin signs in with password and TOTP, and invites a partner.
    admin_page = browser.new_page()
    admin_page.goto(live_server.url + "/accounts/login/")
    admin_page.get_by_label("Email").fill(admin.email)
    admin_page.get_by_label("Password").fill(PASSWORD)
    admin_page.get_by_role("button", name="Sign in", exact=True).click()
    admin_page.get_by_label(re.compile("code", re.I)).fill(fresh_totp_code_for(TOTP_SECRET))
    admin_page.screenshot(path=_artifact("invite-1-admin-mfa"))
    admin_page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(admin_page.get_by_role("heading", level=1)).to_contain_text("Programme overview")

    admin_page.goto(live_server.url + "/staff/invites/")
    form = admin_page.get_by_role("region", name="Invite one person")
    form.get_by_label("Email address").fill("nora@northlight.example")
    form.get_by_label("Studio", exact=True).select_option(label="Northlight Pictures")
    form.get_by_label("Role").select_option("owner")
    form.get_by_role("button", name="Send the invite").click()
    expect(admin_page.get_by_text("nora@northlight.example").first).to_be_visible()
    admin_page.screenshot(path=_artifact("invite-2-admin-invites"), full_page=True)

    # The partner opens the link from the email, in a browser of their own.
    [email] = mailoutbox
    link = re.search(r"https?://\S+/invite/[\w-]+/", email.body).group(0)
    partner = browser.new_context().new_page()
    partner.goto(live_server.url + urlsplit(link).path)
    expect(partner.get_by_role("heading", level=1)).to_contain_text("Join Northlight Pictures")
    partner.screenshot(path=_artifact("invite-3-partner-opens-link"), full_page=True)
    assert Invite.objects.get().status == "pending"  # opening the link used nothing up

    partner.get_by_role("button", name="Accept and create my account").click()
    expect(partner.get_by_label("Email")).to_have_value("nora@northlight.example")
    expect(partner.get_by_label("Email")).to_be_disabled()
    partner.get_by_label("Your name").fill("Nora Owner")
    partner.get_by_label("Password", exact=True).fill("plates-and-matte-paintings")
    partner.get_by_label("Password (again)").fill("plates-and-matte-paintings")
    partner.screenshot(path=_artifact("invite-4-partner-signs-up"), full_page=True)
    partner.get_by_role("button", name="Create account").click()

    expect(partner.get_by_role("heading", level=1)).to_contain_text(agreement.title)
    partner.screenshot(path=_artifact("invite-5-agreement"), full_page=True)
    partner.get_by_label(re.compile("I have read")).check()
    partner.get_by_role("button", name="Accept and continue").click()

    expect(partner.get_by_role("heading", level=1)).to_contain_text("Northlight Pictures")
    partner.screenshot(path=_artifact("invite-6-dashboard"), full_page=True)
    membership = Membership.objects.get(user__email="nora@northlight.example")
    assert membership.organization == studio
    assert membership.role == "owner"
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "invite.created",
        "invite.accepted",
        "agreement.accepted",
        "login.succeeded",
    }


def _artifact(name: str) -> str:
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
