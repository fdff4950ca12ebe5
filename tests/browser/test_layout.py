"""The header in Chromium under the real Content-Security-Policy: at phone width one row of at most 64 px whose menu
button opens the grouped navigation; the groups are keyboard disclosure menus; the theme switch overrides the
system's preference and survives a reload (from the cookie, and from localStorage when the cookie is gone)."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)

LISTEN = """document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(`${e.violatedDirective} ${e.blockedURI}`);
});"""
DARK_BG = "rgb(15, 17, 20)"
LIGHT_BG = "rgb(246, 247, 249)"


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(user, **options):
        context = browser.new_context(**options)
        contexts.append(context)
        context.add_init_script(LISTEN)
        sign_in(context, live_server, user)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _header_height(page) -> float:
    return page.locator(".site-header").bounding_box()["height"]


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_at_phone_width_the_header_is_one_short_row_and_its_menu_navigates(new_page, live_server):
    page = new_page(OwnerFactory().user, viewport={"width": 390, "height": 844})
    page.goto(live_server.url + reverse("portal:dashboard"))
    assert _header_height(page) <= 64
    # One row, nothing pushed out, and room left for the notification bell (40 px and a gap) another change adds.
    brand = page.locator(".brand").bounding_box()
    menu = page.get_by_role("button", name="Menu")
    assert menu.bounding_box()["x"] - (brand["x"] + brand["width"]) >= 48
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    nav.locator("summary", has_text="Jobs").click()
    page.screenshot(path=str(ARTIFACTS / "layout-phone-menu.png"))
    nav.get_by_role("link", name="Tool catalogue").click()
    page.wait_for_url(live_server.url + reverse("beta:catalogue"))
    assert _header_height(page) <= 64

    # The menu opens on the current page's group; Escape closes the group (focus on its summary), then the menu
    # (focus back on its button).
    menu.click()
    expect(nav.get_by_role("link", name="Tool catalogue")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Tool catalogue")).to_be_hidden()
    expect(nav.locator("summary", has_text="Jobs")).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    assert page.evaluate("window.__csp || []") == []


def test_on_a_desktop_the_groups_are_keyboard_disclosure_menus(new_page, live_server):
    page = new_page(OwnerFactory().user, viewport={"width": 1280, "height": 800})
    page.goto(live_server.url + reverse("beta:job-list"))
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    jobs = page.locator(".site-nav summary", has_text="Jobs")
    expect(jobs).to_have_attribute("aria-current", "true")

    media = page.locator(".site-nav summary", has_text="Media")
    media.focus()
    page.keyboard.press("Enter")
    library = page.get_by_role("link", name="Asset library")
    expect(library).to_be_visible()
    page.keyboard.press("Tab")
    expect(library).to_be_focused()
    page.keyboard.press("Escape")
    expect(library).to_be_hidden()
    expect(media).to_be_focused()

    # Opening one group closes another; tabbing on past a group closes it (no trap).
    media.click()
    jobs.click()
    expect(library).to_be_hidden()
    expect(page.get_by_role("link", name="Tool catalogue")).to_be_visible()
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Tool catalogue")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "layout-desktop.png"))


def test_the_theme_switch_overrides_a_light_system_and_survives_a_reload(new_page, live_server):
    page = new_page(OwnerFactory().user, color_scheme="light", viewport={"width": 390, "height": 844})
    page.goto(live_server.url + reverse("portal:dashboard"))
    assert _background(page) == LIGHT_BG

    page.get_by_title("Colour theme").click()
    dark = page.get_by_role("button", name="Dark")
    dark.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(dark).to_have_attribute("aria-pressed", "true")
    assert _background(page) == DARK_BG

    # The server renders the choice: no light flash before a script runs.
    response = page.reload()
    assert '<html lang="en" data-theme="dark">' in response.text()
    assert _background(page) == DARK_BG

    # Without the cookie the browser's memory brings it back (and restores the cookie).
    page.context.clear_cookies(name="theme")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert _background(page) == DARK_BG
    assert any(c["name"] == "theme" and c["value"] == "dark" for c in page.context.cookies())

    # Back to the system's choice: light again.
    page.get_by_title("Colour theme").click()
    page.get_by_role("button", name="Match system").click()
    assert _background(page) == LIGHT_BG
    assert re.search(r"theme=system", page.evaluate("document.cookie"))
    assert page.evaluate("window.__csp || []") == []
