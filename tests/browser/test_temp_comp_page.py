"""In Chromium: a temp-comp job page (the tool run in-process on a generated green-screen plate over a generated
background, its outputs stored as the worker stores them) opens the comp against the plate in a wipe, and play drives
both sides. Screenshots: tests/browser/artifacts/temp-comp-page-desktop.png and -phone.png."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assets.services import asset_create_from_file
from beta import tools as catalogue
from beta.jobs.submit import validate_parameters
from beta.models import Job, JobInput, JobOutput
from beta.tools.base import ToolContext
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_review_compare import settled
from tests.browser.test_review_player import signed_in
from tests.factories import JobFactory, OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)
SIZE, RATE, SECONDS = "640x360", "25", 3


def green_plate(path):
    """A textured orange figure crossing a green screen, with a 01:00:00:00 timecode."""
    run_ffmpeg("-f", "lavfi", "-i", f"color=c=0x10C030:s={SIZE}:r={RATE}:d={SECONDS}",
               "-f", "lavfi", "-i", f"color=c=0xC87850:s=120x200:r={RATE}:d={SECONDS}",
               "-filter_complex", "[1:v]noise=alls=24:allf=t[fig];[0:v][fig]overlay=x='60+t*120':y=120,format=yuv420p",
               "-c:v", "libx264", "-preset", "ultrafast", "-metadata", "timecode=01:00:00:00", str(path))  # fmt: skip
    return path


def background(path):
    """A sky-to-ground gradient with some texture."""
    run_ffmpeg("-f", "lavfi", "-i", f"gradients=s={SIZE}:c0=0x5078B0:c1=0xB09060:x0=0:y0=0:x1=0:y1=360:d=1",
               "-vf", "noise=alls=8", "-frames:v", "1", str(path))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The tool's result on the generated media (made once; the database rows are made per test)."""
    folder = tmp_path_factory.mktemp("temp-comp-page")
    plate, bg = green_plate(folder / "plate.mp4"), background(folder / "background.png")
    tool = catalogue.get_tool("temp-comp")
    work = folder / "work"
    work.mkdir()
    result = tool.run([video_input(plate, "plate.mp4"), video_input(bg, "background.png", "image")], {},
                      ProgressRecorder(), ToolContext(work_dir=work, studio_name="S", settings={}))  # fmt: skip
    return plate, bg, result


def stored_job(owner, rendered):
    plate_path, bg_path, result = rendered
    studio = owner.organization
    plate = asset_create_from_file(organization=studio, created_by=owner.user, path=plate_path, kind="video",
                                   filename="A007_C012_plate.mp4", content_type="video/mp4")  # fmt: skip
    bg = asset_create_from_file(organization=studio, created_by=owner.user, path=bg_path, kind="image",
                                filename="dunes_background.png", content_type="image/png")  # fmt: skip
    tool = catalogue.get_tool("temp-comp")
    now = timezone.now()
    job = JobFactory(organization=studio, submitted_by=owner.user, tool_slug="temp-comp", tool_version=tool.version,
                     status="succeeded", error="", progress=100, stage="Done", parameters=validate_parameters(tool, {}),
                     summary=result.summary, started_at=now - timedelta(seconds=9), finished_at=now)  # fmt: skip
    Job.objects.filter(pk=job.pk).update(queued_at=now - timedelta(seconds=10))
    for position, asset in enumerate((plate, bg)):
        JobInput.objects.create(job=job, asset=asset, position=position, sha256=asset.sha256)
    for output in result.outputs:
        asset_create_from_file(
            organization=studio, created_by=owner.user, path=output.path, kind=output.kind,
            filename=output.path.name, content_type=output.content_type, web_ready=output.web_ready,
            make_previews=output.kind == "video", derived_from=plate, derived_by=f"temp-comp {tool.version}",
            link=lambda asset, output=output: JobOutput.objects.create(job=job, asset=asset, role=output.role,
                                                                       name=output.path.name, label=output.label),
        )  # fmt: skip
    return job


def test_the_temp_comp_job_page_plays_the_comp_and_the_plate_in_a_synced_wipe(browser, live_server, rendered):
    owner = OwnerFactory(organization__name="Northlight Pictures")
    job = stored_job(owner, rendered)
    context, page = signed_in(browser, live_server, owner.user)
    page.goto(f"{live_server.url}{reverse('beta:job-detail', args=[job.pk])}")
    page.wait_for_function("() => document.querySelector('[data-compare]').compare", timeout=20_000)
    settled(page)

    expect(page.get_by_role("radio", name="Wipe")).to_be_checked()
    expect(page.locator("[data-compare]")).to_have_attribute("data-mode", "wipe")
    expect(page.get_by_label("Wipe position")).to_be_visible()
    sides = page.locator("[data-compare] video")
    expect(sides).to_have_count(2)
    page.locator("[data-compare] .rp__stage").first.focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => { const s = document.querySelector('.cmp__status').dataset;"
                           " return Number(s.a) > 20 && Number(s.b) > 20; }", timeout=30_000)
    page.keyboard.press("Space")
    settled(page)
    page.wait_for_function("() => { const s = document.querySelector('.cmp__status').dataset;"
                           " return Math.abs(Number(s.a) - Number(s.b)) <= 1; }", timeout=10_000)
    times = sides.evaluate_all("videos => videos.map(v => v.currentTime)")
    assert all(t > 0.5 for t in times), times  # both sides played, not just the leader's counter
    # The matte plays in its own player; the run-again form opens from the keyboard.
    expect(page.get_by_role("heading", name="Matte")).to_be_visible()
    summary = page.locator("summary", has_text="Run again with these changes")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Key gain")).to_have_value("1.1")
    page.keyboard.press("Enter")  # closed again for the picture
    page.locator("[data-compare]").evaluate("el => el.compare.setWipe(36)")  # the line across the figure
    page.evaluate("() => window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "temp-comp-page-desktop.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("() => window.scrollTo(0, 0)")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at phone width"
    page.screenshot(path=str(ARTIFACTS / "temp-comp-page-phone.png"), full_page=True)
    context.close()


def test_the_garbage_matte_is_drawn_on_a_frame_of_the_chosen_plate(browser, live_server, rendered):
    """The run form's polygon field opens a frame of the chosen plate; three clicks make three normalised corners in
    the field (what the tool takes), Undo removes the last, and the job runs with the drawn matte."""
    owner = OwnerFactory()
    plate = asset_create_from_file(organization=owner.organization, created_by=owner.user, path=rendered[0],
                                   kind="video", filename="A007_C012_plate.mp4", content_type="video/mp4")  # fmt: skip
    bg = asset_create_from_file(organization=owner.organization, created_by=owner.user, path=rendered[1],
                                kind="image", filename="dunes_background.png", content_type="image/png")  # fmt: skip
    _, page = signed_in(browser, live_server, owner.user)
    page.goto(live_server.url + reverse("beta:submit", args=["temp-comp"]) + f"?input={plate.pk}&input={bg.pk}")
    field = page.get_by_label("Garbage matte (normalised x, y corners)")
    page.get_by_role("button", name="Draw on a frame of the chosen file").first.click()
    canvas = page.locator(".polygon-drawer__canvas").first
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    for x, y in ((0.25, 0.2), (0.75, 0.2), (0.5, 0.9), (0.1, 0.1)):
        canvas.click(position={"x": box["width"] * x, "y": box["height"] * y})
    page.get_by_role("button", name="Undo corner").first.click()
    corners = json.loads(field.input_value())
    assert len(corners) == 3
    for (x, y), (want_x, want_y) in zip(corners, ((0.25, 0.2), (0.75, 0.2), (0.5, 0.9)), strict=True):
        assert abs(x - want_x) < 0.01
        assert abs(y - want_y) < 0.01
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "temp-comp-garbage-matte-drawn.png"), full_page=True)

    page.get_by_role("button", name="Run Temp comp").click()
    page.wait_for_url("**/jobs/*/")
    job = Job.objects.get(organization=owner.organization, tool_slug="temp-comp")
    assert len(job.parameters["garbage_matte"]) == 3
