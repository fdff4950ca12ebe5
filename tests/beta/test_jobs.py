"""beta/jobs/ without a worker: submission checks, fair-share dispatch, claiming, cancel, the sweeper."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from beta.errors import JobError, JobParameterError, QuotaError
from beta.jobs.control import job_cancel, job_retry
from beta.jobs.dispatch import jobs_dispatch
from beta.jobs.execute import LATER, job_claim
from beta.jobs.submit import job_submit
from beta.jobs.sweep import jobs_sweep
from beta.models import Job, ToolSwitch
from portal.errors import PermissionDeniedError
from tests.factories import AssetFactory, CohortFactory, MembershipFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return OwnerFactory(organization__max_concurrent_jobs=2)


def _video(studio, **kw):
    return AssetFactory(organization=studio, kind="video", sha256="ab" * 32, duration_seconds=30, **kw)


def submit(user, asset, tool="noop", **params):
    return job_submit(actor=user, tool_slug=tool, asset_ids=[asset.pk], parameters=params)


def test_submit_writes_a_queued_job_with_its_inputs_fingerprinted(owner, django_capture_on_commit_callbacks):
    asset = _video(owner.organization)
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(owner.user, asset, "slow", seconds=1)
    job.refresh_from_db()
    assert job.status == "queued"
    assert job.parameters["seconds"] == 1
    assert job.tool_version
    assert job.dispatched_at is not None  # sent to the broker after commit
    assert list(job.job_inputs.values_list("asset_id", "sha256")) == [(asset.pk, "ab" * 32)]


@pytest.mark.parametrize(
    ("tool", "params", "message"),
    [
        ("no-such-tool", {}, "There is no tool called"),
        ("slow", {"seconds": 999}, "seconds: must be between"),
        ("slow", {"seconds": "fast"}, "seconds:"),
        ("slow", {"bogus": 1}, "bogus: is not a parameter"),
    ],
)
def test_bad_submissions_are_refused_with_a_clear_message_and_create_nothing(owner, tool, params, message):
    asset = _video(owner.organization)
    with pytest.raises(JobError, match=message):
        submit(owner.user, asset, tool, **params)
    assert not Job.objects.exists()


def test_out_of_bounds_parameter_names_the_field(owner):
    with pytest.raises(JobParameterError) as excinfo:
        submit(owner.user, _video(owner.organization), "slow", seconds=-1)
    assert excinfo.value.field == "seconds"


def test_another_studios_asset_and_wrong_kinds_are_refused(owner):
    theirs = _video(OwnerFactory().organization)
    with pytest.raises(JobError, match="not one of your studio's files"):
        submit(owner.user, theirs)
    unready = _video(owner.organization, status="verifying")
    with pytest.raises(JobError, match="not ready"):
        submit(owner.user, unready)
    assert not Job.objects.exists()


def test_tool_not_allowed_for_the_cohort_and_closed_cohorts_are_refused(owner):
    asset = _video(owner.organization)
    switch = ToolSwitch.objects.create(slug="noop", all_cohorts=False)
    switch.cohorts.add(CohortFactory())
    with pytest.raises(JobError, match="not offered to your cohort"):
        submit(owner.user, asset)
    switch.cohorts.add(owner.organization.cohort)
    assert submit(owner.user, asset).pk
    cohort = owner.organization.cohort
    cohort.opens_at, cohort.closes_at = timezone.now() - timedelta(days=9), timezone.now() - timedelta(days=1)
    cohort.save()
    with pytest.raises(JobError, match="read-only"):
        submit(owner.user, asset)
    switch.enabled, switch.note = False, "Paused for maintenance."
    switch.save()
    with pytest.raises(JobError, match="Paused for maintenance"):
        submit(owner.user, asset)


def test_viewers_cannot_run_tools():
    viewer = MembershipFactory(role="viewer")
    with pytest.raises(PermissionDeniedError):
        submit(viewer.user, _video(viewer.organization))


def test_monthly_quotas_are_refused_at_submit_with_the_numbers(owner):
    asset = _video(owner.organization)
    owner.organization.monthly_job_quota = 2
    owner.organization.save()
    submit(owner.user, asset)
    submit(owner.user, asset)
    with pytest.raises(QuotaError, match="2 of its 2 jobs this month"):
        submit(owner.user, asset)
    owner.organization.monthly_job_quota, owner.organization.monthly_compute_minutes = 100, 0
    owner.organization.save()
    with pytest.raises(QuotaError, match="compute minutes"):
        submit(owner.user, asset)
    assert Job.objects.count() == 2


def test_an_idempotency_key_returns_the_same_job(owner):
    asset = _video(owner.organization)
    first = job_submit(actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], idempotency_key="k-1")
    again = job_submit(actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], idempotency_key="k-1")
    assert first.pk == again.pk
    assert Job.objects.count() == 1


def test_fair_share_dispatch_serves_a_small_studio_before_a_big_backlog(django_capture_on_commit_callbacks):
    a = OwnerFactory(organization__max_concurrent_jobs=1)
    b = OwnerFactory(organization__max_concurrent_jobs=1)
    a_asset, b_asset = _video(a.organization), _video(b.organization)
    with django_capture_on_commit_callbacks(execute=True):
        a_jobs = [submit(a.user, a_asset) for _ in range(20)]
        b_job = submit(b.user, b_asset)
    dispatched = set(Job.objects.filter(dispatched_at__isnull=False).values_list("pk", flat=True))
    assert dispatched == {a_jobs[0].pk, b_job.pk}  # one slot each; B does not wait for A's backlog
    # When A's running job finishes, A's next oldest job takes its slot.
    Job.objects.filter(pk=a_jobs[0].pk).update(status="succeeded", finished_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        jobs_dispatch()
    assert Job.objects.get(pk=a_jobs[1].pk).dispatched_at is not None
    assert Job.objects.filter(organization=a.organization, dispatched_at__isnull=False).count() == 2


def test_claim_takes_a_job_once_and_defers_to_a_live_worker(owner):
    job = submit(owner.user, _video(owner.organization))
    claimed = job_claim(job_id=job.pk, hostname="w1")
    assert claimed.status == "running"
    assert claimed.attempts == 1
    assert job_claim(job_id=job.pk, hostname="w2") is LATER  # w1's heartbeat is fresh
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
    taken = job_claim(job_id=job.pk, hostname="w2")
    assert (taken.worker, taken.deliveries) == ("w2", 1)
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    assert job_claim(job_id=job.pk, hostname="w3") is None


def test_a_job_that_keeps_losing_its_worker_fails_at_the_maximum(owner, settings):
    job = submit(owner.user, _video(owner.organization))
    job_claim(job_id=job.pk, hostname="w")
    for _ in range(settings.JOB_MAX_DELIVERIES):
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
        job_claim(job_id=job.pk, hostname="w")
    job.refresh_from_db()
    assert job.status == "failed"
    assert "stopped its worker" in job.error


def test_cancel_a_queued_job_and_refuse_to_cancel_a_finished_one(owner):
    job = submit(owner.user, _video(owner.organization))
    job_cancel(actor=owner.user, job=job)
    job.refresh_from_db()
    assert job.status == "canceled"
    with pytest.raises(JobError, match="already"):
        job_cancel(actor=owner.user, job=job)


def test_retry_makes_a_new_job_with_the_same_inputs_and_parameters(owner):
    job = submit(owner.user, _video(owner.organization), "slow", seconds=2)
    Job.objects.filter(pk=job.pk).update(status="failed")
    job.refresh_from_db()
    again = job_retry(actor=owner.user, job=job)
    assert again.pk != job.pk
    assert again.retry_of == job
    assert again.parameters == job.parameters


def test_the_sweeper_resends_jobs_the_broker_lost(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(owner.user, _video(owner.organization))
    job.refresh_from_db()
    first_task = job.celery_task_id
    from beta.broker import task_ids_in_broker

    assert first_task in task_ids_in_broker()
    with redis.Redis.from_url(settings.REDIS_URL) as broker:
        broker.flushdb()  # Redis lost its data
    Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep()
    assert result["resent"] == 1
    job.refresh_from_db()
    assert job.celery_task_id != first_task
    assert job.celery_task_id in task_ids_in_broker()
    # A job still in the broker is left alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep()["resent"] == 0
