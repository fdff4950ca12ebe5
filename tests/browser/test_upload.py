"""In Chromium: a partner uploads a video on /assets/upload/ (local mode, several 5 MiB parts sent in parallel), a real
Celery worker verifies it and makes its previews, and the asset page shows the player with its poster. And: an upload
cut off mid-way resumes after a reload from the parts already stored. Screenshots go to tests/browser/artifacts/."""

import hashlib
import math
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from assets.models import Asset
from assets.storage import get_store
from tests.assets.conftest import H264_AAC, lavfi_sine, lavfi_video, run_ffmpeg
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import wait_for
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024
PART = 5 * MiB  # the smallest part the portal hands out (S3's minimum), so a 13 MiB clip has 3 parts
PART_PUT = re.compile(r"/assets/uploads/\d+/parts/(\d+)/$")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """3 s of 1280x720 test pattern with grain (so it does not compress away) and a tone: ~13 MiB of H.264/AAC."""
    path = tmp_path_factory.mktemp("upload") / "A001_C003 dailies.mp4"
    run_ffmpeg(
        *lavfi_video("1280x720", 3), *lavfi_sine(3), "-vf", "noise=alls=60:allf=t", "-b:v", "28M", *H264_AAC, str(path)
    )
    assert path.stat().st_size > 2 * PART, "the clip must need at least three parts"
    return path


@pytest.fixture
def owner():
    return OwnerFactory()


@pytest.fixture
def uploader_page(browser, live_server, settings, owner):
    """The upload page, signed in as a studio owner (a force_login session cookie copied into the browser)."""
    settings.UPLOAD_PART_SIZE = PART
    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(live_server.url + "/assets/upload/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload files")
    yield page
    context.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _part_puts(page) -> list[int]:
    """Part numbers of every PUT the page sends (aborted ones included), in order."""
    puts = []

    def seen(request) -> None:
        if request.method == "PUT" and (match := PART_PUT.search(request.url)):
            puts.append(int(match.group(1)))

    page.on("request", seen)
    return puts


def _stored_parts(asset: Asset) -> list[int]:
    return [p.part_number for p in get_store().multipart_list_parts(asset.storage_key, asset.upload_id)]


def test_a_video_uploads_in_parallel_parts_and_gets_its_player_and_poster(
    uploader_page, owner, clip, live_server, celery_worker_process
):
    page = uploader_page
    parts = math.ceil(clip.stat().st_size / PART)
    puts = _part_puts(page)
    # Slow the browser's uplink (about 3 s for the clip) so the progress bar can be seen on its way.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 4 * MiB},
    )

    # When: the partner chooses the file; the page starts at once (data-autostart).
    page.set_input_files("#files", str(clip))
    bar = page.get_by_role("progressbar")
    page.wait_for_function(
        "() => { const v = +document.querySelector('[role=progressbar]').getAttribute('aria-valuenow');"
        " return v >= 30 && v < 100; }"
    )
    _shot(page, "upload-1-in-progress")
    expect(page.get_by_text("Uploading ·")).to_be_visible()

    # Then: the bar reaches 100 % and the row offers the asset.
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.get_by_text("Uploaded · 100 %")).to_be_visible()
    _shot(page, "upload-2-done")
    assert sorted(puts) == list(range(1, parts + 1)), "each part is sent once"
    asset = Asset.objects.get(organization=owner.organization)
    assert asset.part_size == PART

    # The worker verifies it; the row follows it (htmx, every 2 s) to "Ready" on this page, without a reload, and
    # offers to run a tool on it.
    page.evaluate("window.__stillTheSamePage = true")
    row = page.locator(".upload-row")
    expect(row.locator(".upload-row__status")).to_have_attribute("data-asset-status", "ready", timeout=90_000)
    expect(row.locator(".pill--ready")).to_have_text("Ready")
    assert page.evaluate("window.__stillTheSamePage === true"), "the page was reloaded"
    expect(row.get_by_role("link", name="Run a tool on it")).to_have_attribute("href", f"/tools/?asset={asset.pk}")
    _shot(page, "upload-2b-ready")

    # Open: the asset page, where the player appears once its previews are made.
    row.get_by_role("link", name=re.compile("^Open ")).click()
    expect(page).to_have_url(f"{live_server.url}/assets/{asset.pk}/")
    player = page.locator("video.player")
    expect(player).to_have_attribute("poster", f"/assets/{asset.pk}/renditions/poster/", timeout=90_000)
    expect(player).to_have_attribute("src", f"/assets/{asset.pk}/renditions/proxy/")
    page.wait_for_function("() => document.querySelector('video.player').readyState >= 1")  # the proxy plays
    _shot(page, "upload-3-asset-page")
    poster = page.request.get(f"{live_server.url}/assets/{asset.pk}/renditions/poster/")
    assert poster.status == 200
    assert poster.headers["content-type"] == "image/jpeg"

    asset.refresh_from_db()
    assert (asset.status, asset.previews, asset.kind) == ("ready", "ready", "video")
    assert asset.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert (asset.width, asset.height) == (1280, 720)
    assert set(asset.renditions.values_list("kind", flat=True)) == {"thumbnail", "poster", "contact_sheet", "proxy"}


def test_an_interrupted_upload_resumes_after_a_reload_from_the_parts_already_stored(
    uploader_page, owner, clip, live_server, celery_worker_process
):
    page = uploader_page
    parts = math.ceil(clip.stat().st_size / PART)
    last = f"**/parts/{parts}/"
    puts = _part_puts(page)

    # Given: an upload whose last part cannot get through (the network drops it, every retry).
    page.route(last, lambda route: route.abort("connectionreset"))
    page.set_input_files("#files", str(clip))
    expect(page.get_by_text(f"Connection trouble; retrying part {parts}")).to_be_visible(timeout=15_000)
    asset = Asset.objects.get(organization=owner.organization)
    wait_for(lambda: _stored_parts(asset) == list(range(1, parts)), timeout=15, message="the other parts to be stored")
    _shot(page, "upload-4-interrupted")
    first_puts = list(puts)
    assert sorted(set(first_puts)) == list(range(1, parts + 1))

    # When: the partner reloads the page and chooses the same file again.
    page.unroute(last)
    held = []  # the missing part is held back a moment, so that the resume note can be seen
    page.route(last, lambda route: held.append(route))
    puts.clear()
    page.reload()
    expect(page.get_by_role("heading", name="Unfinished uploads")).to_be_visible()
    page.set_input_files("#files", str(clip))

    # Then: it resumes from what is stored and sends only the missing part.
    expect(page.get_by_text(f"Resuming: {parts - 1} of {parts} parts already stored.")).to_be_visible()
    while not held:
        page.wait_for_timeout(50)
    _shot(page, "upload-5-resuming")
    # Meanwhile the asset's page, open in another tab, says the upload has not finished, and polls (htmx).
    watcher = page.context.new_page()
    watcher.goto(f"{live_server.url}/assets/{asset.pk}/")
    expect(watcher.get_by_text("The upload has not finished")).to_be_visible()
    held[0].continue_()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.get_by_text("Uploaded · 100 %")).to_be_visible()
    _shot(page, "upload-6-resumed")
    assert puts == [parts]
    assert len(puts) < len(first_puts)
    assert Asset.objects.filter(organization=owner.organization).count() == 1  # the same upload, not a new one

    # The joined file is the chosen file, byte for byte (the worker's SHA-256 of the stored original). Waiting for
    # the previews too leaves the worker idle before the database is flushed for the next test.
    asset = wait_for(
        lambda: (found := Asset.objects.filter(pk=asset.pk).first()) and found.is_final and found,
        timeout=90,
        message="the worker to verify the resumed upload and make its previews",
    )
    assert asset.status == "ready", asset.rejection_reason
    assert asset.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    # The tab that was left open swaps in the player by itself.
    expect(watcher.locator("video.player")).to_have_attribute(
        "poster", f"/assets/{asset.pk}/renditions/poster/", timeout=10_000
    )
    _shot(watcher, "upload-7-asset-page-updated")


def test_an_upload_that_fails_verification_says_why_on_the_upload_page(
    uploader_page, owner, tmp_path, live_server, celery_worker_process
):
    page = uploader_page
    fake = tmp_path / "B002_C001.mov"
    fake.write_text("INT. EDIT SUITE - NIGHT\nThis is a script, not a video.\n" * 50)

    page.evaluate("window.__stillTheSamePage = true")
    page.set_input_files("#files", str(fake))
    row = page.locator(".upload-row")
    expect(row.locator(".upload-row__status")).to_have_attribute("data-asset-status", "rejected", timeout=90_000)
    expect(row.get_by_role("alert")).to_contain_text(
        "Rejected: B002_C001.mov is named like a video, but its content is something else"
    )
    expect(row.get_by_role("link", name="Run a tool on it")).to_have_count(0)
    assert page.evaluate("window.__stillTheSamePage === true"), "the page was reloaded"
    _shot(page, "upload-8-rejected")


def test_a_file_chosen_while_the_uploader_script_is_still_loading_is_uploaded_all_the_same(
    browser, live_server, owner, tmp_path, celery_worker_process
):
    """Regression (CI, a click straight after the page's heading appeared): the file's change event fired before the
    deferred uploader.js had attached its listener, and nothing happened: no row, no upload, no message."""
    still = tmp_path / "S001 slate.png"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x36", "-frames:v", "1", str(still))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    sign_in(context, live_server, owner.user)
    page = context.new_page()
    held = []  # the uploader script, held back until the file has been chosen
    page.route("**/js/uploader.js", lambda route: held.append(route))

    page.goto(live_server.url + "/assets/upload/", wait_until="commit")
    page.wait_for_selector("#files", state="attached")
    page.set_input_files("#files", str(still))
    while not held:
        page.wait_for_timeout(50)
    assert page.locator(".upload-row").count() == 0  # nothing could have started yet
    held[0].continue_()

    row = page.locator(".upload-row")
    expect(row).to_have_count(1)
    expect(page.locator("form[data-uploader]")).to_have_attribute("data-uploader-ready", "")
    expect(row.locator(".upload-row__status")).to_have_attribute("data-asset-status", "ready", timeout=90_000)
    assert Asset.objects.get(organization=owner.organization).original_filename == "S001 slate.png"
    context.close()
