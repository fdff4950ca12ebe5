"""In Chromium: a partner files feedback on a finished run, with a draft that survives a reload and a note at a timecode
of the video output; a reviewer finds it in the inbox, triages it in bulk and replies; the partner sees the reply and
the new status, and gets the reply by email. Screenshots go to tests/browser/artifacts/feedback-*.png."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assets.services import asset_create_from_file
from beta.models import FeedbackAttachment, FeedbackNote, FeedbackReport, Job, JobInput, JobOutput
from tests.assets.conftest import H264_AAC, lavfi_sine, lavfi_video, run_ffmpeg
from tests.browser.conftest import ARTIFACTS
from tests.factories import AssetFactory, OwnerFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)
CLIP_SECONDS = 4
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2a6a4b50000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Both people sign in by session cookie, so a fast password hasher costs nothing and saves seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def review_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("feedback") / "A001_C007_dailies.mp4"
    run_ffmpeg(*lavfi_video("640x360", CLIP_SECONDS), *lavfi_sine(CLIP_SECONDS), *H264_AAC, str(path))
    return path


@pytest.fixture
def finished_run(review_clip):
    """A studio owner and a succeeded Dailies run whose output is a real, playable video (with its previews)."""
    owner = OwnerFactory(organization__name="Northlight Pictures", user__full_name="Nora Owner")
    studio = owner.organization
    source = AssetFactory(organization=studio, original_filename="A001_C007.mov", sha256="ab" * 32)
    job = Job.objects.create(organization=studio, submitted_by=owner.user, tool_slug="dailies", tool_version="1.0.0",
                             status=Job.Status.SUCCEEDED, progress=100, parameters={"height": 360},
                             started_at=timezone.now(), finished_at=timezone.now())
    JobInput.objects.create(job=job, asset=source, position=0, sha256=source.sha256)
    video = asset_create_from_file(organization=studio, created_by=None, path=review_clip, kind="video",
                                   filename=review_clip.name, content_type="video/mp4")
    JobOutput.objects.create(job=job, asset=video, role="proxy", label="Review copy")
    return owner, job


def signed_in(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    return context, context.new_page()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"feedback-{name}.png"), full_page=True)


def test_partner_files_feedback_with_a_timecoded_note_and_staff_triage_and_reply(
    browser, live_server, finished_run, mailoutbox
):
    owner, job = finished_run
    reviewer = StaffFactory(full_name="Rita Reviewer")
    partner_context, partner = signed_in(browser, live_server, owner.user)

    # The partner opens the finished run and starts feedback.
    partner.goto(live_server.url + reverse("beta:job-detail", args=[job.pk]))
    partner.get_by_role("button", name="Give feedback").click()
    expect(partner.get_by_role("heading", level=1)).to_contain_text("Your feedback")
    report = FeedbackReport.objects.get()
    assert (report.tool_slug, report.input_sha256) == ("dailies", ["ab" * 32])

    # Answers are saved as a draft while they type, and are still there after a reload.
    partner.get_by_role("group", name="Overall, how was this run?").get_by_label("4 Very good").check()
    partner.get_by_role("group", name="Quality of the output").get_by_label("3 Good").check()
    partner.get_by_label("Hours saved").fill("1.5")
    partner.get_by_label("Artefacts").check()
    partner.get_by_label("What worked, what didn't").fill("Burn-in is crisp; slight banding in the sky.")
    expect(partner.locator("#draft-status")).to_contain_text(re.compile(r"Draft saved \d\d:\d\d"), timeout=10_000)
    partner.reload()
    expect(partner.get_by_role("group", name="Overall, how was this run?").get_by_label("4 Very good")).to_be_checked()
    expect(partner.get_by_label("Hours saved")).to_have_value("1.50")
    expect(partner.get_by_label("Artefacts")).to_be_checked()
    expect(partner.get_by_label("What worked, what didn't")).to_have_value(
        "Burn-in is crisp; slight banding in the sky.")

    # A note at a timecode: play to a moment, type (the player pauses), add; the note keeps that time.
    player = partner.locator("video.player")
    partner.wait_for_function("() => document.querySelector('video.player').readyState >= 1")
    player.evaluate("v => { v.muted = true; return v.play(); }")
    partner.wait_for_function("() => document.querySelector('video.player').currentTime > 1.2")
    partner.get_by_label("Note at this moment").fill("Banding starts here, top left.")
    assert player.evaluate("v => v.paused"), "typing a note pauses the player"
    at = player.evaluate("v => v.currentTime")
    expect(partner.get_by_label("At (seconds)")).to_have_value(f"{at:.3f}")
    partner.get_by_role("button", name="Add note").click()
    expect(partner.locator("#notes .note")).to_have_count(1)
    expect(partner.locator("#notes")).to_contain_text("Banding starts here, top left.")
    expect(partner.get_by_label("Note at this moment")).to_have_value("")
    note = FeedbackNote.objects.get()
    assert note.seconds == pytest.approx(at, abs=0.04)  # the start of the frame on screen (25 fps)
    assert note.frame == int(note.seconds * 25 + 1e-6)
    assert note.output.job_id == job.pk

    # Clicking the note's time seeks the player back to it.
    player.evaluate("v => { v.currentTime = 0; }")
    partner.wait_for_function("() => document.querySelector('video.player').currentTime < 0.1")
    partner.locator("#notes .note__time").click()
    partner.wait_for_function(f"() => Math.abs(document.querySelector('video.player').currentTime - {at}) < 0.05")

    # A still attached through the assets upload (uploader.js, local chunk endpoint), then listed on the report.
    partner.get_by_label("Attach files").set_input_files(
        {"name": "banding_frame.png", "mimeType": "image/png", "buffer": PNG_1X1}
    )
    expect(partner.locator("#attachments")).to_contain_text("banding_frame.png", timeout=15_000)
    attachment = FeedbackAttachment.objects.select_related("asset").get()
    assert (attachment.report_id, attachment.asset.organization_id) == (report.pk, owner.organization_id)
    shot(partner, "1-partner-form")

    # Submitting checks every answer: the missing ones are named next to their fields.
    partner.get_by_role("button", name="Submit feedback").click()
    expect(partner.get_by_text("Rate how useful it was, from 1 to 5.")).to_be_visible()
    expect(partner.get_by_text("Say whether it is fit for production.")).to_be_visible()
    partner.get_by_role("group", name="Usefulness for your work").get_by_label("5 Excellent").check()
    partner.get_by_role("group", name="Fit for production").get_by_label("With changes").check()
    partner.get_by_role("button", name="Submit feedback").click()
    expect(partner.get_by_text("Thank you: your feedback is with the AI Studio.")).to_be_visible()
    expect(partner.locator("#feedback-status")).to_have_text("New")
    shot(partner, "2-partner-submitted")

    # The reviewer finds it in the inbox (search and the notes filter), and triages it in bulk.
    staff_context, staff = signed_in(browser, live_server, reviewer)
    staff.goto(live_server.url + reverse("beta:feedback-inbox"))
    staff.get_by_label("Search the text").fill("banding")
    staff.get_by_label("Timecoded notes").select_option("yes")
    staff.get_by_role("button", name="Filter").click()
    row = staff.locator("tbody tr", has_text="Northlight Pictures")
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    staff.get_by_label("Assign to").select_option(label="Rita Reviewer")
    staff.get_by_role("button", name="Assign", exact=True).click()
    expect(staff.get_by_text("Updated 1 report.")).to_be_visible()
    staff.locator("tbody tr", has_text="Northlight Pictures").get_by_role("checkbox").check()
    staff.get_by_label("New status").select_option("triaged")
    staff.get_by_role("button", name="Set status").click()
    expect(staff.locator("tbody tr", has_text="Northlight Pictures").locator(".pill--triaged")).to_have_text("Triaged")
    expect(staff.get_by_label("Search the text")).to_have_value("banding")  # the filters were kept
    shot(staff, "3-staff-inbox")

    # On the report: the note, an internal comment, and a reply to the studio.
    staff.locator("tbody tr", has_text="Northlight Pictures").get_by_role("link").first.click()
    expect(staff.locator("#notes")).to_contain_text("Banding starts here, top left.")
    staff.get_by_label("Your comment").fill("Internal: same banding as ticket 41.")
    staff.get_by_role("button", name="Add internal comment").click()
    expect(staff.get_by_text("Internal comment added (staff only).")).to_be_visible()
    staff.get_by_label("Your reply").fill("Thanks Nora: version 1.1 dithers the sky.")
    staff.get_by_role("button", name="Send reply to the studio").click()
    expect(staff.get_by_text("Reply sent")).to_be_visible()
    shot(staff, "4-staff-report")

    # The partner sees the reply and the status, never the internal comment, and got the reply by email.
    partner.reload()
    expect(partner.locator("#feedback-status")).to_have_text("Triaged")
    expect(partner.get_by_text("Thanks Nora: version 1.1 dithers the sky.")).to_be_visible()
    assert "ticket 41" not in partner.content()
    shot(partner, "5-partner-sees-reply")
    [email] = mailoutbox
    assert email.to == [owner.user.email]
    assert "version 1.1 dithers the sky" in email.body

    # At phone width the pages still read (no sideways scrolling).
    partner.set_viewport_size({"width": 360, "height": 800})
    partner.reload()
    assert partner.evaluate("document.documentElement.scrollWidth") <= 362
    shot(partner, "6-partner-360px")
    partner.goto(live_server.url + reverse("beta:feedback-edit", args=[report.pk]))
    assert partner.evaluate("document.documentElement.scrollWidth") <= 362
    shot(partner, "7-partner-form-360px")
    staff.set_viewport_size({"width": 360, "height": 800})
    staff.goto(live_server.url + reverse("beta:feedback-inbox"))
    assert staff.evaluate("document.documentElement.scrollWidth") <= 362
    shot(staff, "8-staff-inbox-360px")
    staff_context.close()
    partner_context.close()
