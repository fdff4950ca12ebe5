"""In Chromium: a new studio's owner is led from the agreement to the first feedback by the home's getting-started
checklist, which ticks each step as it is done: accept the agreement, invite the team, upload a clip (a real Celery
worker verifies it), run a tool on it (the home's recent jobs follow the run live), give feedback. The primary action
moves from "Upload footage" to "Run a tool"; once every step is done the checklist folds away. Screenshots go to
tests/browser/artifacts/home-*.png."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from assets.models import Asset
from beta.models import FeedbackReport, Job
from portal.models import AgreementAcceptance, Invite
from tests.assets.conftest import H264_AAC, lavfi_sine, lavfi_video, run_ffmpeg
from tests.browser.conftest import ARTIFACTS
from tests.factories import AgreementVersionFactory, OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)
STEPS = ["agreement", "team", "upload", "run", "feedback"]
STEP_STATES = "els => els.map(e => e.dataset.step + '=' + e.dataset.done)"


@pytest.fixture(scope="module")
def first_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("home") / "A001_C001 first day.mp4"
    run_ffmpeg(*lavfi_video("320x180", 2), *lavfi_sine(2), *H264_AAC, str(path))
    return path


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"home-{name}.png"), full_page=True)


def _done(*done: str) -> list[str]:
    return [f"{step}={'true' if step in done else 'false'}" for step in STEPS]


def _home(page, live_server):
    page.goto(live_server.url + "/dashboard/")
    expect(page.locator("#getting-started")).to_be_visible()
    return page


def test_a_new_studios_checklist_ticks_as_each_step_is_done(
    browser, live_server, first_clip, mailoutbox, celery_worker_process
):
    agreement = AgreementVersionFactory()
    owner = OwnerFactory(organization__name="Harbour Lights Films", user__full_name="Hana Owner")
    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    page = context.new_page()
    steps = page.locator("[data-step]")

    # 1. The first visit asks for the agreement; accepting it lands on the home with that step ticked.
    page.goto(live_server.url + "/dashboard/")
    expect(page).to_have_url(re.compile(r"/agreement/"))
    page.get_by_label(re.compile("I have read the")).check()
    page.get_by_role("button", name="Accept and continue").click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    assert AgreementAcceptance.objects.filter(user=owner.user, version=agreement).exists()
    expect(page.locator("#getting-started")).to_have_attribute("open", "")
    expect(page.locator(".checklist__count")).to_have_text("1 of 5 done")
    assert steps.evaluate_all(STEP_STATES) == _done("agreement")
    primary = page.locator("[data-primary-action]")
    expect(primary).to_have_text("Upload footage")
    expect(page.get_by_role("meter", name="Jobs this month")).to_have_attribute("aria-valuenow", "0")
    _shot(page, "1-new-studio")

    # 2. Inviting a teammate from the step's link.
    page.locator('[data-step="team"]').get_by_role("link", name="Invite people").click()
    page.get_by_label("Email").fill("editor@harbourlights.test")
    page.get_by_role("button", name="Send invite").click()
    expect(page.get_by_text("Invite sent to editor@harbourlights.test")).to_be_visible()
    assert Invite.objects.filter(organization=owner.organization).count() == 1
    _home(page, live_server)
    assert steps.evaluate_all(STEP_STATES) == _done("agreement", "team")

    # 3. The primary action opens the upload page; the clip is verified by the worker and shows as ready there.
    primary.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload files")
    page.set_input_files("#files", str(first_clip))
    row = page.locator(".upload-row")
    expect(row.locator(".upload-row__status")).to_have_attribute("data-asset-status", "ready", timeout=90_000)
    clip = Asset.objects.get(organization=owner.organization, origin="upload")
    _home(page, live_server)
    assert steps.evaluate_all(STEP_STATES) == _done("agreement", "team", "upload")
    expect(primary).to_have_text("Run a tool")
    _shot(page, "2-uploaded")

    # 4. Running a tool on it; the home's recent jobs follow the run to "Succeeded" without a reload.
    page.goto(f"{live_server.url}/tools/noop/")
    page.get_by_label(re.compile(re.escape(clip.original_filename))).check()
    page.get_by_role("button", name=re.compile("^Run ")).click()
    job = Job.objects.get(organization=owner.organization)
    _home(page, live_server)
    page.evaluate("window.__stillTheSamePage = true")
    expect(page.locator(f'[data-job-status="{job.pk}"]')).to_have_text("Succeeded", timeout=60_000)
    assert page.evaluate("window.__stillTheSamePage === true"), "the home was reloaded"
    expect(page.locator('[data-quota="jobs"] .quota__text')).to_have_text("1 of 500")
    page.reload()
    assert steps.evaluate_all(STEP_STATES) == _done("agreement", "team", "upload", "run")
    _shot(page, "3-ran-a-tool")

    # 5. Feedback on the finished run, from its page: every step is done and the checklist folds away.
    page.locator(".recent-jobs").get_by_role("link", name=re.compile("no-op")).click()
    page.get_by_role("button", name="Give feedback").click()
    page.get_by_role("group", name="Overall, how was this run?").get_by_label("4 Very good").check()
    page.get_by_role("group", name="Quality of the output").get_by_label("3 Good").check()
    page.get_by_role("group", name="Usefulness for your work").get_by_label("5 Excellent").check()
    page.get_by_role("group", name="Fit for production").get_by_label("With changes").check()
    page.get_by_label("Hours saved").fill("0.5")
    page.get_by_label("What worked, what didn't").fill("Fast, and the checksum matched.")
    page.get_by_role("button", name="Submit feedback").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feedback on Diagnostics: no-op")
    assert FeedbackReport.objects.filter(organization=owner.organization).submitted().count() == 1
    _home(page, live_server)
    assert steps.evaluate_all(STEP_STATES) == _done(*STEPS)
    expect(page.locator(".checklist__count")).to_have_text("All 5 steps done")
    expect(page.locator("#getting-started")).not_to_have_attribute("open", "")
    expect(page.locator('[data-step="feedback"]')).to_be_hidden()  # folded away, one click to see again
    _shot(page, "4-all-done")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "5-all-done-phone")
    context.close()
