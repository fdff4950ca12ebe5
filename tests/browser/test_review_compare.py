"""In Chromium: compare keeps two media in sync (play, pause, 20 steps: the frame counters stay within one frame),
and the wipe shows the left media left of the line. Screenshot: tests/browser/artifacts/review-wipe.png."""

import io

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from assets.services import asset_create_from_file
from tests.browser.test_review_player import make_counting_clip, shot, signed_in
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)
LEFT, RIGHT = (0xC0, 0x30, 0x30), (0x30, 0x40, 0xC0)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    return (make_counting_clip(folder / "left.mp4", "25", colour="0xC03030"),
            make_counting_clip(folder / "right.mp4", "25", colour="0x3040C0"))


def frames(page) -> tuple[int, int]:
    status = page.locator(".cmp__status")
    return int(status.get_attribute("data-a")), int(status.get_attribute("data-b"))


def settled(page):
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-review-player] video'))
        .every(v => !v.seeking && v.readyState >= 2)""", timeout=20_000)


def test_compare_stays_in_sync_and_the_wipe_shows_left_on_the_left(browser, live_server, pair):
    owner = OwnerFactory()
    assets = [asset_create_from_file(organization=owner.organization, created_by=None, path=clip, kind="video",
                                     filename=clip.name, content_type="video/mp4", make_previews=False)
              for clip in pair]
    for asset in assets:  # compare plays the review copies; here the clip itself stands in for one
        asset.renditions.create(kind="proxy", storage_key=asset.storage_key, content_type="video/mp4")
    _, page = signed_in(browser, live_server, owner.user)
    page.goto(f"{live_server.url}{reverse('beta:review-compare')}?a={assets[0].pk}&b={assets[1].pk}")
    page.wait_for_function("() => document.querySelector('[data-compare]').compare", timeout=20_000)
    settled(page)
    page.locator(".rp__stage").first.focus()

    page.keyboard.press("Space")
    page.wait_for_function("() => Number(document.querySelector('.cmp__status').dataset.a) > 30", timeout=30_000)
    page.keyboard.press("Space")
    settled(page)
    a, b = frames(page)
    assert abs(a - b) <= 1, (a, b)
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    settled(page)
    page.wait_for_function("() => { const s = document.querySelector('.cmp__status').dataset;"
                           " return Math.abs(Number(s.a) - Number(s.b)) <= 1; }", timeout=10_000)
    a2, b2 = frames(page)
    assert a2 == a + 20
    assert abs(a2 - b2) <= 1, (a2, b2)
    # Keys on the right-hand player drive the pair too.
    page.locator(".rp__stage").nth(1).focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.querySelector('.cmp__status').dataset.b === '{a2 - 1}'", timeout=10_000)
    assert frames(page)[0] == a2 - 1

    # Wipe: the line at 30 %, by keyboard; left of it the left clip, right of it the right clip.
    page.get_by_role("radio", name="Wipe").check()
    wipe = page.get_by_label("Wipe position")
    wipe.focus()
    for _ in range(20):
        page.keyboard.press("ArrowLeft")
    expect(wipe).to_have_value("30")
    settled(page)
    box = page.locator(".rp__stage").first.bounding_box()
    picture = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")).astype(int)
    h, w, _ = picture.shape
    left_px, right_px = picture[int(h * 0.15), int(w * 0.1)], picture[int(h * 0.15), int(w * 0.9)]
    assert np.abs(left_px - LEFT).sum() < 60, left_px
    assert np.abs(right_px - RIGHT).sum() < 60, right_px
    line = page.locator(".cmp__line").bounding_box()
    assert abs((line["x"] + line["width"] / 2) - (box["x"] + 0.3 * box["width"])) < 4
    shot(page, "wipe")

    # At the middle the line cuts the frame number in two: each half from its own clip, on the same frame.
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    expect(wipe).to_have_value("50")
    line = page.locator(".cmp__line").bounding_box()
    assert abs((line["x"] + line["width"] / 2) - (box["x"] + 0.5 * box["width"])) < 4
    shot(page, "wipe-middle")
