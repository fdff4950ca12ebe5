"""Times in each person's own time zone (User.time_zone, activated by portal.timezones.UserTimeZoneMiddleware),
with UTC on hover."""

import datetime as dt

import pytest
from django.urls import reverse

from beta.models import FeedbackComment, Job
from tests.factories import AdminFactory, FeedbackReportFactory, JobFactory, OwnerFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 5, 4, 20, 0, tzinfo=dt.UTC)  # 13:00 PDT in Los Angeles


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_person_in_los_angeles_sees_local_times_on_job_and_feedback_pages(client):
    owner = OwnerFactory(user__time_zone="America/Los_Angeles")
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="succeeded")
    Job.objects.filter(pk=job.pk).update(queued_at=WHEN, started_at=WHEN, finished_at=WHEN)
    report = FeedbackReportFactory(organization=owner.organization, job=job, author=owner.user)
    FeedbackComment.objects.create(report=report, author=AdminFactory(), kind="reply", body="Thanks")
    FeedbackComment.objects.filter(report=report).update(created_at=WHEN)
    client.force_login(owner.user)
    job_page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "4 May 2026, 13:00 PDT" in job_page
    assert 'title="2026-05-04 20:00:00 UTC"' in job_page
    feedback_page = client.get(reverse("beta:feedback-detail", args=[report.pk])).content.decode()
    assert "4 May, 13:00 PDT" in feedback_page
    assert 'title="2026-05-04 20:00:00 UTC"' in feedback_page


def test_no_time_zone_means_utc(client):
    owner = OwnerFactory()
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="succeeded")
    Job.objects.filter(pk=job.pk).update(queued_at=WHEN)
    client.force_login(owner.user)
    assert "4 May 2026, 20:00 UTC" in client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()


def test_the_audit_page_shows_local_times_with_utc_on_hover(client):
    from zoneinfo import ZoneInfo

    from portal.services.audit import audit_record

    admin = AdminFactory(time_zone="America/Los_Angeles")
    event = audit_record(action="test.time_zone", actor=admin)
    client.force_login(admin)
    page = client.get(reverse("portal:staff-audit")).content.decode()
    local = event.at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert f"{local:%Y-%m-%d %H:%M:%S} {local:%Z}" in page
    assert f'title="{event.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"' in page


def test_the_browser_zone_is_stored_once_and_only_if_valid(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    assert "js/timezone.js" in client.get(reverse("beta:job-list")).content.decode()
    url = reverse("portal:time-zone-detect")
    assert client.post(url, {"time_zone": "Not/AZone"}).status_code == 400
    assert client.post(url, {"time_zone": "America/Los_Angeles"}).status_code == 204
    assert client.post(url, {"time_zone": "Europe/Paris"}).status_code == 204  # a later detection changes nothing
    owner.user.refresh_from_db()
    assert owner.user.time_zone == "America/Los_Angeles"
    assert "js/timezone.js" not in client.get(reverse("beta:job-list")).content.decode()


def test_a_person_changes_their_time_zone_in_their_settings(client):
    owner = OwnerFactory(user__time_zone="America/Los_Angeles")
    client.force_login(owner.user)
    url = reverse("portal:time-zone-settings")
    assert '<option value="America/Los_Angeles" selected>' in client.get(url).content.decode()
    assert client.post(url, {"time_zone": "Nowhere/Else"}).status_code == 400
    assert client.post(url, {"time_zone": "Europe/Paris"}).status_code == 302
    owner.user.refresh_from_db()
    assert owner.user.time_zone == "Europe/Paris"
