import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_landing_and_sign_in_pages_render(live_server, page, screenshot):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("AI Studio")
    # Our stylesheet is served and applied: the page is dark by default.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgba(0, 0, 0, 0)"
    assert screenshot("landing").stat().st_size > 10_000

    page.get_by_role("link", name="Sign in").first.click()
    expect(page).to_have_url(live_server.url + "/accounts/login/")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    screenshot("sign-in")


def test_landing_fits_a_phone_screen(live_server, page, screenshot):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert overflow is False
    screenshot("landing-360")
