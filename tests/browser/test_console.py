"""In Chromium: a programme admin runs the beta from the staff console, and the partner sees the effect.

- switching a tool off for the partner's cohort takes it out of the partner's catalogue;
- raising the studio's storage quota changes the staff bar and the partner's library ("… of N GB used");
- publishing a new agreement version asks the partner to accept again, and the admin sees the acceptance.
Screenshots of each console page, desktop and phone width, go to tests/browser/artifacts/.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from beta import tools as catalogue
from portal.forms.staff import GB
from portal.services.agreements import agreement_accept
from tests.browser.conftest import ARTIFACTS
from tests.factories import AdminFactory, AgreementVersionFactory, AssetFactory, CohortFactory, OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _page(browser, live_server, user, viewport=DESKTOP):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    return context.new_page()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def people():
    owner = OwnerFactory(organization__cohort=CohortFactory(name="March wave 1"),
                         organization__name="Northlight Pictures")
    CohortFactory(name="April wave 2")
    return owner, AdminFactory()


def test_the_admin_switches_a_tool_off_for_a_cohort_and_the_partner_loses_it(browser, live_server, people):
    owner, admin = people
    dailies = catalogue.get_tool("dailies")
    partner = _page(browser, live_server, owner.user)
    partner.goto(live_server.url + reverse("beta:catalogue"))
    card = partner.locator("article", has=partner.get_by_role("heading", name=dailies.name, exact=True))
    expect(card.get_by_role("link", name=f"Run {dailies.name}")).to_be_visible()

    # When: the admin switches Dailies off for the partner's cohort on the tools page.
    staff = _page(browser, live_server, admin)
    staff.goto(live_server.url + reverse("beta:staff-tools"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("Tools and queues")
    expect(staff.locator("#queues-live")).to_contain_text("Waiting")
    _shot(staff, "console-tools-desktop")
    tool_card = staff.locator(f"#tool-{dailies.slug}")
    tool_card.get_by_role("button", name="Switch off for March wave 1").click()
    expect(staff.get_by_text(f"{dailies.name} is no longer offered to March wave 1.")).to_be_visible()
    expect(tool_card.get_by_role("button", name="Switch on for March wave 1")).to_be_visible()

    # Then: the partner's catalogue no longer lets them run it, and says why.
    partner.reload()
    expect(card.get_by_role("link", name=f"Run {dailies.name}")).to_have_count(0)
    expect(card).to_contain_text("This tool is not offered to your cohort.")
    _shot(partner, "console-tools-partner-catalogue-after-switch")
    partner.goto(live_server.url + reverse("beta:submit", args=[dailies.slug]))
    expect(partner.locator("main")).to_contain_text("This tool is not offered to your cohort.")

    phone = _page(browser, live_server, admin, PHONE)
    phone.goto(live_server.url + reverse("beta:staff-tools"))
    _shot(phone, "console-tools-phone")


def test_the_admin_raises_a_quota_and_both_bars_follow(browser, live_server, people):
    owner, admin = people
    studio = owner.organization
    studio.storage_quota_bytes = GB
    studio.save(update_fields=["storage_quota_bytes"])
    AssetFactory(organization=studio, size_bytes=GB // 2, original_filename="A001_C003.mov")

    partner = _page(browser, live_server, owner.user)
    partner.goto(live_server.url + reverse("assets:library"))
    expect(partner.locator("main")).to_contain_text("512.0 MB of 1.0 GB used")

    staff = _page(browser, live_server, admin)
    staff.goto(live_server.url + reverse("beta:staff-quotas"))
    _shot(staff, "console-quotas-desktop")
    staff.get_by_role("link", name="Change Northlight Pictures's limits").click()
    storage_bar = staff.get_by_role("meter", name="Storage")
    expect(storage_bar).to_have_attribute("aria-valuenow", "50")
    expect(staff.locator("[data-quota=storage]")).to_have_text("512.0 MB of 1.0 GB")

    # A bad value first: the field says why and nothing changes.
    staff.get_by_label("Storage (GB)").fill("0")
    staff.get_by_role("button", name="Save the limits").click()
    expect(staff.locator("#id_storage_quota_gb_error")).to_have_text("Ensure this value is greater than or equal to 1.")
    _shot(staff, "console-quota-error")

    # When: the admin doubles the storage quota.
    staff.get_by_label("Storage (GB)").fill("2")
    staff.get_by_role("button", name="Save the limits").click()
    expect(staff.get_by_text("Northlight Pictures's limits were saved.")).to_be_visible()
    expect(storage_bar).to_have_attribute("aria-valuenow", "25")
    expect(staff.locator("[data-quota=storage]")).to_have_text("512.0 MB of 2.0 GB")
    _shot(staff, "console-quota-desktop")

    # Then: the partner's library shows the new quota.
    partner.reload()
    expect(partner.locator("main")).to_contain_text("512.0 MB of 2.0 GB used")

    phone = _page(browser, live_server, admin, PHONE)
    phone.goto(live_server.url + reverse("beta:staff-quota", args=[studio.pk]))
    _shot(phone, "console-quota-phone")


def test_the_admin_publishes_an_agreement_version_and_the_partner_is_asked_again(browser, live_server, people):
    owner, admin = people
    first = AgreementVersionFactory(version="1.0", title="Beta agreement",
                                    published_at=timezone.now() - timedelta(days=7))
    agreement_accept(user=owner.user, version=first)
    partner = _page(browser, live_server, owner.user)
    partner.goto(live_server.url + reverse("portal:dashboard"))
    expect(partner).to_have_url(live_server.url + reverse("portal:dashboard"))

    # When: the admin drafts version 2.0, previews it and publishes it.
    staff = _page(browser, live_server, admin)
    staff.goto(live_server.url + reverse("portal:staff-agreements"))
    staff.get_by_label("Version", exact=True).fill("2.0")
    staff.get_by_label("Title", exact=True).fill("Beta agreement, May terms")
    staff.get_by_label("Text", exact=True).fill("You keep your material.\n\nOutputs are not used to train any model.")
    staff.get_by_role("button", name="Save the draft").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Version 2.0")
    expect(staff.locator("main")).to_contain_text("Outputs are not used to train any model.")
    _shot(staff, "console-agreement-preview-desktop")
    staff.get_by_label("Every partner must accept version 2.0 again").check()
    staff.get_by_role("button", name="Publish version 2.0").click()
    expect(staff.get_by_text("Version 2.0 is published.")).to_be_visible()
    expect(staff.locator("main")).to_contain_text("Not accepted yet (1)")

    # Then: the partner's next page is the agreement, and accepting it shows up for the admin.
    partner.goto(live_server.url + reverse("portal:dashboard"))
    expect(partner).to_have_url(f"{live_server.url}{reverse('portal:agreement')}?next=%2Fdashboard%2F")
    expect(partner.get_by_role("heading", level=1)).to_have_text("Beta agreement, May terms")
    partner.get_by_label("I have read the beta agreement, may terms and accept it on behalf of my studio.").check()
    partner.get_by_role("button", name="Accept and continue").click()
    expect(partner).to_have_url(live_server.url + reverse("portal:dashboard"))

    staff.reload()
    expect(staff.locator("main")).to_contain_text("Accepted by (1)")
    expect(staff.locator("main")).to_contain_text(owner.user.email)
    staff.goto(live_server.url + reverse("portal:staff-agreements"))
    _shot(staff, "console-agreements-desktop")
    phone = _page(browser, live_server, admin, PHONE)
    phone.goto(live_server.url + reverse("portal:staff-agreements"))
    _shot(phone, "console-agreements-phone")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_console_pages_have_no_serious_accessibility_violations(browser, live_server, people, scheme):
    from tests.browser.test_axe import _context, _violations

    owner, admin = people
    version = AgreementVersionFactory(version="1.0", published_at=timezone.now())
    paths = [reverse("beta:staff-tools"), reverse("beta:staff-quotas"),
             reverse("beta:staff-quota", args=[owner.organization.pk]), reverse("portal:staff-agreements"),
             reverse("portal:staff-agreement", args=[version.pk])]
    page = _context(browser, live_server, scheme, admin).new_page()
    problems = {}
    for path in paths:
        assert page.goto(live_server.url + path).status == 200, path
        if found := _violations(page):
            problems[path] = found
    assert problems == {}, problems
