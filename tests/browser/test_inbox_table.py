"""The staff feedback inbox's table scrolls inside its frame at any width: the page itself never scrolls sideways."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import (
    FeedbackReportFactory,
    JobFactory,
    MembershipFactory,
    OrganizationFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _staff_page(browser, live_server, user, width):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    return context.new_page()


@pytest.mark.parametrize("width", [1440, 1024, 820, 600, 390])
def test_the_inbox_table_scrolls_inside_its_frame(live_server, browser, width):
    studio = OrganizationFactory(name="Northlight-Pictures-With-A-Very-Long-Studio-Name")
    author = MembershipFactory(organization=studio).user
    for n in range(3):
        job = JobFactory(organization=studio, tool_slug="shot-detect-with-a-long-slug", status="succeeded")
        FeedbackReportFactory(organization=studio, job=job, author=author, tool_slug=job.tool_slug,
                              text=f"Report {n}: " + "averyveryverylongwordwithoutbreaks" * 4)
    page = _staff_page(browser, live_server, StaffFactory(), width)
    response = page.goto(live_server.url + "/staff/feedback/")
    assert response.status == 200
    frame = page.locator(".table-wrap").first
    frame.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = frame.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width + 0.5
    assert frame.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    # Whatever the table's own width, it is clipped by its frame (which scrolls), never by the page.
    table = page.locator(".table-wrap table").first
    assert table.evaluate("el => el.closest('.table-wrap').clientWidth <= document.documentElement.clientWidth")
