"""The short submit path and the lean worker path of beta/jobs/: cached switches and webhook flags, the monthly usage
counter, the job inserted already dispatched, the one-statement claim, the ping tool, and exact limits under
concurrent submits (PostgreSQL)."""

import importlib
import threading

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction
from django.utils import timezone

from beta.errors import JobError, QuotaError
from beta.jobs.control import job_cancel
from beta.jobs.dispatch import jobs_dispatch
from beta.jobs.execute import finish, job_claim, job_execute
from beta.jobs.submit import job_submit, usage_month
from beta.models import Job, StudioUsage, ToolSwitch
from tests.factories import AssetFactory, CohortFactory, JobFactory, OwnerFactory, WebhookEndpointFactory
from webhooks.models import WebhookDelivery


def _video(studio):
    return AssetFactory(organization=studio, kind="video", sha256="ab" * 32, duration_seconds=30)


def _submit(owner, asset, tool="noop", **kw):
    return job_submit(actor=owner.user, tool_slug=tool, asset_ids=[asset.pk], parameters={}, **kw)


def _usage(organization):
    usage = StudioUsage.objects.get(organization=organization, month=usage_month(timezone.now()))
    return usage.jobs, round(usage.minutes, 4)


@pytest.mark.django_db
def test_switching_a_tool_off_is_refused_at_the_very_next_submit(django_capture_on_commit_callbacks):
    owner = OwnerFactory()
    asset = _video(owner.organization)
    _submit(owner, asset)  # the switch (no row: on) is cached now
    switch = ToolSwitch.objects.create(slug="noop", enabled=False, note="Paused for maintenance.")
    with pytest.raises(JobError, match="Paused for maintenance"):
        _submit(owner, asset)
    with django_capture_on_commit_callbacks(execute=True):
        switch.enabled = True
        switch.save()
    _submit(owner, asset)
    switch.all_cohorts = False
    switch.save()
    with pytest.raises(JobError, match="not offered to your cohort"):
        _submit(owner, asset)
    switch.cohorts.add(owner.organization.cohort)  # m2m change: dropped from the cache too
    _submit(owner, asset)
    other = CohortFactory()
    other.tools.set([])  # the reverse side of the relation
    switch.cohorts.set([other])
    with pytest.raises(JobError, match="not offered to your cohort"):
        _submit(owner, asset)


@pytest.mark.django_db
def test_monthly_usage_counts_each_job_and_swaps_its_estimate_for_compute_time_once():
    owner = OwnerFactory(organization__max_concurrent_jobs=5)
    asset = _video(owner.organization)  # 30 s of media; noop's cost factor is 0, so 0.1 min estimated
    job = _submit(owner, asset)
    _submit(owner, asset)
    assert _usage(owner.organization) == (2, 0.2)
    claimed = job_claim(job_id=job.pk, hostname="w")
    Job.objects.filter(pk=job.pk).update(started_at=claimed.started_at - timezone.timedelta(seconds=90))
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        finish(locked, Job.Status.SUCCEEDED)
    jobs, minutes = _usage(owner.organization)
    assert jobs == 2
    assert 1.59 < minutes < 1.7  # 1.5 min of compute + 0.1 still estimated for the other job
    with transaction.atomic():  # a second path ending the same job does not count it again
        finish(Job.objects.select_for_update().get(pk=job.pk), Job.Status.FAILED, error="late")
    assert _usage(owner.organization)[1] == minutes


@pytest.mark.django_db
def test_a_refused_or_duplicate_submit_adds_nothing_to_the_usage():
    owner = OwnerFactory()
    asset = _video(owner.organization)
    first = _submit(owner, asset, idempotency_key="same")
    assert _submit(owner, asset, idempotency_key="same") == first
    owner.organization.monthly_job_quota = 1
    owner.organization.save()
    with pytest.raises(QuotaError):
        _submit(owner, asset)
    assert _usage(owner.organization) == (1, 0.1)


@pytest.mark.django_db
def test_the_backfill_counts_the_months_jobs_as_the_old_aggregate_did():
    owner = OwnerFactory()
    JobFactory(organization=owner.organization, status="succeeded", compute_seconds=120, estimated_minutes=5)
    JobFactory(organization=owner.organization, status="queued", compute_seconds=0, estimated_minutes=3)
    StudioUsage.objects.all().delete()
    migration = importlib.import_module("beta.migrations.0012_studio_usage_counters")
    migration.backfill(django_apps, None)
    assert _usage(owner.organization) == (2, 5.0)


@pytest.mark.django_db
def test_a_job_is_inserted_dispatched_only_when_a_slot_is_free_and_nobody_older_waits(
    django_capture_on_commit_callbacks,
):
    owner = OwnerFactory(organization__max_concurrent_jobs=1)
    asset = _video(owner.organization)
    with django_capture_on_commit_callbacks(execute=True):
        first = _submit(owner, asset)
    second = _submit(owner, asset)
    assert Job.objects.get(pk=first.pk).dispatched_at is not None
    assert Job.objects.get(pk=second.pk).dispatched_at is None  # the studio's one slot is taken
    Job.objects.filter(pk=first.pk).update(status="succeeded")  # finished, its dispatch not run yet
    with django_capture_on_commit_callbacks(execute=True):
        third = _submit(owner, asset)
    assert Job.objects.get(pk=second.pk).dispatched_at is not None  # the older one takes the slot
    assert Job.objects.get(pk=third.pk).dispatched_at is None
    assert jobs_dispatch() == 0


@pytest.mark.django_db
def test_the_claim_runs_a_waiting_job_once_and_leaves_every_other_case_to_the_locked_path(
    django_capture_on_commit_callbacks,
):
    owner = OwnerFactory(organization__max_concurrent_jobs=3)
    asset = _video(owner.organization)
    with django_capture_on_commit_callbacks(execute=True):
        job = _submit(owner, asset)
    job.refresh_from_db()
    assert job_claim(job_id=job.pk, hostname="w", task_id="an-old-message") is None
    claimed = job_claim(job_id=job.pk, hostname="w", task_id=job.celery_task_id)
    assert (claimed.status, claimed.attempts, claimed.worker, claimed.stage) == ("running", 1, "w", "Starting")
    assert claimed.started_at is not None
    assert claimed.organization_id == owner.organization.pk
    canceled = _submit(owner, asset)
    Job.objects.filter(pk=canceled.pk).update(cancel_requested=True)
    assert job_claim(job_id=canceled.pk, hostname="w") is None
    assert Job.objects.get(pk=canceled.pk).status == "canceled"


@pytest.mark.django_db
def test_a_ping_job_runs_and_stores_no_output(django_capture_on_commit_callbacks):
    owner = OwnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    assert job_execute(job_id=job.pk, hostname="w") == "succeeded"
    job.refresh_from_db()
    assert job.summary == {"pong": True}
    assert job.progress == 100
    assert not job.job_outputs.exists()


@pytest.mark.django_db
def test_webhooks_reach_an_endpoint_added_after_the_studio_was_cached_as_having_none(
    django_capture_on_commit_callbacks,
):
    owner = OwnerFactory(organization__max_concurrent_jobs=3)
    asset = _video(owner.organization)
    with django_capture_on_commit_callbacks(execute=True):
        job = _submit(owner, asset)  # job.queued: no endpoint, and the flag is cached
    WebhookEndpointFactory(organization=owner.organization, events=["job.canceled"])
    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(actor=owner.user, job=job)
    assert WebhookDelivery.objects.filter(event_type="job.canceled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_keep_the_quota_and_the_running_limit_exact(postgres_only, monkeypatch):
    # The jobs are committed: keep them from the broker, where a test session's real worker would run them, and its
    # finishes would dispatch the waiting ones (CI: 3 dispatched once the lean worker finished one in time).
    monkeypatch.setattr("beta.jobs.dispatch.send", lambda job, countdown=None: None)
    # Given a studio with 5 jobs a month and 2 slots, and 8 people submitting at the same moment
    owner = OwnerFactory(organization__monthly_job_quota=5, organization__max_concurrent_jobs=2)
    asset = _video(owner.organization)
    barrier = threading.Barrier(8)
    outcomes = []

    def submit():
        try:
            barrier.wait(timeout=20)
            _submit(owner, asset)
            outcomes.append("ok")
        except QuotaError:
            outcomes.append("quota")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then exactly 5 are accepted, 2 hold the slots, and the counter agrees with the rows
    assert sorted(outcomes) == ["ok"] * 5 + ["quota"] * 3
    assert Job.objects.filter(organization=owner.organization).count() == 5
    assert Job.objects.filter(organization=owner.organization, dispatched_at__isnull=False).count() == 2
    assert _usage(owner.organization)[0] == 5


@pytest.mark.django_db
def test_a_ping_job_costs_the_same_queries_however_much_history_its_studio_has(django_capture_on_commit_callbacks):
    """Submit and run, each with its after-commit work (events, notifications, quota alerts, the next dispatch): the
    quota alerts use the counter the statement returned and the finish notification the job the finish wrote, so
    nothing is read again and nothing grows with the studio's past jobs or notifications."""
    from django.test.utils import CaptureQueriesContext

    owner = OwnerFactory()

    def one() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as submit, django_capture_on_commit_callbacks(execute=True):
            job = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
        with CaptureQueriesContext(connection) as run, django_capture_on_commit_callbacks(execute=True):
            assert job_execute(job_id=job.pk, hostname="w", task_id=job.celery_task_id) == "succeeded"
        return len(submit), len(run)

    one()  # the month's first job makes its usage row, and fills the cached tool switch and webhook flag
    first = one()
    for _ in range(5):
        one()
    JobFactory.create_batch(20, organization=owner.organization, submitted_by=owner.user, status="succeeded")
    assert one() == first
    # submit: membership; savepoint, studio lock, usage counter (with the studio's slot counts), insert, release.
    # run on PostgreSQL: the claim (with the studio's name and the input count), the finish (with the usage counter
    # and whether a job waits), the notification (picking who may hear of it, with their channel and email).
    # On SQLite: the claim's update and read; savepoint, lease lock, finish, usage counter, release; the
    # notification, the submitter's email (the channel is email), and whether a job waits.
    assert first == (6, 3 if connection.vendor == "postgresql" else 10)


@pytest.mark.django_db
def test_owners_hear_when_finished_jobs_take_the_month_past_80_percent_of_its_compute_minutes(
    django_capture_on_commit_callbacks,
):
    from datetime import timedelta

    from portal.models import Notification

    owner = OwnerFactory(organization__monthly_compute_minutes=10)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    assert not Notification.objects.filter(kind="quota.reached").exists()
    Job.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now() - timedelta(minutes=9))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        finish(Job.objects.select_for_update().get(pk=job.pk), Job.Status.SUCCEEDED)
    [told] = Notification.objects.filter(recipient=owner.user, kind="quota.reached")
    assert told.title == "Your studio has used 80% of its compute minutes this month"
    assert _usage(owner.organization)[1] == pytest.approx(9, abs=0.01)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():  # a second finish: counted once
        finish(Job.objects.select_for_update().get(pk=job.pk), Job.Status.SUCCEEDED)
    assert Notification.objects.filter(recipient=owner.user, kind="quota.reached").count() == 1


@pytest.mark.django_db
def test_a_run_ends_with_what_finish_writes_and_its_month_counts_the_time_it_took(django_capture_on_commit_callbacks):
    """The worker's end of a run (one statement on PostgreSQL) writes what `finish` writes under the row lock: the
    final state, its log line, the compute time, and the month's minutes with the estimate swapped for that time."""
    owner = OwnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    assert _usage(owner.organization) == (1, job.estimated_minutes)
    assert job.estimated_minutes > 0
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, hostname="w", task_id=job.celery_task_id) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.progress, job.stage, job.error) == ("succeeded", 100, "Done", "")
    assert job.summary == {"pong": True}
    assert job.finished_at == job.heartbeat_at
    assert job.finished_at >= job.started_at
    assert job.compute_seconds == pytest.approx((job.finished_at - job.started_at).total_seconds(), abs=0.001)
    assert job.log.endswith(f"{job.finished_at:%H:%M:%S} Succeeded\n")
    assert _usage(owner.organization) == (1, round(job.compute_seconds / 60, 4))
    [told] = owner.user.notifications.all()
    assert told.title == f"Diagnostics: ping: job {job.pk} finished"


@pytest.mark.django_db
def test_a_run_whose_job_was_taken_over_writes_nothing_at_its_end(monkeypatch, django_capture_on_commit_callbacks):
    """A worker silent past its lease lost the job to another: at its end it writes nothing (no state, no usage, no
    notification) and the job stays with the worker that took it over."""
    from beta import tools as catalogue

    owner = OwnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    ping = catalogue.get_tool("ping")
    real_run = ping.run

    def taken_over_meanwhile(*args, **kwargs):
        Job.objects.filter(pk=job.pk).update(worker="another-worker")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(ping, "run", taken_over_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, hostname="w", task_id=job.celery_task_id) == "superseded"
    job.refresh_from_db()
    assert (job.status, job.worker, job.finished_at, job.summary) == ("running", "another-worker", None, {})
    assert _usage(owner.organization) == (1, job.estimated_minutes)
    assert not owner.user.notifications.exists()


@pytest.mark.django_db
def test_a_finished_run_sends_the_studios_oldest_waiting_job_into_its_slot(django_capture_on_commit_callbacks):
    owner = OwnerFactory(organization__max_concurrent_jobs=1)
    with django_capture_on_commit_callbacks(execute=True):
        running = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
        waiting = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    assert Job.objects.get(pk=waiting.pk).dispatched_at is None
    with django_capture_on_commit_callbacks(execute=True) as after:
        assert job_execute(job_id=running.pk, hostname="w", task_id=running.celery_task_id) == "succeeded"
    assert Job.objects.get(pk=waiting.pk).dispatched_at is not None
    sent = len(after)
    # With nobody waiting, the end of a run has no dispatch to do.
    with django_capture_on_commit_callbacks(execute=True) as after:
        assert job_execute(job_id=waiting.pk, hostname="w", task_id=Job.objects.get(pk=waiting.pk).celery_task_id) \
            == "succeeded"
    assert len(after) < sent


@pytest.mark.django_db(transaction=True)
def test_the_process_heartbeat_keeps_a_silent_job_alive_and_tells_it_when_another_worker_took_it(
    settings, monkeypatch
):
    """One heartbeat thread per worker process beats for the job it runs while the tool is silent, and flags the
    lease lost once another worker holds the job; the same thread serves the next job, and idles without a
    database connection."""
    import time as time_module

    from beta import tools as catalogue
    from beta.jobs import execute

    settings.JOB_HEARTBEAT_SECONDS = 1
    owner = OwnerFactory()
    ping = catalogue.get_tool("ping")
    real_run = ping.run
    seen = {}

    def silent(inputs, params, progress, context):
        job_id = int(context.job_label.split()[-1])
        started = Job.objects.get(pk=job_id).heartbeat_at
        time_module.sleep(2.5)  # no progress call: only the heartbeat marks it alive
        seen[job_id] = (started, Job.objects.get(pk=job_id).heartbeat_at)
        if job_id == taken_over:
            Job.objects.filter(pk=job_id).update(worker="another-worker")
            time_module.sleep(1.5)  # the next beat finds the job under another worker
            progress(50, "Still here")  # and the tool's next report stops the run
        return real_run(inputs, params, progress, context)

    monkeypatch.setattr(ping, "run", silent)
    # The jobs are committed: keep them from the broker, where a test session's real worker would take them.
    monkeypatch.setattr("beta.jobs.dispatch.send", lambda job, countdown=None: None)
    first = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    taken_over = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={}).pk
    assert job_execute(job_id=first.pk, hostname="w", task_id=first.celery_task_id) == "succeeded"
    thread = execute._heartbeats._thread
    started, later = seen[first.pk]
    assert (later - started).total_seconds() >= 1.5  # beaten at least twice while silent
    job = Job.objects.get(pk=taken_over)
    assert job_execute(job_id=job.pk, hostname="w", task_id=job.celery_task_id) == "superseded"
    assert execute._heartbeats._thread is thread  # the same thread, not one a job
    assert Job.objects.get(pk=taken_over).status == "running"  # left to the worker that took it over
    assert execute._heartbeats.idle.wait(5)  # no job: it has closed its connection and waits


@pytest.mark.django_db
@pytest.mark.parametrize("leaves", ["nothing", "outputs", "a crash", "an unremovable file"])
def test_a_runs_scratch_folder_is_gone_after_it_whatever_the_tool_left_in_it(
    leaves, tmp_path, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """Empty folders go with two rmdirs; anything else with a tree walk; what cannot be removed is logged, and the
    job's ending is not changed by it."""
    import tempfile

    from beta import tools as catalogue
    from beta.tools.base import ToolResult

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    owner = OwnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(actor=owner.user, tool_slug="ping", asset_ids=[], parameters={})
    ping = catalogue.get_tool("ping")
    real_run = ping.run
    seen = []

    def run(inputs, parameters, progress, context):
        seen.append(context.work_dir)
        assert context.work_dir.is_dir()
        assert context.work_dir.parent.name.startswith(f"gl-job-{job.pk}-")
        if leaves == "a crash":
            (context.work_dir / "half-written.exr").write_bytes(b"\0" * 64)
            raise RuntimeError("the tool fell over")
        if leaves in ("outputs", "an unremovable file"):
            nested = context.work_dir / "frames"
            nested.mkdir()
            (nested / "0001.png").write_bytes(b"\x89PNG")
        if leaves == "an unremovable file":
            monkeypatch.setattr("shutil.os.unlink", _refuse_unlink(nested / "0001.png"))
        return real_run(inputs, parameters, progress, context) if leaves == "nothing" else ToolResult(summary={})

    monkeypatch.setattr(ping, "run", run)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = job_execute(job_id=job.pk, hostname="w", task_id=job.celery_task_id)
    assert outcome == ("failed" if leaves == "a crash" else "succeeded")
    assert seen
    if leaves == "an unremovable file":
        assert {p.name for p in tmp_path.rglob("*")} == {seen[0].parent.name, "out", "frames", "0001.png"}
        assert "could not remove part of a job's scratch folder" in caplog.text
    else:
        assert list(tmp_path.iterdir()) == []


def _refuse_unlink(path):
    import os

    real = os.unlink

    def unlink(name, *args, **kwargs):
        if str(name).endswith(path.name):
            raise PermissionError(13, "Permission denied", str(name))
        return real(name, *args, **kwargs)

    return unlink
