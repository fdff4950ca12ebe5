"""axe-core (vendored, tests/browser/vendor) finds no serious or critical violation (colour contrast included) on
every page of the main navigation, for a partner owner, a reviewer and an admin, in both themes; and on the sign-in
pages. The theme is set by the portal's own switch (the "theme" cookie), against the opposite system preference, so
the check also proves the switch overrides prefers-color-scheme."""

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from beta.jobs.submit import usage_month
from beta.models import FeedbackComment, StudioUsage
from tests.browser.conftest import sign_in
from tests.factories import (
    PASSWORD,
    AdminFactory,
    FeedbackReportFactory,
    JobFactory,
    OwnerFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
OPPOSITE = {"light": "dark", "dark": "light"}
RUN_AXE = """async (root) => (await axe.run(root || document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""


def _violations(page, root=None) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, root)


def _context(browser, live_server, theme, user=None):
    # axe is injected inline by the test only, hence bypass_csp.
    context = browser.new_context(color_scheme=OPPOSITE[theme], bypass_csp=True,
                                  viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    if user is not None:
        sign_in(context, live_server, user)
    return context


def _user(role):
    if role == "reviewer":
        return StaffFactory()
    if role == "admin":
        return AdminFactory()
    owner = OwnerFactory()
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="succeeded")
    report = FeedbackReportFactory(organization=owner.organization, job=job, author=owner.user, text="Clean proxies.")
    # The home's live parts too: a running job's progress, a staff reply not yet read, quota bars (one nearly full).
    JobFactory(organization=owner.organization, submitted_by=owner.user, status="running", error="", progress=30)
    FeedbackComment.objects.create(report=report, author=StaffFactory(), kind="reply", body="Thanks, noted.")
    StudioUsage.objects.create(organization=owner.organization, month=usage_month(timezone.now()), jobs=490)
    return owner.user


def _menus_problems(page) -> dict[str, list[str]]:
    """Each header menu open, one at a time: its panel checked too."""
    problems = {}
    for index in range(page.locator(".site-header details[data-menu]").count()):
        menu = page.locator(".site-header details[data-menu]").nth(index)
        menu.locator("summary").click()
        found = _violations(page, menu.element_handle())
        if found:
            problems[f"menu {menu.locator('summary').inner_text()!r}"] = found
        page.keyboard.press("Escape")
    return problems


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("role", ["partner", "reviewer", "admin"])
def test_every_navigation_page_has_no_serious_violation(live_server, browser, role, theme):
    page = _context(browser, live_server, theme, _user(role)).new_page()
    page.goto(live_server.url + reverse("portal:home"))
    assert page.locator("html").get_attribute("data-theme") == theme
    paths = page.eval_on_selector_all("#site-nav a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert len(paths) >= 8, paths
    problems = _menus_problems(page)
    for path in dict.fromkeys(paths):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        found = _violations(page)
        if found:
            problems[path] = found
    assert problems == {}, problems


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_sign_in_pages_have_no_serious_violation(live_server, browser, theme):
    page = _context(browser, live_server, theme).new_page()
    problems = {}
    page.goto(live_server.url + reverse("account_login"))
    if found := _violations(page):
        problems["sign in"] = found
    problems.update(_menus_problems(page))
    # The MFA step of a staff sign-in (allauth's authenticate page, "Cancel" among its buttons).
    reviewer = StaffFactory()
    page.fill("input[name=login]", reviewer.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(live_server.url + reverse("mfa_authenticate") + "**", timeout=15000)
    if found := _violations(page):
        problems["mfa authenticate"] = found
    assert problems == {}, problems
