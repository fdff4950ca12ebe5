"""Canceling a job and running a finished one again."""

from __future__ import annotations

from django.db import transaction

from beta.errors import JobError
from beta.jobs.common import Status, log_line
from beta.jobs.execute import finish
from beta.jobs.submit import job_submit
from beta.models import Job
from portal.errors import PermissionDeniedError
from portal.models import Membership, User


def _require_member(actor: User, job: Job) -> None:
    if actor.is_programme_admin:
        return
    membership = Membership.objects.filter(user=actor, organization_id=job.organization_id).first()
    if membership is None or membership.role == Membership.Role.VIEWER:
        raise PermissionDeniedError("Viewers cannot cancel or retry jobs.")


def job_cancel(*, actor: User, job: Job, request=None) -> Job:
    """Queued jobs stop at once (and are revoked); running jobs stop at their next progress report."""
    _require_member(actor, job)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status in Job.FINISHED:
            raise JobError(f"This job has already {job.get_status_display().lower()}.")
        job.cancel_requested = True
        if job.status in (Status.QUEUED, Status.RETRYING):
            task_id = job.celery_task_id
            finish(job, Status.CANCELED, stage="Canceled")
            if task_id:
                transaction.on_commit(lambda: _revoke(task_id))
        else:
            job.stage = "Canceling…"
            log_line(job, f"Cancel requested by {actor.email}")
            job.save(update_fields=["cancel_requested", "stage", "log", "updated_at"])
    return job


def _revoke(task_id: str) -> None:
    from config.celery import app

    app.control.revoke(task_id)


def job_retry(*, actor: User, job: Job, request=None) -> Job:
    """Run a failed or canceled job again: a new job with the same tool, inputs and parameters."""
    _require_member(actor, job)
    if job.status not in (Status.FAILED, Status.CANCELED):
        raise JobError("Only failed or canceled jobs can be run again.")
    asset_ids = list(job.job_inputs.order_by("position").values_list("asset_id", flat=True))
    return job_submit(actor=actor, tool_slug=job.tool_slug, asset_ids=asset_ids, parameters=job.parameters,
                      retry_of=job, idempotency_key=f"retry-of-{job.pk}", request=request)

