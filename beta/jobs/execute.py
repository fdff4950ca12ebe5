"""Running a job in a worker: claim it under a row lock, run the tool with a progress callback and a heartbeat,
store its outputs with provenance while this worker still holds it, and finish the row.

The Job row is the source of truth. A job parked on an external service is polled instead of run again.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from assets import keys
from assets.models import Asset, Rendition
from assets.services import asset_create_from_file
from assets.storage import copy_to_file, get_store
from beta import tools as catalogue
from beta.jobs import dispatch
from beta.jobs.common import LOG_MAX, event_data, lineage_label, log_line, stamped
from beta.jobs.submit import UsageNow, usage_job_finished
from beta.models import Job, JobInput, JobOutput, StudioUsage, WorkerHeartbeat
from beta.results import cache as results_cache
from beta.tool_settings import ToolSettings, render_template
from beta.tools.base import JobCanceled, ToolContext, ToolError, ToolInput
from ops import metrics as ops_metrics
from portal.events import publish
from portal.models import AuditEvent, Organization
from portal.services.audit import audit_record

logger = logging.getLogger(__name__)
Status = Job.Status
PROGRESS_WRITE_INTERVAL = 0.25  # seconds: progress reaches the database at most four times a second
CANCEL_CHECK_INTERVAL = 1.0


# --- Worker heartbeat (per queue) ------------------------------------------------------------------------------------
def worker_heartbeat_record(*, queue: str, hostname: str) -> WorkerHeartbeat:
    """Record that a worker serving `queue` is alive."""
    with transaction.atomic():
        beat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
            queue=queue, defaults={"hostname": hostname, "beat_at": timezone.now(), "beats": 1}
        )
        if not created:
            WorkerHeartbeat.objects.filter(pk=beat.pk).update(
                hostname=hostname, beat_at=timezone.now(), beats=F("beats") + 1
            )
            beat.refresh_from_db()
    return beat


def worker_heartbeat_request(*, queue: str) -> None:
    """Ask a worker on `queue` to record a heartbeat, once the current transaction commits."""
    from beta.tasks import worker_heartbeat

    transaction.on_commit(lambda: worker_heartbeat.apply_async(args=(queue,), queue=queue))


# --- Run (in a worker) -----------------------------------------------------------------------------------------------
LATER = object()


def job_claim(*, job_id: int, hostname: str, task_id: str = "") -> Job | object | None:
    """Take the job. None: nothing to do. LATER: another worker holds it (try again later).

    The common case, a waiting job delivered once, is one conditional UPDATE; anything else (a cancel asked for, a
    worker that died, a parked job, an old message) is decided under the row lock. A job parked on an external
    service (see `_job_park`) is taken by its current poll task without counting a delivery or an attempt: waiting
    is not a worker dying. Only the job's current task id claims it: a message the sweeper has replaced (or an
    older poll task) does nothing when it is delivered, however late.
    """
    job = _claim_waiting(job_id, hostname, task_id)
    if job is not None:
        return job
    with transaction.atomic():
        return _claim_locked(job_id, hostname, task_id)


_JOBS, _INPUTS, _STUDIOS = Job._meta.db_table, JobInput._meta.db_table, Organization._meta.db_table
_USAGE = StudioUsage._meta.db_table
_CLAIM_SQL = f"""
    UPDATE {_JOBS} SET status = %s, started_at = COALESCE(started_at, %s), heartbeat_at = %s,
        attempts = attempts + 1, worker = %s, stage = %s, updated_at = %s
    WHERE id = %s AND status IN (%s, %s) AND NOT cancel_requested
        AND (%s = '' OR celery_task_id = '' OR celery_task_id = %s)
    RETURNING *, (SELECT name FROM {_STUDIOS} WHERE id = {_JOBS}.organization_id) AS studio_name,
        (SELECT uuid FROM {_STUDIOS} WHERE id = {_JOBS}.organization_id) AS studio_uuid,
        (SELECT COUNT(*) FROM {_INPUTS} WHERE job_id = {_JOBS}.id) AS input_count
"""  # noqa: S608 - table names from the models, values bound


def _claim_waiting(job_id: int, hostname: str, task_id: str) -> Job | None:
    """A queued (or retrying) job, not canceled, for its current task: running under this worker, in one statement.
    None when the job is in any other state (the caller decides under the row lock).

    The claimed job carries what the run needs besides its row (`_claimed`): its studio's name and how many inputs
    it has, so a run reads neither again."""
    now = timezone.now()
    waiting = (Status.QUEUED, Status.RETRYING)
    if connection.vendor == "postgresql":
        params = [Status.RUNNING, now, now, hostname, "Starting", now, job_id, *waiting, task_id, task_id]
        claimed = list(Job.objects.raw(_CLAIM_SQL, params))
        job = claimed[0] if claimed else None
    else:  # SQLite: the same conditional update, then a read of the row
        task_ok = Q(celery_task_id="") | Q(celery_task_id=task_id) if task_id else Q()
        updated = Job.objects.filter(task_ok, pk=job_id, status__in=waiting, cancel_requested=False).update(
            status=Status.RUNNING, started_at=Coalesce("started_at", Value(now)), heartbeat_at=now,
            attempts=F("attempts") + 1, worker=hostname, stage="Starting", updated_at=now,
        )
        inputs = JobInput.objects.filter(job=OuterRef("pk")).order_by().values("job").annotate(n=Count("pk"))
        job = (Job.objects.annotate(studio_name=F("organization__name"), studio_uuid=F("organization__uuid"),
                                    input_count=Coalesce(Subquery(inputs.values("n")), 0))
               .get(pk=job_id)) if updated else None
    if job is not None and job.started_at == now:  # the first start only: not a retry
        publish("job.started", organization_id=job.organization_id, data=event_data(job, Status.RUNNING))
    return job


def _claim_locked(job_id: int, hostname: str, task_id: str) -> Job | object | None:
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status in Job.FINISHED:
        return None
    if job.cancel_requested:
        finish(job, Status.CANCELED, stage="Canceled")
        return None
    parked = is_parked(job)
    if task_id and job.celery_task_id and task_id != job.celery_task_id:
        return None  # an older message of this job (re-sent since by the sweeper, or a finished poll)
    now = timezone.now()
    if job.status == Status.RUNNING and not parked:
        taken = _take_over(job, now)
        if taken is not job:
            return taken
    if job.started_at is None:  # the first start only: not a retry, a take-over or a poll
        publish("job.started", organization_id=job.organization_id, data=event_data(job, Status.RUNNING))
    job.status = Status.RUNNING
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    job.attempts += 0 if parked else 1
    job.worker = hostname
    job.stage = "Starting"
    job.save()
    return job


def _take_over(job: Job, now) -> Job | object | None:
    """A running job delivered again: LATER while its worker still beats, else taken over (or failed for good)."""
    if job.heartbeat_at and now - job.heartbeat_at < timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT):
        return LATER
    job.deliveries += 1  # its last worker died mid-job
    log_line(job, f"The worker running this job stopped; taking it over ({job.deliveries}).")
    if job.deliveries >= settings.JOB_MAX_DELIVERIES:
        finish(job, Status.FAILED, error=(
            f"The tool stopped its worker {job.deliveries} times, so it was not tried again. "
            "The AI Studio team has been told."
        ))
        return None
    return job


def finish(job: Job, status: str, *, error: str = "", stage: str = "") -> None:
    """Write the job's final state (the caller holds its row lock); its studio's usage, events and next dispatch
    follow. The submitter hears of it through the event (beta.notifications), by the channel they chose."""
    was_active = job.status in Job.ACTIVE
    now = timezone.now()
    job.status = status
    job.error = error
    job.finished_at = now
    job.heartbeat_at = now
    if status == Status.SUCCEEDED:
        job.progress = 100
    job.stage = stage or Status(status).label
    if job.started_at:
        job.compute_seconds = (now - job.started_at).total_seconds()
    log_line(job, f"{Status(status).label}{': ' + error if error else ''}")
    job.save()
    usage = usage_job_finished(job) if was_active else None  # counted once, however many paths end the same job
    _finished(job, status, error=error, usage=usage)


def _finished(job: Job, status: str, *, error: str = "", usage: UsageNow | None, waiting: bool | None = None) -> None:
    """What follows a job's final write, however it was written: metrics, the event (with the job and the usage
    counter for the portal's own subscribers), the studio's next dispatch (not needed when `waiting` is False: the
    finish saw no job of the studio waiting), and the results dashboard's cached numbers are out of date."""
    ops_metrics.job_finished(job)
    publish(f"job.{status}", organization_id=job.organization_id, data=event_data(job, status, error=error),
            context={"job": job, "usage": usage})
    if waiting is not False:
        organization_id = job.organization_id
        transaction.on_commit(lambda: dispatch.studio_dispatch(organization_id))
    transaction.on_commit(results_cache.invalidate)


_SUCCEED_SQL = f"""
    WITH done AS (
        UPDATE {_JOBS} SET status = %(succeeded)s, summary = %(summary)s, error = '', finished_at = %(now)s,
            heartbeat_at = %(now)s, progress = 100, stage = %(stage)s, updated_at = %(now)s,
            compute_seconds = COALESCE(EXTRACT(EPOCH FROM %(now)s - started_at)::double precision, compute_seconds),
            log = RIGHT(log || %(line)s, %(log_max)s)
        WHERE id = %(id)s AND status = %(running)s AND (%(worker)s = '' OR worker = %(worker)s)
        RETURNING *
    ), counted AS (
        UPDATE {_USAGE} SET minutes = {_USAGE}.minutes + done.compute_seconds / 60 - done.estimated_minutes
        FROM done
        WHERE {_USAGE}.organization_id = done.organization_id
            AND {_USAGE}.month = date_trunc('month', done.queued_at AT TIME ZONE 'UTC')::date
        RETURNING {_USAGE}.month AS usage_month, {_USAGE}.jobs AS usage_jobs, {_USAGE}.minutes AS usage_minutes
    )
    SELECT done.*, counted.*, studio.monthly_job_quota AS job_quota, studio.monthly_compute_minutes AS minute_quota,
        EXISTS (SELECT 1 FROM {_JOBS} waiting WHERE waiting.organization_id = done.organization_id
                AND waiting.status = %(queued)s AND waiting.dispatched_at IS NULL) AS studio_waiting
    FROM done JOIN {_STUDIOS} studio ON studio.id = done.organization_id LEFT JOIN counted ON TRUE
"""  # noqa: S608 - table names from the models, values bound


def _succeed(job: Job, hostname: str, summary: dict) -> None:
    """The run's end: the job succeeds, if this worker still holds it (else LeaseLost), with `finish`'s writes.

    On PostgreSQL one statement does what `finish` does under the row lock: the final state and log line (only while
    the job runs under this worker), the month's usage, and whether a job of the studio waits for the freed slot."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            locked = _require_lease(job.pk, hostname)
            locked.summary = summary
            finish(locked, Status.SUCCEEDED, stage="Done")
        return
    now = timezone.now()
    params = {
        "succeeded": Status.SUCCEEDED, "running": Status.RUNNING, "queued": Status.QUEUED, "id": job.pk,
        "worker": hostname, "now": now, "stage": "Done", "line": stamped(Status.SUCCEEDED.label, now),
        "log_max": LOG_MAX, "summary": Job._meta.get_field("summary").get_db_prep_value(summary, connection),
    }
    done: Any = next(iter(Job.objects.raw(_SUCCEED_SQL, params)), None)  # a Job, with the statement's extra columns
    if done is None:
        raise LeaseLost
    usage = None
    if done.usage_month is not None:
        usage = UsageNow(done.usage_month, done.usage_jobs, done.usage_minutes, done.job_quota, done.minute_quota)
    _finished(done, Status.SUCCEEDED, usage=usage, waiting=done.studio_waiting)


class LeaseLost(Exception):
    """Another worker has taken the job over (this one was silent past its lease): stop, write nothing more."""


class _Lease:
    """A job this worker process runs, as the heartbeat sees it: `lost` is set once another worker has it."""

    def __init__(self, job_id: int, hostname: str, due: float):
        self.job_id = job_id
        self.hostname = hostname
        self.due = due  # when its next beat is due (time.monotonic())
        self.lost = threading.Event()


class _Heartbeats:
    """Marks the jobs this worker process runs alive every JOB_HEARTBEAT_SECONDS, even through a tool's long silent
    steps, while this worker still owns them (else the job's lease is `lost`).

    One daemon thread per process, started by its first job (after the pool forked the process) and kept: starting a
    thread for each job cost more than a short job's whole run. It holds a database connection only while a job
    it has beaten for runs, and closes it as soon as none does.
    """

    def __init__(self):
        self._leases: dict[int, _Lease] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.idle = threading.Event()  # set while no job runs and the thread holds no connection

    def watch(self, job_id: int, hostname: str) -> _Lease:
        lease = _Lease(job_id, hostname, time.monotonic() + settings.JOB_HEARTBEAT_SECONDS)
        with self._changed:
            self._leases[job_id] = lease
            self.idle.clear()
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="job-heartbeat", daemon=True)
                self._thread.start()
            self._changed.notify()
        return lease

    def release(self, lease: _Lease) -> None:
        with self._changed:
            if self._leases.get(lease.job_id) is lease:
                del self._leases[lease.job_id]
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._leases:
                    connection.close()  # nothing to beat for: hold no connection while the worker idles
                    self.idle.set()
                    self._changed.wait()
                    continue
                now = time.monotonic()
                due = [lease for lease in self._leases.values() if lease.due <= now]
                if not due:
                    self._changed.wait(min(lease.due for lease in self._leases.values()) - now)
                    continue
                for lease in due:
                    lease.due = now + settings.JOB_HEARTBEAT_SECONDS
            for lease in due:
                self._beat(lease)

    @staticmethod
    def _beat(lease: _Lease) -> None:
        try:
            mine = Job.objects.filter(pk=lease.job_id, status=Status.RUNNING, worker=lease.hostname)
            if not mine.update(heartbeat_at=timezone.now()):
                lease.lost.set()
        except Exception:  # a database hiccup: the next beat tries again; the lease lasts several beats
            logger.warning("job heartbeat failed", exc_info=True, extra={"job": lease.job_id})
            connection.close()


_heartbeats = _Heartbeats()


class _Progress:
    """The callback a tool reports through: throttled writes, and a cooperative cancel check."""

    def __init__(self, job: Job, heartbeat: _Lease | None = None):
        self.job = job
        self.heartbeat = heartbeat
        # The claim has just written the heartbeat and read the cancel flag: both throttles start from it.
        self.last_write = self.last_cancel_check = time.monotonic()
        self.lines: list[str] = []

    def __call__(self, percent: float = 0, stage: str = "", log: str | None = None) -> None:
        now = time.monotonic()
        if log:
            self.lines.append(f"{timezone.now():%H:%M:%S} {log}")
        if self.heartbeat is not None and self.heartbeat.lost.is_set():
            raise LeaseLost
        if now - self.last_cancel_check >= CANCEL_CHECK_INTERVAL:
            self.last_cancel_check = now
            if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
                raise JobCanceled
        if now - self.last_write >= PROGRESS_WRITE_INTERVAL or log:
            self.last_write = now
            self.flush(percent, stage)

    def flush_log(self) -> None:
        """Keep log lines the tool reported after the last write, whatever the job's state now."""
        if self.lines:
            with transaction.atomic():
                job = Job.objects.select_for_update().get(pk=self.job.pk)
                job.log = (job.log + "\n".join(self.lines) + "\n")[-200_000:]
                job.save(update_fields=["log"])
            self.lines = []

    def flush(self, percent: float | None = None, stage: str = "") -> None:
        updates = {"heartbeat_at": timezone.now()}
        if percent is not None:
            updates["progress"] = max(0, min(99, int(percent)))
        if stage:
            updates["stage"] = stage[:200]
        if self.lines:
            self.job.refresh_from_db(fields=["log"])
            updates["log"] = (self.job.log + "\n".join(self.lines) + "\n")[-200_000:]
            self.lines = []
        mine = Job.objects.filter(pk=self.job.pk, status=Status.RUNNING, worker=self.job.worker)
        if not mine.update(**updates) and Job.objects.filter(pk=self.job.pk, status=Status.RUNNING).exists():
            raise LeaseLost  # running, but under another worker: it was taken over


def _inputs(job: Job, tool, work: Path) -> list[ToolInput]:
    if getattr(job, "input_count", None) == 0:  # the claim counted them: a run on no file reads nothing
        return []
    store = get_store()
    inputs = []
    for job_input in job.job_inputs.select_related("asset").order_by("position"):
        asset = job_input.asset
        source_key, meta = asset.storage_key, asset
        proxy = None
        if getattr(tool, "prefers_proxy", False):
            proxy = Rendition.objects.filter(asset=asset, kind=Rendition.Kind.PROXY).first()
        if proxy is not None:
            source_key = proxy.storage_key
        work.mkdir(exist_ok=True)
        local = work / f"input-{job_input.position}"
        copy_to_file(store, source_key, local)
        audit_record(  # the studio's access log shows every run that read its material
            action=AuditEvent.Action.ASSET_TOOL_READ, actor=job.submitted_by, organization=job.organization,
            target=asset, detail={"job": job.pk, "tool": job.tool_slug, "tool_version": job.tool_version,
                                  "copy": "proxy" if proxy is not None else "original"},
        )
        inputs.append(ToolInput(
            path=local, kind=asset.kind, filename=asset.original_filename, sha256=job_input.sha256,
            duration=meta.duration_seconds, fps=meta.fps,
            width=proxy.width if proxy else meta.width, height=proxy.height if proxy else meta.height,
            digital_source_type=_origin_source_type(asset.pk),
        ))
    return inputs


def _origin_source_type(asset_id: int) -> str:
    """What the portal's provenance says an input is, when a job of ours made it ("" for the partner's media)."""
    from beta.output_provenance import recorded_source_type

    made_by = JobOutput.objects.filter(asset_id=asset_id).select_related("job").first()
    if made_by is None:
        return ""
    return recorded_source_type(tool_slug=made_by.job.tool_slug, role=made_by.role, summary=made_by.job.summary)


def _output_names(outputs) -> list[str]:
    """Each output's name within the job: its filename, with a suffix when a run names two files alike."""
    names: list[str] = []
    for output in outputs:
        base = (output.filename or output.path.name)[:240]
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}~{n}"
        names.append(name)
    return names


def output_asset_uuid(job: Job, name: str) -> uuid.UUID:
    """The same asset identity (and so the same storage keys) for an output each time a job stores it."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"greenlight:{job.organization.uuid}:job:{job.pk}:output:{name}")


def _store_outputs(job: Job, tool, result, inputs: list[ToolInput], hostname: str) -> None:
    """Idempotent per job: each output goes to keys fixed by (job, output name) and its asset row is created or
    replaced and linked to the job in one transaction, while this worker still holds the job. A retry after a dead
    attempt replaces what that attempt stored; outputs of an earlier attempt the retry did not make are removed."""
    from beta.output_provenance import run_has_ai_inputs, run_record, sign_tool_output

    names = _output_names(result.outputs)
    earlier_attempts = job.attempts > 1 or job.deliveries  # only an earlier attempt can have left outputs behind
    if not names and not earlier_attempts:
        return
    first_input = job.job_inputs.select_related("asset").order_by("position").first()
    derived_from = first_input.asset if first_input else None  # what the outputs stack under, with their maker
    derived_by = lineage_label(job.tool_slug, job.tool_version)
    record = run_record(
        tool=tool, inputs=inputs, parameters=job.parameters, organization=str(job.organization.uuid),
        job_id=str(job.pk), summary=result.summary, created_at=timezone.now(),
    )
    ai_inputs = run_has_ai_inputs(inputs, result.summary)
    for name, output in zip(names, result.outputs, strict=True):
        provenance = sign_tool_output(tool, output, record, ai_inputs=ai_inputs)

        def link(asset, output=output, name=name, provenance=provenance):
            _require_lease(job.pk, hostname)
            JobOutput.objects.update_or_create(job=job, name=name, defaults={
                "asset": asset, "role": output.role, "label": output.label[:200],
                "provenance_embedded": provenance.embedded, "provenance_key": keys.provenance_key(asset),
                "manifest_key": keys.manifest_key(asset),
            })

        asset_create_from_file(
            organization=job.organization, created_by=job.submitted_by, path=output.path, kind=output.kind,
            filename=output.filename or output.path.name, content_type=output.content_type,
            sidecar=provenance.sidecar_path, manifest=provenance.manifest_path,
            make_previews=output.kind in ("video", "image"), web_ready=output.web_ready,
            asset_uuid=output_asset_uuid(job, name), link=link, derived_from=derived_from, derived_by=derived_by,
        )
        _pause_for_drill(job, name)
    if earlier_attempts:
        _outputs_remove_stale(job, names)


def _require_lease(job_id: int, hostname: str) -> Job:
    """Lock the job row; LeaseLost unless this worker still runs it (a take-over makes the old worker write nothing)."""
    locked = Job.objects.select_for_update().get(pk=job_id)
    if locked.status != Status.RUNNING or (hostname and locked.worker != hostname):
        raise LeaseLost
    return locked


def _outputs_remove_stale(job: Job, names: list[str]) -> None:
    """Outputs a dead attempt stored that this run did not make again: unlinked, then removed with their bytes."""
    from assets.services import outputs_purge

    stale = list(JobOutput.objects.filter(job=job).exclude(name__in=names).values_list("asset_id", flat=True))
    if stale:
        JobOutput.objects.filter(job=job, asset_id__in=stale).delete()
        outputs_purge(queryset=Asset.objects.filter(pk__in=stale, output_of__isnull=True))


#: a drill hook (diagnostic deployments only): the storing stage touches this file and waits while it exists
STORING_PAUSE_ENV = "GREENLIGHT_DRILL_PAUSE_STORING"


def _pause_for_drill(job: Job, name: str) -> None:
    """With ENABLE_DIAGNOSTIC_TOOLS and the drill variable set to a folder, wait in the storing stage (an output
    stored, the job not finished) while `<folder>/job-<id>.pause` exists, so a test can kill the worker right there.
    The worker process announces itself in `<folder>/job-<id>.storing` (its pid and the output's name)."""
    folder = os.environ.get(STORING_PAUSE_ENV)
    if not (settings.ENABLE_DIAGNOSTIC_TOOLS and folder):
        return
    flag = Path(folder) / f"job-{job.pk}.pause"
    if flag.exists():
        (Path(folder) / f"job-{job.pk}.storing").write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
    deadline = time.monotonic() + 120
    while flag.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def job_execute(*, job_id: int, hostname: str = "", retry=None, task_id: str = "") -> str:
    """Claim, run and finish one job. `retry(countdown)` re-sends the task (Celery's retry) when asked to.

    A job parked on an external service is polled (`tool.poll`) instead of run again.
    """
    hostname = hostname or f"{socket.gethostname()}:{os.getpid()}"
    claimed = job_claim(job_id=job_id, hostname=hostname, task_id=task_id)
    if claimed is LATER:
        if retry is not None:
            retry(settings.JOB_HEARTBEAT_TIMEOUT)
        return "later"
    if claimed is None:
        return "skipped"
    job: Job = claimed
    tool = catalogue.get_tool(job.tool_slug)
    if tool is None:
        _fail(job, "This tool is no longer in the catalogue.")
        return "failed"
    # Inside a transaction nobody else can see the job: no heartbeat needed.
    heartbeat = None if connection.in_atomic_block else _heartbeats.watch(job.pk, hostname)
    progress = _Progress(job, heartbeat)
    try:
        return _run(job, tool, progress, hostname)
    except LeaseLost:
        logger.warning("job taken over by another worker", extra={"job": job.pk, "worker": hostname})
        return "superseded"  # another worker took the job over and finishes it
    except JobCanceled:
        with transaction.atomic():
            finish(Job.objects.select_for_update().get(pk=job.pk), Status.CANCELED, stage="Canceled")
        return "canceled"
    except ToolError as exc:
        return _tool_failed(job, exc, retry)
    except Exception as exc:
        return _crashed(job, tool, exc)
    finally:
        if heartbeat is not None:
            _heartbeats.release(heartbeat)
        progress.flush_log()


def _studio_of(job: Job) -> tuple[str, uuid.UUID]:
    """The job's studio's name and uuid: as the claim read them (`_claim_waiting`), else from its row."""
    claimed: Any = job  # with the claim's extra columns, when it came from `_claim_waiting`
    if getattr(claimed, "studio_uuid", None):
        return claimed.studio_name, claimed.studio_uuid
    return job.organization.name, job.organization.uuid


@contextmanager
def _scratch(job_id: int) -> Iterator[Path]:
    """The job's private scratch folder, with its `out` folder for the tool, removed after the run whatever happens.

    A run that leaves both folders empty (`ping`, a polled job) takes two `rmdir`s, not a tree walk: the walk cost
    a short job as much as one of its database statements."""
    work = Path(tempfile.mkdtemp(prefix=f"gl-job-{job_id}-"))
    try:
        (work / "out").mkdir()
        yield work
    finally:
        try:
            (work / "out").rmdir()
            work.rmdir()
        except OSError:  # something is left in it
            shutil.rmtree(work, onerror=_scratch_left)


def _scratch_left(function, path, exc_info) -> None:
    logger.warning("could not remove part of a job's scratch folder", extra={"path": path, "error": str(exc_info[1])})


def _run(job: Job, tool, progress: _Progress, hostname: str) -> str:
    """Run (or poll) the tool in a scratch folder, then park the job or store its outputs and finish it."""
    with _scratch(job.pk) as work:
        studio_name, studio_uuid = _studio_of(job)
        context = ToolContext(work_dir=work / "out", studio_name=studio_name, job_label=f"job {job.pk}",
                              storage_prefix=f"{keys.studio_prefix(studio_uuid)}jobs/{job.pk}/",
                              settings=ToolSettings(), render_template=render_template)
        pending = (job.summary or {}).get(PENDING_KEY)
        if pending:  # an external service has the work: ask it again (the inputs went with the first call)
            inputs = _input_fingerprints(job)
            result = tool.poll(pending, job.parameters, progress, context)
        else:
            progress(0, "Fetching the input files")
            inputs = _inputs(job, tool, work / "in")
            progress(1, "Running")
            result = tool.run(inputs, job.parameters, progress, context)
        if result.pending is not None:
            _job_park(job, result)
            return "waiting"
        if result.outputs:  # nothing to store: the finish follows at once
            progress.flush(99, "Storing the outputs")
        _store_outputs(job, tool, result, inputs, hostname)
        _succeed(job, hostname, result.summary)
    return "succeeded"


def _crashed(job: Job, tool, exc: Exception) -> str:
    """The tool raised something other than a ToolError: fail the job in words for the partner (Celery's Retry
    passes through)."""
    from celery.exceptions import Retry, SoftTimeLimitExceeded

    if isinstance(exc, Retry):
        raise exc
    if isinstance(exc, SoftTimeLimitExceeded):
        minutes = max(tool.soft_time_limit // 60, 1)
        error = f"The run took longer than the tool's limit of {minutes} minutes and was stopped."
    else:
        logger.error("job failed", exc_info=exc, extra={"job": job.pk, "tool": job.tool_slug})
        error = "The tool stopped unexpectedly. The AI Studio team has been told."
    _fail(job, error)
    return "failed"


def _fail(job: Job, error: str) -> None:
    with transaction.atomic():
        finish(Job.objects.select_for_update().get(pk=job.pk), Status.FAILED, error=error)


# --- Jobs parked on an external service (e.g. Amazon Bedrock's asynchronous video generation) -------------------------
PENDING_KEY = "pending"  # in job.summary: the tool's state while the service works; present only while parked


def is_parked(job: Job) -> bool:
    """Running, but no worker holds it: an external service is working and a poll task is scheduled."""
    return job.status == Status.RUNNING and not job.worker and bool((job.summary or {}).get(PENDING_KEY))


def _job_park(job: Job, result) -> None:
    """Keep the job running without a worker, and send a poll task (the job's task, again) after `poll_after` s.

    The poll task gets a new task id, so the sweeper finds it in the broker while it waits (and re-sends it if the
    broker lost it); the heartbeat is set now, and `job_claim` counts neither a delivery nor an attempt for it.
    """
    countdown = max(int(result.pending.get("poll_after") or settings.JOB_HEARTBEAT_SECONDS), 1)
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status != Status.RUNNING:
            return
        now = timezone.now()
        locked.summary = {**result.summary, PENDING_KEY: result.pending}
        locked.worker = ""
        locked.heartbeat_at = now
        locked.dispatched_at = now
        locked.celery_task_id = uuid.uuid4().hex
        locked.stage = str(result.pending.get("stage") or "Waiting for the service")[:200]
        locked.save()
        transaction.on_commit(lambda: dispatch.send(locked, countdown=countdown))


def _input_fingerprints(job: Job) -> list[ToolInput]:
    """The inputs as provenance needs them (their SHA-256), without fetching their bytes again."""
    return [ToolInput(path=Path(), kind="", filename="", sha256=sha256, digital_source_type=_origin_source_type(asset))
            for sha256, asset in job.job_inputs.order_by("position").values_list("sha256", "asset_id")]  # fmt: skip


def _tool_failed(job: Job, exc: ToolError, retry) -> str:
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if exc.transient and locked.attempts <= settings.JOB_MAX_RETRIES and retry is not None:
            countdown = settings.JOB_RETRY_BACKOFF * 2 ** (locked.attempts - 1)
            locked.status = Status.RETRYING
            locked.retry_at = timezone.now() + timedelta(seconds=countdown)
            locked.stage = f"Retrying in {countdown} s"
            log_line(locked, f"{exc} (will retry in {countdown} s)")
            locked.save()
            ops_metrics.job_retried(locked)
        else:
            finish(locked, Status.FAILED, error=str(exc))
            return "failed"
    retry(countdown)  # raises Celery's Retry: the task is sent again after the countdown
    return "retrying"

