"""In Chromium: the review player is frame-accurate. The clips show their own frame number (ffmpeg drawtext
`%{frame_num}`) at 23.976 and 25 fps with a 01:00:00:00 start; what the player says is on screen is checked against its
frame display, its source timecode, and (OCR-free) a canvas snapshot of the video compared with ffmpeg's own frame N.
Screenshots go to tests/browser/artifacts/review-*.png (and /work/wt/review-artifacts/ when that folder exists)."""

import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assets.services import asset_create_from_file
from beta.feedback import services as feedback_services
from beta.models import FeedbackNote, Job, JobInput, JobOutput
from tests.assets.conftest import run_ffmpeg
from tests.browser.conftest import ARTIFACTS
from tests.factories import AssetFactory, OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)
FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
]
SECONDS = 8
SNAP = (160, 90)  # snapshots are compared at this size, in grey
EXTRA_ARTIFACTS = Path("/work/wt/review-artifacts")


def font_file() -> str:
    for font in FONTS:
        if Path(font).exists():
            return font
    pytest.skip("no font file for drawtext (install fonts-dejavu-core)")
    return ""


def make_counting_clip(path: Path, rate: str, *, colour: str = "0x203040") -> Path:
    """A clip whose every frame shows its own frame number, large, with a 01:00:00:00 timecode."""
    text = f"drawtext=fontfile={font_file()}:text='%{{frame_num}}':fontsize=120:fontcolor=white:x=(w-tw)/2:y=(h-th)/2"
    run_ffmpeg(
        "-f", "lavfi", "-i", f"color=c={colour}:s=640x360:r={rate}:d={SECONDS}",
        "-vf", f"{text},format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-g", "12",
        "-metadata", "timecode=01:00:00:00", "-threads", "2", str(path),
    )  # fmt: skip
    return path


def ffmpeg_frame(path: Path, n: int) -> np.ndarray:
    """Frame n (0 = first) of a clip, decoded by ffmpeg itself, grey at the snapshot size."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path),
               "-vf", f"select=eq(n\\,{n}),scale={SNAP[0]}:{SNAP[1]},format=gray", "-frames:v", "1",
               "-f", "rawvideo", "pipe:1"]  # fmt: skip
    raw = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(SNAP[1], SNAP[0]).astype(float)


SNAPSHOT_JS = """([w, h]) => {
  const v = document.querySelector('[data-review-player] video');
  const c = document.createElement('canvas'); c.width = w; c.height = h;
  const ctx = c.getContext('2d'); ctx.drawImage(v, 0, 0, w, h);
  const d = ctx.getImageData(0, 0, w, h).data; const out = [];
  for (let i = 0; i < d.length; i += 4) out.push(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]);
  return out;
}"""


def snapshot(page) -> np.ndarray:
    return np.array(page.evaluate(SNAPSHOT_JS, list(SNAP))).reshape(SNAP[1], SNAP[0])


def assert_shows_frame(page, clip: Path, n: int) -> None:
    """The player says frame n, and the picture it shows is ffmpeg's frame n (closer to it than to n - 1 or n + 1)."""
    page.wait_for_function(f"() => document.querySelector('[data-review-player]').dataset.presented === '{n}'"
                           " && !document.querySelector('[data-review-player] video').seeking", timeout=20_000)
    expect(page.locator(".rp__frame")).to_have_text(str(n))
    shown = snapshot(page)
    diffs = {k: float(np.abs(shown - ffmpeg_frame(clip, k)).mean()) for k in (n - 1, n, n + 1) if k >= 0}
    assert min(diffs, key=diffs.get) == n, f"the picture is not frame {n}: mean differences {diffs}"
    assert diffs[n] < 6, diffs


def signed_in(browser, live_server, user, *, width=1280, height=900):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    return context, context.new_page()


def shot(page, name: str, *, full_page: bool = True, until=None) -> None:
    """A screenshot to tests/browser/artifacts/review-<name>.png: of the page, of the screen (`full_page=False`), or of
    the page's full width from its top down to the bottom of one part of it (`until`, a locator)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"review-{name}.png"
    clip = None
    if full_page or until is not None:  # from the top: a page shot while scrolled draws the sticky header lower
        page.evaluate("() => window.scrollTo(0, 0)")
    if until is not None:
        box = until.bounding_box()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        clip = {"x": 0, "y": 0, "width": width, "height": box["y"] + box["height"] + 24}
    page.screenshot(path=str(path), full_page=full_page or clip is not None, clip=clip)
    if EXTRA_ARTIFACTS.is_dir():
        shutil.copy(path, EXTRA_ARTIFACTS / path.name)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    return {
        "25": make_counting_clip(folder / "count25.mp4", "25"),
        "23.976": make_counting_clip(folder / "count23976.mp4", "24000/1001"),
    }


def run_with_output(clip: Path):
    owner = OwnerFactory(organization__name="Northlight Pictures", user__full_name="Nora Owner")
    studio = owner.organization
    source = AssetFactory(organization=studio, original_filename="A001_C007.mov", sha256="ab" * 32)
    job = Job.objects.create(organization=studio, submitted_by=owner.user, tool_slug="dailies", tool_version="1.0.0",
                             status=Job.Status.SUCCEEDED, progress=100, parameters={"height": 360},
                             started_at=timezone.now(), finished_at=timezone.now())
    JobInput.objects.create(job=job, asset=source, position=0, sha256=source.sha256)
    video = asset_create_from_file(organization=studio, created_by=None, path=clip, kind="video",
                                   filename=clip.name, content_type="video/mp4", make_previews=False)
    output = JobOutput.objects.create(job=job, asset=video, role="proxy", label="Review copy")
    return owner, job, output


def open_player(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => { const r = document.querySelector('[data-review-player]');"
                           " return r && r.reviewPlayer && r.querySelector('video').readyState >= 2; }",
                           timeout=20_000)
    page.locator(".rp__stage").first.focus()


@pytest.mark.parametrize(("rate", "timecode_7"), [("25", "01:00:00:07"), ("23.976", "01:00:00:07")])
def test_stepping_lands_on_the_frame_counted(browser, live_server, clips, rate, timecode_7):
    owner, job, output = run_with_output(clips[rate])
    assert output.asset.timecode_start == "01:00:00:00"
    _, page = signed_in(browser, live_server, owner.user)
    open_player(page, live_server.url + reverse("beta:job-detail", args=[job.pk]))
    assert page.locator(".rp").first.get_attribute("data-rate-num") == ("25" if rate == "25" else "24000")

    for _ in range(12):
        page.keyboard.press("ArrowRight")
    assert_shows_frame(page, clips[rate], 12)
    for _ in range(5):
        page.keyboard.press("Comma")
    assert_shows_frame(page, clips[rate], 7)
    expect(page.locator(".rp__tc")).to_have_text(timecode_7)
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Period")
    assert_shows_frame(page, clips[rate], 18)
    if rate == "25":
        expect(page.locator(".rp__tc")).to_have_text("01:00:00:18")
        shot(page, "player")


def test_the_player_fits_a_phone_and_steps_there_too(browser, live_server, clips):
    """At 390 x 844 the player, its controls and its frame display fit the screen (no sideways scroll) and stepping
    works the same. The screenshot is of the screen as the phone shows it, the player at the top."""
    owner, job, _ = run_with_output(clips["25"])
    _, page = signed_in(browser, live_server, owner.user, width=390, height=844)
    open_player(page, live_server.url + reverse("beta:job-detail", args=[job.pk]))
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowRight")
    assert_shows_frame(page, clips["25"], 31)
    expect(page.locator(".rp__tc")).to_have_text("01:00:01:06")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.locator(".rp").first.evaluate("""(el) => { const header = document.querySelector('.site-header');
        window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - header.offsetHeight - 12); }""")
    for part in (".rp__stage", ".rp__frame", ".rp__tc", "[data-act=loop]"):
        box = page.locator(part).first.bounding_box()
        assert box is not None, part
        assert box["x"] >= 0, (part, box)
        assert box["x"] + box["width"] <= 390, (part, box)
    shot(page, "player-phone", full_page=False)


def test_jkl_shuttle_and_in_out_loop(browser, live_server, clips):
    owner, job, _ = run_with_output(clips["25"])
    _, page = signed_in(browser, live_server, owner.user)
    open_player(page, live_server.url + reverse("beta:job-detail", args=[job.pk]))
    root = page.locator("[data-review-player]").first

    page.keyboard.press("Shift+ArrowRight")
    assert_shows_frame(page, clips["25"], 10)
    page.keyboard.press("i")
    page.keyboard.press("Shift+ArrowRight")
    assert_shows_frame(page, clips["25"], 20)
    page.keyboard.press("o")
    expect(page.locator(".rp__inout")).to_contain_text("In 01:00:00:10 Out 01:00:00:20")
    page.keyboard.press("Backslash")
    expect(page.locator("[data-act=loop]")).to_have_attribute("aria-pressed", "true")

    # L plays forward; the loop brings it back to the in point at the out point.
    page.keyboard.press("l")
    page.wait_for_function("() => Number(document.querySelector('[data-review-player]').dataset.loops) >= 2",
                           timeout=30_000)
    page.keyboard.press("l")
    assert page.evaluate("() => document.querySelector('[data-review-player] video').playbackRate") == 2
    page.keyboard.press("k")
    expect(root).to_have_attribute("data-playing", "0")
    page.wait_for_function("() => !document.querySelector('[data-review-player] video').seeking")
    frame = int(root.get_attribute("data-frame"))
    assert 10 <= frame <= 20, frame

    # Loop off; J plays in reverse (by stepping) from frame 60 and K stops it.
    page.keyboard.press("Backslash")
    for _ in range(4):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")  # 10 + ... lands well past the loop range
    start = int(root.get_attribute("data-frame"))
    page.keyboard.press("j")
    expect(root).to_have_attribute("data-playing", "1")
    page.wait_for_function(f"() => Number(document.querySelector('[data-review-player]').dataset.frame) < {start - 5}",
                           timeout=20_000)
    page.keyboard.press("k")
    expect(root).to_have_attribute("data-playing", "0")

    # Help on "?", closed by Escape (no trap).
    page.keyboard.press("Shift+Slash")
    expect(page.locator(".rp__help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".rp__help")).to_be_hidden()


def test_a_note_marker_seeks_to_its_frame(browser, live_server, clips):
    owner, job, output = run_with_output(clips["25"])
    report = feedback_services.feedback_start(user=owner.user, job=job)
    feedback_services.feedback_note_add(user=owner.user, report=report, text="Flicker on the sign", output=output,
                                        frame=137)
    _, page = signed_in(browser, live_server, owner.user)
    open_player(page, live_server.url + reverse("beta:job-detail", args=[job.pk]))
    marker = page.locator(".rp__marker").first
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("aria-label", "Note at 01:00:05:12 by Studio: Nora Owner: Flicker on the sign")
    marker.hover()
    expect(page.locator(".rp__tip")).to_contain_text("Flicker on the sign")
    marker.click()
    assert_shows_frame(page, clips["25"], 137)


def test_a_drawn_arrow_is_saved_shown_again_and_printed_on_its_frame(browser, live_server, clips):
    import pypdfium2

    owner, job, _ = run_with_output(clips["25"])
    report = feedback_services.feedback_start(user=owner.user, job=job)
    _, page = signed_in(browser, live_server, owner.user)
    open_player(page, live_server.url + reverse("beta:feedback-edit", args=[report.pk]))
    for _ in range(5):
        page.keyboard.press("Shift+ArrowRight")
    assert_shows_frame(page, clips["25"], 50)

    # Draw an arrow on the paused frame, from (0.2, 0.3) to (0.6, 0.7) of the picture.
    page.get_by_role("button", name="Draw on frame").click()
    page.get_by_role("button", name="Arrow").click()
    box = page.locator(".rp__overlay").bounding_box()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.3 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.4 * box["width"], box["y"] + 0.5 * box["height"], steps=4)
    page.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.7 * box["height"], steps=4)
    page.mouse.up()
    page.get_by_label("Note at this moment").fill("Edge tearing along this line")
    shot(page, "drawing")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes .note")).to_have_count(1)
    note = FeedbackNote.objects.get()
    assert (note.frame, note.author_id) == (50, owner.user.pk)
    (arrow,) = note.drawing["shapes"]
    assert arrow["tool"] == "arrow"
    assert arrow["points"][0] == pytest.approx([0.2, 0.3], abs=0.01)
    assert arrow["points"][1] == pytest.approx([0.6, 0.7], abs=0.01)

    # After a reload, going to the note shows the arrow at the same place on the picture.
    page.reload()
    open_player(page, page.url)
    page.locator("#notes .note__time").first.click()
    assert_shows_frame(page, clips["25"], 50)
    red = page.evaluate("""() => { const c = document.querySelector('.rp__overlay');
        const d = c.getContext('2d').getImageData(Math.round(c.width * 0.4), Math.round(c.height * 0.5), 1, 1).data;
        return [d[0], d[1], d[2], d[3]]; }""")
    assert red[0] > 200, red
    assert red[1] < 100, red
    expect(page.locator("#notes .note__thumb")).to_be_visible()
    shot(page, "note")
    shot(page, "note-top", until=page.locator("[data-feedback-player]"))

    # The notes PDF prints frame 50 with the arrow burnt in where it was drawn.
    response = page.request.get(live_server.url + reverse("beta:review-notes-pdf", args=[report.pk]))
    assert response.status == 200
    pdf = pypdfium2.PdfDocument(response.body())
    rendered = pdf[0].render(scale=2).to_pil().convert("RGB")
    ARTIFACTS.mkdir(exist_ok=True)
    rendered.save(ARTIFACTS / "review-notes-pdf.png")
    image = np.asarray(rendered).astype(int)
    background = np.abs(image - [0x20, 0x30, 0x40]).sum(axis=2) < 15  # the clip's colour: the printed frame
    rows, cols = np.nonzero(background.sum(axis=1) > 100)[0], np.nonzero(background.sum(axis=0) > 100)[0]
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    y, x = int(top + 0.5 * (bottom - top)), int(left + 0.4 * (right - left))
    patch = image[y - 4:y + 5, x - 4:x + 5].reshape(-1, 3)
    assert any(r > 150 and r > g + 80 and r > b + 80 for r, g, b in patch), patch
    frame_region = image[top:bottom, left:right].mean(axis=2)
    grey = np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(frame_region.astype(np.uint8))
                      .resize(SNAP)).astype(float)
    diffs = {k: float(np.abs(grey - ffmpeg_frame(clips["25"], k)).mean()) for k in (40, 50, 60)}
    assert min(diffs, key=diffs.get) == 50, diffs
    csv = page.request.get(live_server.url + reverse("beta:review-notes-csv", args=[report.pk])).text()
    assert "01:00:02:00" in csv
    assert "Edge tearing along this line" in csv
