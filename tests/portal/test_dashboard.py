"""The partner home (portal:dashboard): the getting-started checklist ticks from real data, recent jobs refresh while
one is active, usage shows as bars against the studio's quotas, unread staff replies are listed until read, there is
one primary action, and another studio's data never shows. The beta and assets parts arrive through the portal's
dashboard hooks (beta/home.py, assets/selectors.py)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beta.jobs.submit import usage_month
from beta.models import FeedbackComment, JobInput, StudioUsage
from portal.models import AgreementAcceptance, AgreementVersion, Membership
from tests.factories import (
    AgreementVersionFactory,
    AssetFactory,
    FeedbackReportFactory,
    InviteFactory,
    JobFactory,
    MembershipFactory,
    OwnerFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def _steps(body: str) -> dict[str, bool]:
    return {key: done == "true" for key, done in re.findall(r'data-step="(\w+)" data-done="(true|false)"', body)}


def _primary(body: str) -> str:
    match = re.search(r'href="([^"]+)" data-primary-action>([^<]+)<', body)
    return f"{match.group(2)} -> {match.group(1)}" if match else ""


def _reply(report, body="Thanks: the banding is a known issue in 1.0; 1.1 fixes it.", **kwargs):
    return FeedbackComment.objects.create(
        report=report, author=StaffFactory(), kind=FeedbackComment.Kind.REPLY, body=body, **kwargs
    )


@pytest.fixture
def owner():
    owner = OwnerFactory()
    agreement = AgreementVersionFactory()
    AgreementAcceptance.objects.create(user=owner.user, version=agreement)
    return owner


def test_a_new_studio_sees_every_step_to_do_but_the_agreement_and_is_asked_to_upload(client, owner):
    body = _home(client, owner.user)
    assert _steps(body) == {"agreement": True, "team": False, "upload": False, "run": False, "feedback": False}
    assert "1 of 5 done" in body
    assert '<details class="card checklist" id="getting-started" open>' in body
    assert _primary(body) == f"Upload footage -> {reverse('assets:upload')}"
    assert "No jobs yet." in body
    assert "Unread replies" not in body  # nothing to read: no empty panel


def test_each_step_ticks_from_the_studios_own_data_and_the_checklist_collapses_when_done(client, owner):
    org = owner.organization
    InviteFactory(organization=org, invited_by=owner.user)
    body = _home(client, owner.user)
    assert _steps(body)["team"] is True

    AssetFactory(organization=org, status="uploading")  # not finished: not yet a clip
    AssetFactory(organization=org, status="rejected")
    AssetFactory(organization=org, origin="output")  # a tool's output is not the studio's footage
    assert _steps(_home(client, owner.user))["upload"] is False
    AssetFactory(organization=org, status="verifying")
    body = _home(client, owner.user)
    assert _steps(body)["upload"] is True
    assert _primary(body) == f"Run a tool -> {reverse('beta:catalogue')}"

    JobFactory(organization=org)
    assert _steps(_home(client, owner.user))["run"] is True

    FeedbackReportFactory(organization=org, status="draft", submitted_at=None)  # a draft is not feedback given yet
    assert _steps(_home(client, owner.user))["feedback"] is False
    FeedbackReportFactory(organization=org)
    body = _home(client, owner.user)
    assert set(_steps(body).values()) == {True}
    assert "All 5 steps done" in body
    assert '<details class="card checklist checklist--complete" id="getting-started">' in body  # collapsed


def test_a_second_member_counts_as_the_team_invited(client, owner):
    assert _steps(_home(client, owner.user))["team"] is False
    MembershipFactory(organization=owner.organization)
    assert _steps(_home(client, owner.user))["team"] is True


def test_a_viewer_gets_no_primary_action(client, owner):
    viewer = MembershipFactory(organization=owner.organization, role=Membership.Role.VIEWER)
    AgreementAcceptance.objects.create(user=viewer.user, version=AgreementVersion.objects.get())
    assert _primary(_home(client, viewer.user)) == ""


def test_recent_jobs_show_status_and_refresh_only_while_one_is_active(client, owner):
    org = owner.organization
    done = JobFactory(organization=org, status="succeeded", error="")
    body = _home(client, owner.user)
    assert f'data-job-status="{done.pk}">Succeeded<' in body
    assert "hx-get" not in body.split('id="recent-jobs"')[1].split(">")[0]

    running = JobFactory(organization=org, status="running", error="", progress=40, stage="Detecting shots",
                         started_at=timezone.now() - timedelta(seconds=40))
    body = _home(client, owner.user)
    assert f'id="recent-jobs" hx-get="{reverse("beta:job-recent")}" hx-trigger="every 3s"' in body
    assert f'data-job-status="{running.pk}">Running<' in body
    assert "40% · Detecting shots" in body

    partial = client.get(reverse("beta:job-recent")).content.decode()
    assert f'data-job-status="{running.pk}">Running<' in partial
    assert f'data-job-status="{done.pk}">Succeeded<' in partial


def test_usage_bars_show_this_months_counter_storage_and_running_slots(client, owner):
    org = owner.organization
    org.monthly_job_quota, org.monthly_compute_minutes, org.max_concurrent_jobs = 500, 600, 2
    org.storage_quota_bytes = 10 * 1024**3
    org.save()
    StudioUsage.objects.create(organization=org, month=usage_month(timezone.now()), jobs=450, minutes=600)
    StudioUsage.objects.create(organization=org, month=usage_month(timezone.now() - timedelta(days=62)), jobs=499)
    AssetFactory(organization=org, size_bytes=1024**3)
    AssetFactory(organization=org, size_bytes=5 * 1024**3, status="rejected")  # rejected bytes are gone
    JobFactory(organization=org, status="running", error="", dispatched_at=timezone.now())

    body = _home(client, owner.user)
    bars = dict(re.findall(r'data-quota="(\w+)">.*?aria-valuenow="(\d+)"', body, re.S))
    assert bars == {"jobs": "90", "minutes": "100", "storage": "10", "running": "50"}
    assert 'aria-valuetext="450 of 500 (90%): nearly at the limit"' in body
    assert 'aria-valuetext="600 of 600 min (100%): limit reached"' in body
    assert "1.0\xa0GB of 10.0\xa0GB" in body
    assert 'class="quota quota--full" data-quota="minutes"' in body  # the colour, said in words too
    assert "<strong>Limit reached.</strong>" in body


def test_unread_replies_are_listed_until_the_report_is_opened(client, owner):
    report = FeedbackReportFactory(organization=owner.organization, author=owner.user)
    _reply(report)
    _reply(report)
    FeedbackComment.objects.create(report=report, author=StaffFactory(), kind="internal", body="Between us.")
    body = _home(client, owner.user)
    assert "Unread replies" in body
    assert f'href="{reverse("beta:feedback-detail", args=[report.pk])}"' in body
    assert "2 new" in body

    assert client.get(reverse("beta:feedback-detail", args=[report.pk])).status_code == 200
    assert "Unread replies" not in _home(client, owner.user)

    _reply(report, body="One more thing.")
    assert "1 new" in _home(client, owner.user)


def test_another_studios_data_never_shows_or_ticks_anything(client, owner):
    # Given: a busy studio next door, with everything the home could show.
    other = OwnerFactory()
    other_job = JobFactory(organization=other.organization, status="running", error="", progress=10)
    other_asset = AssetFactory(organization=other.organization, original_filename="SECRET_plate.mov",
                               size_bytes=3 * 1024**3)
    JobInput.objects.create(job=other_job, asset=other_asset, position=0, sha256="0" * 64)
    InviteFactory(organization=other.organization, invited_by=other.user)
    StudioUsage.objects.create(organization=other.organization, month=usage_month(timezone.now()), jobs=77)
    _reply(FeedbackReportFactory(organization=other.organization, author=other.user))

    # When: our new studio's owner opens the home.
    body = _home(client, owner.user)

    # Then: nothing of theirs, and our checklist is untouched.
    assert _steps(body) == {"agreement": True, "team": False, "upload": False, "run": False, "feedback": False}
    assert f"#{other_job.pk}<" not in body
    assert "SECRET_plate" not in body
    assert "Unread replies" not in body
    assert "0 of 500" in body
    assert "0\xa0bytes of" in body
    assert "hx-get" not in body.split('id="recent-jobs"')[1].split(">")[0]
    assert f"#{other_job.pk}<" not in client.get(reverse("beta:job-recent")).content.decode()


def test_the_home_runs_a_fixed_number_of_queries_however_busy_the_studio(
    client, owner, django_assert_max_num_queries
):
    org = owner.organization
    for n in range(8):
        job = JobFactory(organization=org, status="running" if n % 2 else "succeeded", error="")
        JobInput.objects.create(job=job, asset=AssetFactory(organization=org), position=0, sha256="0" * 64)
        _reply(FeedbackReportFactory(organization=org, author=owner.user, job=job))
    MembershipFactory.create_batch(3, organization=org)
    client.force_login(owner.user)
    # 29: the panels (27) plus the suspended/offboarded studio check at the door and in the tenant lookup.
    with django_assert_max_num_queries(29):
        response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert response.content.decode().count("recent-jobs__row") == 5
