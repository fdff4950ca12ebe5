"""Every signed-in page fits a 360 px wide phone screen: no sideways scrolling of the page itself."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import AdminFactory, InviteFactory, MembershipFactory, OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PARTNER_PAGES = ["/dashboard/", "/team/", "/webhooks/", "/api-keys/"]
STAFF_PAGES = ["/staff/", "/staff/studios/", "/staff/cohorts/", "/staff/invites/", "/staff/audit/",
               "/staff/results/"]


def _signed_in_page(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


@pytest.mark.parametrize("who", ["partner", "admin"])
def test_pages_fit_a_phone_screen(live_server, browser, who):
    owner = OwnerFactory(user__full_name="Nora Owner-With-A-Rather-Long-Name")
    MembershipFactory(organization=owner.organization)
    InviteFactory(organization=owner.organization, email="a.very.long.address.for.testing@northlight-pictures.example")
    user, pages = (owner.user, PARTNER_PAGES) if who == "partner" else (AdminFactory(), STAFF_PAGES)
    page = _signed_in_page(browser, live_server, user)
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(ARTIFACTS / f"phone-{who}{path.replace('/', '-').rstrip('-')}.png"), full_page=True)
        assert width <= 360, f"{path} is {width}px wide on a 360px screen"
