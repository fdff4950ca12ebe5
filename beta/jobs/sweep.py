"""The sweeper: re-sends what the broker lost, takes back jobs whose worker died, removes orphaned outputs."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assets.models import Asset
from beta.jobs import dispatch
from beta.jobs.common import Status, log_line
from beta.jobs.execute import PENDING_KEY, is_parked
from beta.models import Job
from ops import metrics as ops_metrics


def jobs_sweep() -> dict:
    """Re-send jobs the broker lost; take back running jobs whose lease ran out; dispatch waiting ones; remove
    outputs linked to no job.

    Queued jobs: re-sent when, a grace period after sending, their task is nowhere in the broker. Running (and
    retrying, and parked) jobs: the heartbeat is the truth. One silent for longer than its lease
    (JOB_HEARTBEAT_TIMEOUT) is sent again under a new task id whatever kombu's `unacked` hash says, since a worker
    that lost its broker connection leaves its messages there for hours. The claim accepts only the job's current
    task id, so an old message that comes back later does nothing.
    """
    from beta.broker import task_ids_in_broker

    now = timezone.now()
    grace = now - timedelta(seconds=settings.JOB_DISPATCH_GRACE_SECONDS)
    lease = now - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    in_broker = task_ids_in_broker()
    waiting = task_ids_in_broker(unacked=False)
    resent = 0
    candidates = Job.objects.filter(
        Q(status=Status.QUEUED, dispatched_at__lt=grace)
        | Q(status=Status.RETRYING, dispatched_at__lt=grace)
        | Q(status=Status.RUNNING, heartbeat_at__lt=lease)
    ).exclude(celery_task_id="")
    for job in candidates:
        if job.celery_task_id in waiting or not _lost(job, now, in_broker):
            continue
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if locked.status in Job.FINISHED or locked.celery_task_id != job.celery_task_id:
                continue
            if job.status == Status.QUEUED:
                log_line(locked, "Sent to a worker again: the queue had lost it.")
            else:
                log_line(locked, "Sent to a worker again: its worker went silent (lease expired).")
            locked.celery_task_id = uuid.uuid4().hex
            locked.dispatched_at = now
            locked.save(update_fields=["celery_task_id", "dispatched_at", "log", "updated_at"])
            transaction.on_commit(lambda locked=locked: dispatch.send(locked))
            ops_metrics.job_resent(locked)
            resent += 1
    return {"resent": resent, "dispatched": dispatch.jobs_dispatch(),
            "orphans_removed": job_outputs_purge_orphans(now=now)}


def _lost(job: Job, now, in_broker: set[str]) -> bool:
    """Whether no worker can still be holding the job (its queued message waits in no queue: checked by the caller)."""
    lease = timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    if job.status == Status.QUEUED:
        # A worker may have reserved the message and wait for a free process: unacked counts here.
        return job.celery_task_id not in in_broker
    if job.status == Status.RETRYING:
        # The retry is an ETA message a worker holds in memory; once due and a lease past, a worker would have run it.
        return job.retry_at is None or job.retry_at + lease < now
    since = max(t for t in (job.heartbeat_at, job.dispatched_at) if t is not None)
    if is_parked(job):  # nobody beats while the external service works: the poll was due after poll_after
        poll_after = int((job.summary or {}).get(PENDING_KEY, {}).get("poll_after") or 0)
        return since + timedelta(seconds=poll_after) + lease < now
    return since + lease < now


def job_outputs_purge_orphans(*, now=None) -> int:
    """Sweep: tool outputs linked to no job and older than the lease are removed (bytes too); none counts against
    the quota or shows in the library. Outputs are linked as they are saved, so these come only from deleted jobs
    or from versions before that rule."""
    from assets.services import outputs_purge

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    return outputs_purge(queryset=Asset.objects.filter(origin="output", output_of__isnull=True, created_at__lt=cutoff))

