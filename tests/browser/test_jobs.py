"""In Chromium: a studio owner runs Dailies on a demo video from the tool catalogue, a real Celery worker runs it, and
the job page follows the run live (htmx, no reload) until the outputs appear in place. Screenshots go to
tests/browser/artifacts/."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from assets import keys
from assets.provenance import verify
from assets.services import asset_create_from_file
from assets.storage import get_store
from beta import tools as catalogue
from beta.models import Job
from tests.assets.conftest import H264_AAC, lavfi_sine, lavfi_video, run_ffmpeg
from tests.browser.conftest import ARTIFACTS
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)

#: Long enough that the run outlasts a few of the page's 2 s polls: a 4 s clip is done in under 3 s, before the
#: first poll, so the bar would jump from 0 to done. 60 s takes about 8 s to encode here.
CLIP_SECONDS = 60
DEMO_NAME = "A001_C007 demo.mp4"
#: Runs in the page on every check: keeps each distinct (percentage, status) the live block shows, with its time, in
#: sessionStorage (which outlives a reload, unlike `window.__marker`).
RECORD_PROGRESS = """
() => {
  if (window.__marker !== 1) return "reloaded";
  const bar = document.querySelector("#job-live [role=progressbar]");
  const status = document.querySelector("#job-live .pill");
  if (!bar || !status) return false;
  const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
  const value = +bar.getAttribute("aria-valuenow");
  const last = seen[seen.length - 1];
  if (!last || last.value !== value || last.status !== status.textContent.trim()) {
    const text = document.querySelector("#job-live .progress__text span").textContent.trim();
    seen.push({value, text, status: status.textContent.trim(), at: Math.round(performance.now())});
    sessionStorage.setItem("progress", JSON.stringify(seen));
  }
  return new Set(seen.map((s) => s.value)).size >= 3 ? "moved" : false;
}
"""


@pytest.fixture(scope="module")
def demo_clip(tmp_path_factory) -> Path:
    """A 640x360 H.264/AAC test pattern with a tone (see CLIP_SECONDS), as a partner's demo video."""
    path = tmp_path_factory.mktemp("jobs") / DEMO_NAME
    run_ffmpeg(*lavfi_video("640x360", CLIP_SECONDS), *lavfi_sine(CLIP_SECONDS), *H264_AAC, str(path))
    return path


@pytest.fixture
def owner_and_video(demo_clip):
    """A partner studio's owner and a ready demo video (stored with its previews, as after a verified upload)."""
    owner = OwnerFactory()
    video = asset_create_from_file(
        organization=owner.organization,
        created_by=owner.user,
        path=demo_clip,
        kind="video",
        filename=DEMO_NAME,
        content_type="video/mp4",
    )
    assert (video.status, video.previews) == ("ready", "ready")
    video.origin = "upload"  # the service stores tool outputs; this clip stands for the partner's own upload
    video.save(update_fields=["origin"])
    return owner, video


@pytest.fixture
def signed_in_page(browser, live_server, owner_and_video):
    """A browser page signed in as the owner (a force_login session cookie copied into the browser)."""
    owner, _ = owner_and_video
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
    yield page
    context.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_partner_runs_dailies_and_follows_it_live_to_its_outputs(
    signed_in_page, owner_and_video, live_server, celery_worker_process, tmp_path
):
    page = signed_in_page
    owner, video = owner_and_video
    dailies = catalogue.get_tool("dailies")

    # Given: the catalogue, from which the partner picks Dailies.
    page.goto(live_server.url + reverse("beta:catalogue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tools")
    page.get_by_role("link", name=f"Run {dailies.name}").click()
    expect(page).to_have_url(live_server.url + reverse("beta:submit", args=[dailies.slug]))

    # When: they choose the demo video and a 360-line review copy, and run it.
    page.get_by_label(DEMO_NAME).check()
    page.get_by_label("Height (lines)").select_option("360")
    _shot(page, "jobs-1-run-form")
    page.get_by_role("button", name=f"Run {dailies.name}").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = Job.objects.get(organization=owner.organization)
    assert page.url == live_server.url + reverse("beta:job-detail", args=[job.pk])
    expect(page.get_by_text(f"is queued as job {job.pk}")).to_be_visible()
    page.evaluate("window.__marker = 1")  # gone if the page navigates or reloads
    _shot(page, "jobs-2-submitted")

    # Then: the live block's bar moves on its own (htmx swaps it every 2 s), with no navigation.
    state = page.wait_for_function(RECORD_PROGRESS, polling=50, timeout=45_000).json_value()
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('progress') || '[]')")
    assert state == "moved", f"the page reloaded before the bar had moved twice: {seen}"
    assert page.evaluate("window.__marker") == 1
    values = [s["value"] for s in seen]
    assert values == sorted(values), f"the bar went backwards: {seen}"
    assert any(s["status"] == "Running" and 0 < s["value"] < 100 for s in seen), seen
    _shot(page, "jobs-3-in-progress")

    # The job finishes; the page reloads itself once (HX-Refresh) and shows the outputs in place.
    player = page.locator("video.player")
    expect(player).to_be_visible(timeout=45_000)
    assert page.evaluate("window.__marker") is None, "the finished job's page was reloaded to show the outputs"
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("#job-live [role=progressbar]")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#job-live")).not_to_have_attribute("hx-get", re.compile(".*"))  # polling stopped
    expect(page.get_by_role("img", name="Poster frame")).to_be_visible()
    expect(page.get_by_role("img", name="Contact sheet")).to_be_visible()
    page.wait_for_function("() => document.querySelector('video.player').readyState >= 1")  # the proxy plays
    _shot(page, "jobs-4-finished")

    # The review copy opens: the player's source is an MP4 the partner may fetch, and its download is the stored file.
    source = player.get_attribute("src")
    response = page.request.get(live_server.url + source)
    assert response.status == 200, source
    assert response.headers["content-type"] == "video/mp4"
    assert response.body()[4:8] == b"ftyp"
    download = page.get_by_role("link", name=re.compile(r"^Download .*_dailies\.mp4$")).get_attribute("href")
    original = page.request.get(live_server.url + download)
    assert original.status == 200, download
    assert original.headers["content-type"] == "video/mp4"
    proxy = next(o.asset for o in job.job_outputs.select_related("asset") if o.role == "proxy")
    assert hashlib.sha256(original.body()).hexdigest() == proxy.sha256
    page.goto(live_server.url + source)
    _shot(page, "jobs-5-output-opened")

    # And in the database: a succeeded job with three outputs, each stored with its provenance.
    job.refresh_from_db()
    assert job.status == "succeeded", job.error or job.log
    assert (job.progress, job.attempts) == (100, 1)
    assert job.parameters["height"] == 360
    assert list(job.job_inputs.values_list("asset_id", flat=True)) == [video.pk]
    outputs = list(job.job_outputs.select_related("asset").order_by("role"))
    assert [o.role for o in outputs] == ["contact_sheet", "poster", "proxy"]
    store = get_store()
    for output in outputs:
        asset = output.asset
        assert (asset.organization, asset.origin, asset.status) == (owner.organization, "output", "ready")
        assert output.provenance_embedded, output.role
        local = tmp_path / asset.original_filename
        with store.open(asset.storage_key) as fh:
            local.write_bytes(fh.read())
        with store.open(keys.provenance_key(asset)) as fh:
            (tmp_path / f"{local.name}.provenance.json").write_bytes(fh.read())
        result = verify(local)
        assert result.valid, (output.role, result.errors)
        assert result.embedded, output.role
    assert (proxy.kind, proxy.height) == ("video", 360)
