"""Fault drill: a worker SIGKILLed while storing a job's outputs leaves neither orphans nor duplicates.

The worker pauses in the storing stage (the drill hook in beta.jobs.execute, switched on for the test worker) after an
output is stored and before the job is finished; the test kills that worker process there. The job is taken over and
run again, and must end with exactly one set of outputs, each linked to it, counted once against the quota.
"""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import Asset
from assets.selectors import storage_used
from beta.jobs.submit import job_submit
from beta.jobs.sweep import jobs_sweep
from beta.models import Job, JobOutput
from tests.beta.test_pipeline import studio_asset  # noqa: F401 - the fixture
from tests.conftest import wait_for
from tests.factories import AssetFactory, OwnerFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_while_storing_outputs_leaves_one_linked_set(celery_worker_process, studio_asset):  # noqa: F811
    owner, source = studio_asset
    used_before = storage_used(owner.organization)
    job = job_submit(actor=owner.user, tool_slug="slow", asset_ids=[source.pk], parameters={"seconds": 2})
    flag = celery_worker_process.drill_dir / f"job-{job.pk}.pause"
    flag.touch()  # the run takes 2 s: the flag is there before it reaches the storing stage
    announced = celery_worker_process.drill_dir / f"job-{job.pk}.storing"
    try:
        wait_for(announced.exists, timeout=60, message="the worker to pause in the storing stage")
        pid = int(announced.read_text().split()[0])
        # Given: the first attempt stored its output and is about to finish the job.
        assert JobOutput.objects.filter(job=job).count() == 1
        assert Job.objects.get(pk=job.pk).status == "running"
        # When: its worker process is killed there (an out-of-memory kill, a node lost).
        os.kill(pid, signal.SIGKILL)
    finally:
        flag.unlink(missing_ok=True)

    # Then: the job is taken over, runs again and ends once, with one output, linked, counted once.
    job = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(), timeout=120,
                   message="the job to finish")
    assert job.status == "succeeded", job.log
    assert job.attempts == 2
    assert job.log.count("Succeeded") == 1
    outputs = list(JobOutput.objects.filter(job=job).select_related("asset"))
    assert len(outputs) == 1, outputs
    assert [(o.name, o.asset.status) for o in outputs] == [("ok.txt", "ready")]
    produced = Asset.objects.filter(organization=owner.organization, origin="output").exclude(status="deleted")
    assert list(produced) == [outputs[0].asset]  # no orphan, no duplicate in the library
    assert storage_used(owner.organization) == used_before + outputs[0].asset.size_bytes


def test_the_sweep_removes_outputs_linked_to_no_job_once_past_the_lease(settings):
    owner = OwnerFactory()
    stale = AssetFactory(organization=owner.organization, origin="output", status="ready")
    fresh = AssetFactory(organization=owner.organization, origin="output", status="ready")
    upload = AssetFactory(organization=owner.organization, origin="upload", status="ready")
    Asset.objects.filter(pk__in=[stale.pk, upload.pk]).update(created_at=timezone.now() - timedelta(hours=1))
    assert jobs_sweep()["orphans_removed"] == 1
    assert Asset.objects.get(pk=stale.pk).status == "deleted"
    assert Asset.objects.get(pk=fresh.pk).status == "ready"  # younger than the lease: its job may be linking it
    assert Asset.objects.get(pk=upload.pk).status == "ready"  # a partner's upload is never an orphan output
