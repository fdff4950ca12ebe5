"""In Chromium, under the portal's Content-Security-Policy: the upload page uploads, the job page follows a run live
through htmx, and the feedback form saves its draft, with no CSP violation reported by the browser."""

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from beta.feedback import services as feedback_services
from beta.models import Job, JobInput
from tests.browser.conftest import ARTIFACTS
from tests.factories import AssetFactory, OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)

#: Records every violation the page reports (console messages can be missed for reports on the document itself).
LISTEN = """document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(`${e.violatedDirective} ${e.blockedURI}`);
});"""


@pytest.fixture
def owner():
    return OwnerFactory()


@pytest.fixture
def page_of(browser, live_server, owner):
    """A signed-in page, and the violations it saw (console and events) across its navigations."""
    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    context.add_init_script(LISTEN)
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    yield page, console
    context.close()


def _violations(page, console) -> list[str]:
    return console + (page.evaluate("() => window.__csp || []") or [])


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"csp-{name}.png"), full_page=True)


def test_the_upload_page_uploads_under_the_policy(page_of, live_server, tmp_path):
    page, console = page_of
    response = page.goto(live_server.url + reverse("assets:upload"))
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    notes = tmp_path / "call sheet.txt"
    notes.write_text("INT. WAREHOUSE - NIGHT\n" * 200)
    page.set_input_files("#files", str(notes))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    _shot(page, "upload")
    assert _violations(page, console) == []


def test_the_job_page_follows_a_run_live_under_the_policy(page_of, live_server, owner):
    page, console = page_of
    job = Job.objects.create(organization=owner.organization, submitted_by=owner.user, tool_slug="dailies",
                             tool_version="1.0.0", status=Job.Status.RUNNING, progress=20, stage="Encoding")
    page.goto(live_server.url + reverse("beta:job-detail", args=[job.pk]))
    bar = page.locator("#job-live [role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "20")
    Job.objects.filter(pk=job.pk).update(progress=65)  # the worker's next report
    expect(bar).to_have_attribute("aria-valuenow", "65", timeout=15_000)  # swapped in by htmx's poll
    width = page.evaluate("() => document.querySelector('#job-live .progress__fill').getBoundingClientRect().width")
    track = page.evaluate("() => document.querySelector('#job-live .progress__bar').getBoundingClientRect().width")
    assert 0.5 < width / track < 0.8  # the bar's inline width (style-src-attr) still applies
    _shot(page, "job-live")
    assert _violations(page, console) == []


def test_the_feedback_form_saves_its_draft_under_the_policy(page_of, live_server, owner):
    page, console = page_of
    job = Job.objects.create(organization=owner.organization, submitted_by=owner.user, tool_slug="dailies",
                             tool_version="1.0.0", status=Job.Status.SUCCEEDED, progress=100)
    source = AssetFactory(organization=owner.organization)
    JobInput.objects.create(job=job, asset=source, position=0, sha256=source.sha256)
    report = feedback_services.feedback_start(user=owner.user, job=job)
    page.goto(live_server.url + reverse("beta:feedback-edit", args=[report.pk]))
    page.get_by_label("What worked, what didn't").fill("Clean proxies; the slate is covered.")
    expect(page.locator("#draft-status")).to_contain_text(re.compile(r"Draft saved"), timeout=10_000)
    _shot(page, "feedback")
    assert _violations(page, console) == []
