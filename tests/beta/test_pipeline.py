"""The job pipeline with a real Celery worker process through Redis and the database, and its faults."""

import os
import signal
import time

import pytest
import redis
from django.conf import settings

from assets.models import Asset
from assets.provenance import verify
from assets.storage import get_store
from beta.jobs.control import job_cancel
from beta.jobs.submit import job_submit
from beta.jobs.sweep import jobs_sweep
from beta.models import Job
from portal.models import Notification
from tests.conftest import wait_for
from tests.factories import OwnerFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def studio_asset(tmp_path):
    """A studio with a ready video asset whose bytes are really stored."""
    owner = OwnerFactory(organization__max_concurrent_jobs=4)
    data = b"\x00\x00\x00\x18ftypisom" + os.urandom(4096)
    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind="video",
                                 original_filename="plate.mp4", size_bytes=len(data), sha256="cd" * 32,
                                 status="ready", previews="none", storage_key="")
    from assets import keys

    asset.storage_key = keys.original_key(asset)
    path = tmp_path / "plate.mp4"
    path.write_bytes(data)
    get_store().put_file(path, asset.storage_key, "video/mp4")
    asset.save()
    return owner, asset


def _submit(owner, asset, tool="noop", **params):
    return job_submit(actor=owner.user, tool_slug=tool, asset_ids=[asset.pk], parameters=params)


def _finished(job_id, timeout=60):
    return wait_for(lambda: Job.objects.filter(pk=job_id, status__in=Job.FINISHED).first(), timeout=timeout,
                    message=f"job {job_id} to finish")


def test_a_job_runs_with_progress_and_stores_outputs_with_provenance(celery_worker_process, studio_asset, tmp_path):
    owner, asset = studio_asset
    job = _submit(owner, asset, "slow", seconds=3)
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = Job.objects.get(pk=job.pk)
        seen.add((current.status, current.progress))
        if current.status in Job.FINISHED:
            break
        time.sleep(0.1)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error or job.log
    assert any(status == "running" and 0 < progress < 100 for status, progress in seen), seen
    assert job.progress == 100
    assert job.started_at
    assert job.finished_at
    assert job.compute_seconds > 0
    job = _finished(_submit(owner, asset, "noop").pk)
    assert job.status == "succeeded", job.error or job.log
    [output] = job.job_outputs.select_related("asset")
    assert output.asset.organization == owner.organization
    assert output.asset.origin == "output"
    # Every output carries provenance: here a sidecar (a text file), stored beside it.
    local = tmp_path / output.asset.original_filename
    with get_store().open(output.asset.storage_key) as fh:
        local.write_bytes(fh.read())
    from assets import keys

    with get_store().open(keys.provenance_key(output.asset)) as fh:
        (tmp_path / (local.name + ".provenance.json")).write_bytes(fh.read())
    result = verify(local)
    assert result.valid, result.errors


def test_a_failing_tool_ends_failed_with_its_message(celery_worker_process, studio_asset):
    owner, asset = studio_asset
    job = _finished(_submit(owner, asset, "fail", message="The plate has no audio track.").pk)
    assert job.status == "failed"
    assert job.error == "The plate has no audio track."
    # The worker's finish told the submitter, through the event bus, in the portal too.
    notification = wait_for(lambda: Notification.objects.filter(recipient=owner.user, kind="job.finished").first(),
                            message="the submitter's notification")
    assert notification.title.endswith(f"job {job.pk} failed")
    assert "The plate has no audio track." in notification.body


def test_transient_errors_are_retried_with_backoff_then_succeed(celery_worker_process, studio_asset, settings):
    owner, asset = studio_asset
    job = _finished(_submit(owner, asset, "flaky", fail_times=1, key=f"t{time.time_ns()}").pk, timeout=90)
    assert job.status == "succeeded", job.log
    assert job.attempts == 2
    assert "will retry" in job.log


def test_cancel_while_running_ends_canceled_and_frees_the_worker(celery_worker_process, studio_asset):
    owner, asset = studio_asset
    job = _submit(owner, asset, "slow", seconds=60)
    wait_for(lambda: Job.objects.filter(pk=job.pk, status="running", progress__gt=0).exists(), timeout=30,
             message="the slow job to run")
    job_cancel(actor=owner.user, job=Job.objects.get(pk=job.pk))
    job = _finished(job.pk, timeout=20)
    assert job.status == "canceled"
    after = _finished(_submit(owner, asset, "noop").pk, timeout=30)
    assert after.status == "succeeded"


def test_a_duplicate_delivery_runs_the_tool_once(celery_worker_process, studio_asset):
    from beta.tasks import run_job

    owner, asset = studio_asset
    job = _submit(owner, asset, "slow", seconds=2)
    wait_for(lambda: Job.objects.filter(pk=job.pk, status="running").exists(), timeout=30, message="running")
    run_job.apply_async(args=(job.pk,), queue="cpu")  # the broker delivers the same job again
    job = _finished(job.pk)
    time.sleep(settings.JOB_HEARTBEAT_TIMEOUT + 2)  # the duplicate's deferred retry comes back and does nothing
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.attempts == 1
    assert job.log.count("Succeeded") == 1


def test_a_worker_killed_mid_job_loses_nothing_and_the_job_completes_once(celery_worker_process, studio_asset):
    owner, asset = studio_asset
    job = _submit(owner, asset, "slow", seconds=6)
    running = wait_for(lambda: Job.objects.filter(pk=job.pk, status="running", progress__gt=5).first(), timeout=30,
                       message="the job to be running")
    child_pid = int(running.worker.rsplit(":", 1)[1])
    os.kill(child_pid, signal.SIGKILL)  # the worker's child process dies mid-job
    job = _finished(job.pk, timeout=90)
    assert job.status == "succeeded", job.log
    assert job.deliveries == 1
    assert job.attempts == 2
    assert job.log.count("Succeeded") == 1
    assert "taking it over" in job.log


def test_a_job_that_always_kills_its_worker_fails_after_the_redelivery_maximum(celery_worker_process, studio_asset):
    owner, asset = studio_asset
    job = _finished(_submit(owner, asset, "crash").pk, timeout=120)
    assert job.status == "failed"
    assert "stopped its worker" in job.error
    assert job.deliveries == settings.JOB_MAX_DELIVERIES
    assert _finished(_submit(owner, asset, "noop").pk, timeout=30).status == "succeeded"  # the worker is alive


def test_redis_wiped_while_jobs_wait_loses_no_job(celery_worker_process, studio_asset):
    from config.celery import app

    owner, asset = studio_asset
    worker = celery_worker_process.hostname
    app.control.cancel_consumer("cpu", destination=[worker], reply=True, timeout=5)
    try:
        jobs = [_submit(owner, asset, "noop") for _ in range(3)]
        wait_for(lambda: Job.objects.filter(pk__in=[j.pk for j in jobs], dispatched_at__isnull=False).count() == 3,
                 message="the jobs to be sent")
        with redis.Redis.from_url(settings.REDIS_URL) as broker:
            broker.flushdb()  # Redis loses everything while the jobs wait
    finally:
        app.control.add_consumer("cpu", destination=[worker], reply=True, timeout=5)
    time.sleep(settings.JOB_DISPATCH_GRACE_SECONDS + 0.5)
    assert jobs_sweep()["resent"] == 3
    for job in jobs:
        assert _finished(job.pk, timeout=60).status == "succeeded"
