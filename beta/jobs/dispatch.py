"""Fair-share dispatch: waiting jobs go to the broker within each studio's running limit, oldest first."""

from __future__ import annotations

import functools
import uuid

from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from beta import tools as catalogue
from beta.jobs.common import Status
from beta.models import Job
from portal.models import Organization


def send(job: Job, countdown: int | None = None) -> None:
    from beta.tasks import run_job

    tool = catalogue.get_tool(job.tool_slug)
    run_job.apply_async(
        args=(job.pk,), queue=job.queue, task_id=job.celery_task_id, countdown=countdown,
        soft_time_limit=tool.soft_time_limit if tool else None, time_limit=tool.time_limit if tool else None,
    )


_BUSY = Q(status=Status.RUNNING) | Q(status__in=[Status.QUEUED, Status.RETRYING], dispatched_at__isnull=False)
_WAITING = Q(status=Status.QUEUED, dispatched_at__isnull=True)


def studio_load(organization_id: int) -> tuple[int, int]:
    """The studio's jobs holding a slot (running, or sent to the broker), and those waiting for one: one query."""
    counts = Job.objects.filter(organization_id=organization_id, status__in=Job.ACTIVE).aggregate(
        busy=Count("id", filter=_BUSY), waiting=Count("id", filter=_WAITING)
    )
    return counts["busy"], counts["waiting"]


_ANY_STUDIO = -7_041_977  # stands for the studio in the load subqueries, compiled once (no studio has this id)


@functools.cache
def _load_subqueries(vendor: str) -> tuple[tuple[str, tuple], tuple[str, tuple]]:
    """`studio_load`'s two counts as scalar subqueries, built from `_BUSY` and `_WAITING` once per process (building
    them through the ORM cost more than running them)."""
    def count(condition: Q) -> tuple[str, tuple]:
        jobs = (Job.objects.filter(condition, organization_id=_ANY_STUDIO, status__in=Job.ACTIVE).order_by()
                .values("organization_id").annotate(n=Count("id")).values("n"))
        sql, params = jobs.query.sql_with_params()
        assert params.count(_ANY_STUDIO) == 1, params  # noqa: S101 - the substitution below relies on it
        return f"COALESCE(({sql}), 0)", params

    return count(_BUSY), count(_WAITING)


def studio_load_sql(organization_id: int) -> tuple[str, list, str, list]:
    """`studio_load` as two scalar subqueries (busy, waiting) and their parameters, for a statement that counts them
    beside other work."""
    (busy, busy_params), (waiting, waiting_params) = _load_subqueries(connection.vendor)

    def bound(params: tuple) -> list:
        return [organization_id if p == _ANY_STUDIO else p for p in params]

    return busy, bound(busy_params), waiting, bound(waiting_params)


def studio_loads(organization_ids: list[int]) -> dict[int, tuple[int, int]]:
    """`studio_load` of many studios in one query (a studio with no active job is absent)."""
    rows = (
        Job.objects.filter(organization_id__in=organization_ids, status__in=Job.ACTIVE).order_by()
        .values("organization_id").annotate(busy=Count("id", filter=_BUSY), waiting=Count("id", filter=_WAITING))
    )
    return {row["organization_id"]: (row["busy"], row["waiting"]) for row in rows}


def mark_dispatched(job: Job) -> None:
    """Give the job a task id and the time it goes to the broker (the caller saves it and sends it after commit)."""
    job.dispatched_at = timezone.now()
    job.celery_task_id = uuid.uuid4().hex
    job.stage = "Queued for a worker"


def jobs_dispatch() -> int:
    """Send waiting jobs to the broker: each studio up to its running limit, oldest waiting job first."""
    sent = 0
    waiting = (
        Job.objects.filter(status=Status.QUEUED, dispatched_at__isnull=True)
        .values("organization_id")
        .annotate(oldest=Min("queued_at"))
        .order_by("oldest")
    )
    for row in waiting:
        with transaction.atomic():
            sent += dispatch_studio(Organization.objects.select_for_update().get(pk=row["organization_id"]))
    return sent


def studio_dispatch(organization_id: int) -> int:
    """After a job of the studio finished: send its oldest waiting jobs into the slot (no lock when none waits)."""
    if not Job.objects.filter(_WAITING, organization_id=organization_id).exists():
        return 0
    with transaction.atomic():
        return dispatch_studio(Organization.objects.select_for_update().get(pk=organization_id))


def dispatch_studio(organization: Organization, *, max_running: int | None = None) -> int:
    """Send the studio's oldest waiting jobs into its free slots. The caller holds the studio's row lock."""
    max_running = organization.max_concurrent_jobs if max_running is None else max_running
    free = max_running - studio_load(organization.pk)[0]
    if free <= 0:
        return 0
    jobs = list(
        Job.objects.select_for_update(skip_locked=True)
        .filter(organization=organization, status=Status.QUEUED, dispatched_at__isnull=True)
        .order_by("queued_at", "id")[:free]
    )
    for job in jobs:
        mark_dispatched(job)
        job.save(update_fields=["dispatched_at", "celery_task_id", "stage", "updated_at"])
        transaction.on_commit(lambda job=job: send(job))
    return len(jobs)

