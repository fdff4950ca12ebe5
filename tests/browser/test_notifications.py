"""In Chromium: a partner's job finishes while they look at their jobs, and the header bell's count rises without a
reload (htmx polling); the bell leads to the notification, and opening it lands on the job and marks it read.
Screenshots go to tests/browser/artifacts/notifications-*.png."""

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from beta.jobs.execute import finish
from beta.models import Job
from portal.models import Notification
from tests.browser.conftest import ARTIFACTS
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_bell(settings):
    """The bell polls every second here (30 s by default), so the test waits on the page, not the clock."""
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"notifications-{name}.png"), full_page=True)


def test_a_job_finishing_raises_the_bell_without_a_reload(browser, live_server):
    owner = OwnerFactory(organization__name="Northlight Pictures", user__full_name="Nora Owner")
    job = Job.objects.create(organization=owner.organization, submitted_by=owner.user, tool_slug="noop",
                             tool_version="1.0.0", status=Job.Status.RUNNING, started_at=timezone.now())
    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    page = context.new_page()

    # Given: the partner on their jobs page, nothing unread.
    page.goto(live_server.url + reverse("beta:job-list"))
    page.evaluate("window.__marker = 1")
    bell = page.locator("header a.bell")
    expect(bell).to_have_accessible_name("Notifications, none unread")
    expect(page.locator("#bell-count")).to_have_attribute("aria-live", "polite")

    # When: the worker finishes the job (through the same service a worker calls).
    with transaction.atomic():
        finish(Job.objects.select_for_update().get(pk=job.pk), Job.Status.SUCCEEDED)

    # Then: the bell says so, on the same page (no reload), and the count is visible.
    expect(bell).to_have_accessible_name("1 unread notification", timeout=15_000)
    expect(page.locator(".bell__badge")).to_have_text("1")
    assert page.evaluate("window.__marker") == 1
    shot(page, "1-bell-raised")

    # The bell leads to the list; opening the item lands on the job and marks it read.
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.get_by_role("link", name=f"job {job.pk} finished")
    expect(item).to_be_visible()
    shot(page, "2-list")
    item.click()
    expect(page).to_have_url(live_server.url + reverse("beta:job-detail", args=[job.pk]))
    assert Notification.objects.get(recipient=owner.user).read_at is not None
    expect(bell).to_have_accessible_name("Notifications, none unread", timeout=15_000)

    # The person's settings page has the per-kind choices as a second form.
    page.goto(live_server.url + reverse("portal:time-zone-settings"))
    page.get_by_label("A job I ran finished or failed").select_option("digest")
    page.get_by_role("button", name="Save notification settings").click()
    expect(page.get_by_label("A job I ran finished or failed")).to_have_value("digest")
    shot(page, "3-settings")
    context.close()


def test_the_daily_digest_lists_the_days_events_once_and_its_links_open_them(browser, live_server, settings):
    """Two jobs finish for a partner who chose the daily digest: no email at once; the beat task's one email lists
    each job once (a second run the same day sends nothing), and each of its links opens that job's page in the
    browser."""
    from django.core import mail

    from portal.services.notifications import preferences_set
    from portal.tasks import notifications_send_digest

    settings.SITE_URL = live_server.url
    owner = OwnerFactory(organization__name="Northlight Pictures", user__full_name="Nora Owner")
    preferences_set(user=owner.user, choices={"job.finished": "digest"})
    jobs = [Job.objects.create(organization=owner.organization, submitted_by=owner.user, tool_slug="noop",
                               tool_version="1.0.0", status=Job.Status.RUNNING, started_at=timezone.now())
            for _ in range(2)]  # fmt: skip
    for job in jobs:
        with transaction.atomic():
            finish(Job.objects.select_for_update().get(pk=job.pk), Job.Status.SUCCEEDED)
    assert mail.outbox == []  # the digest, not an email at once

    assert notifications_send_digest() == 1
    assert notifications_send_digest() == 0  # at most one a day
    [digest] = mail.outbox
    assert digest.to == [owner.user.email]
    links = [line.strip() for line in digest.body.splitlines() if line.strip().startswith(live_server.url + "/")]
    job_links = [link for link in links if "/notifications/" not in link and "/me/" not in link]
    for job in jobs:
        assert job_links.count(live_server.url + reverse("beta:job-detail", args=[job.pk])) == 1, digest.body

    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    page = context.new_page()
    for job, link in zip(jobs, job_links, strict=True):
        response = page.goto(link)
        assert response is not None
        assert response.status == 200
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"job {job.pk}")
    shot(page, "digest-link-opens-the-job")
    assert Notification.objects.filter(recipient=owner.user).count() == 2
