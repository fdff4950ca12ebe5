"""axe-core (vendored, tests/browser/vendor) on the main pages, for a partner and for staff, in both colour schemes:
no serious or critical violation (colour contrast included: portal.css follows prefers-color-scheme)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from beta.jobs.submit import usage_month
from beta.models import FeedbackComment, StudioUsage
from tests.factories import PASSWORD, FeedbackReportFactory, JobFactory, OwnerFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PARTNER_PAGES = ["/dashboard/", "/jobs/", "/feedback/"]
STAFF_PAGES = ["/staff/feedback/"]


def _violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
    )


def _context(browser, live_server, scheme, user=None):
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)  # axe is injected inline by the test only
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    return context


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(live_server, browser, scheme):
    owner = OwnerFactory()
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="succeeded")
    report = FeedbackReportFactory(organization=owner.organization, job=job, author=owner.user, text="Clean proxies.")
    # The home's live parts too: a running job's progress, a staff reply not yet read, quota bars (one nearly full).
    JobFactory(organization=owner.organization, submitted_by=owner.user, status="running", error="", progress=30)
    FeedbackComment.objects.create(report=report, author=StaffFactory(), kind="reply", body="Thanks, noted.")
    StudioUsage.objects.create(organization=owner.organization, month=usage_month(timezone.now()), jobs=490)
    problems = {}
    for user, paths in ((None, [reverse("account_login")]), (owner.user, PARTNER_PAGES), (StaffFactory(), STAFF_PAGES)):
        page = _context(browser, live_server, scheme, user).new_page()
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            found = _violations(page)
            if found:
                problems[path] = found
    # The MFA step of a staff sign-in (allauth's authenticate page, "Cancel" among its buttons).
    reviewer = StaffFactory()
    page = _context(browser, live_server, scheme).new_page()
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", reviewer.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(live_server.url + reverse("mfa_authenticate") + "**", timeout=15000)
    found = _violations(page)
    if found:
        problems["mfa authenticate"] = found
    assert problems == {}, problems
