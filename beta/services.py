"""Writes for the beta programme: submitting, dispatching, running, canceling and sweeping tool jobs.

The Job row is the source of truth. Submitting writes the row; the dispatcher sends jobs to the broker
within each studio's running limit (oldest first across studios); a worker claims a job under a row
lock, runs the tool with a progress callback, stores outputs with provenance and finishes the row.
The sweeper re-sends what the broker lost and takes back jobs whose worker died.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone

from assets import keys
from assets.models import Asset, Rendition
from assets.services import asset_create_from_file
from assets.storage import copy_to_file, get_store
from beta import tools as catalogue
from beta.errors import JobError, JobParameterError, QuotaError
from beta.models import Job, JobInput, JobOutput, ToolSwitch, WorkerHeartbeat
from beta.results import cache as results_cache
from beta.tool_settings import ToolSettings, render_template
from beta.tools.base import JobCanceled, ToolContext, ToolError, ToolInput
from ops import metrics as ops_metrics
from portal.cohorts import cohort_window
from portal.errors import PermissionDeniedError
from portal.events import publish
from portal.lifecycle import closed_message
from portal.models import AuditEvent, Membership, Organization, User
from portal.services import audit_record

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


# --- Catalogue -------------------------------------------------------------------------------------------------------
def tool_switch(slug: str) -> ToolSwitch:
    """The programme's switch for a tool; a tool without a row is on for every cohort (nothing written on reads)."""
    return ToolSwitch.objects.filter(slug=slug).first() or ToolSwitch(slug=slug)


def tool_availability(tool, organization: Organization | None) -> tuple[bool, str]:
    """Whether the studio may run the tool now, and if not, why (in words for the partner)."""
    if problem := tool.configuration_problem():
        return False, problem
    switch = tool_switch(tool.slug)
    if not switch.enabled:
        return False, switch.note or "This tool is paused by the programme team."
    if organization is None:
        return False, "You are not part of a studio."
    if not organization.is_active_in_beta:  # the job door of portal/lifecycle.py
        return False, closed_message(organization)
    window = cohort_window(organization)
    if window.state == "none":
        return False, "Your studio is not in a beta cohort yet."
    if window.state == "upcoming":
        return False, f"Your cohort opens on {window.opens_at:%d %B %Y}."
    if window.state == "closed":
        return False, "Your cohort has closed; the beta is read-only."
    if switch.pk and not switch.all_cohorts and not switch.cohorts.filter(pk=organization.cohort_id).exists():
        return False, "This tool is not offered to your cohort."
    return True, ""


def validate_parameters(tool, parameters: dict) -> dict:
    """The parameters with defaults filled in, checked against the tool's JSON Schema."""
    from jsonschema import Draft202012Validator

    if not isinstance(parameters, dict):
        raise JobParameterError("", "Parameters must be an object.")
    data = {**tool.defaults(), **parameters}
    errors = sorted(Draft202012Validator(tool.parameters).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        field = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            unknown = sorted(set(data) - set(tool.parameters.get("properties", {})))
            raise JobParameterError(unknown[0] if unknown else "", "is not a parameter of this tool.")
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator in ("minimum", "maximum") and {"minimum", "maximum"} <= set(schema):
            raise JobParameterError(field, f"must be between {schema['minimum']} and {schema['maximum']}.")
        raise JobParameterError(field, error.message)
    return data


def _month_start(now):
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _usage_this_month(organization: Organization, now) -> tuple[int, float]:
    usage = Job.objects.filter(organization=organization, queued_at__gte=_month_start(now)).aggregate(
        count=Count("id"),
        seconds=Sum("compute_seconds"),
        pending=Sum("estimated_minutes", filter=Q(status__in=Job.ACTIVE)),
    )
    return usage["count"], (usage["seconds"] or 0) / 60 + (usage["pending"] or 0)


def _estimate_minutes(tool, assets: list[Asset]) -> float:
    media_minutes = sum((a.duration_seconds or 60) for a in assets) / 60
    return round(max(media_minutes * tool.cost_factor, 0.1), 2)


# --- Submit ----------------------------------------------------------------------------------------------------------
def job_submit(
    *,
    actor: User,
    tool_slug: str,
    asset_ids: list[int],
    parameters: dict | None = None,
    idempotency_key: str | None = None,
    retry_of: Job | None = None,
    request=None,
) -> Job:
    """Check everything, write the job, and dispatch it after commit. Nothing is created when a check fails."""
    membership = Membership.objects.filter(user=actor).select_related("organization", "organization__cohort").first()
    if membership is None:
        raise PermissionDeniedError("You are not part of a studio.")
    if membership.role == Membership.Role.VIEWER:
        raise PermissionDeniedError("Viewers cannot run tools; ask your studio's owner for the member role.")
    organization = membership.organization
    tool = catalogue.get_tool(str(tool_slug))
    if tool is None:
        raise JobError(f"There is no tool called “{tool_slug}”.")
    available, reason = tool_availability(tool, organization)
    if not available:
        raise JobError(reason)
    if idempotency_key:
        idempotency_key = str(idempotency_key)[:100]
        existing = Job.objects.filter(organization=organization, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if not isinstance(asset_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in asset_ids):
        raise JobError("Choose the files to run the tool on.")
    if not tool.min_inputs <= len(asset_ids) <= tool.max_inputs:
        wanted = tool.min_inputs if tool.min_inputs == tool.max_inputs else f"{tool.min_inputs} to {tool.max_inputs}"
        raise JobError(f"{tool.name} takes {wanted} file(s); {len(asset_ids)} chosen.")
    found = {a.pk: a for a in Asset.objects.for_user(actor).filter(pk__in=asset_ids, organization=organization)}
    assets = []
    for asset_id in asset_ids:
        asset = found.get(asset_id)
        if asset is None:
            raise JobError(f"File {asset_id} is not one of your studio's files.")
        if asset.status != Asset.Status.READY:
            raise JobError(f"{asset.original_filename} is {asset.get_status_display().lower()}, not ready.")
        if asset.kind not in tool.input_kinds:
            kinds = ", ".join(tool.input_kinds)
            raise JobError(
                f"{tool.name} works on {kinds}; {asset.original_filename} is {asset.get_kind_display().lower()}."
            )
        assets.append(asset)
    data = validate_parameters(tool, parameters or {})
    estimate = _estimate_minutes(tool, assets)
    try:
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=organization.pk)
            now = timezone.now()
            count, minutes = _usage_this_month(organization, now)
            if count >= organization.monthly_job_quota:
                raise QuotaError(
                    f"Your studio has run {count} of its {organization.monthly_job_quota} jobs this month."
                )
            if minutes + estimate > organization.monthly_compute_minutes:
                raise QuotaError(
                    f"This run needs about {estimate:.0f} compute minutes; your studio has used {minutes:.0f} of "
                    f"{organization.monthly_compute_minutes} this month."
                )
            job = Job.objects.create(
                organization=organization, submitted_by=actor, tool_slug=tool.slug, tool_version=tool.version,
                queue=tool.queue, parameters=data, idempotency_key=idempotency_key or None,
                estimated_minutes=estimate, retry_of=retry_of, stage="Waiting for a free slot",
            )
            JobInput.objects.bulk_create(
                [JobInput(job=job, asset=a, position=i, sha256=a.sha256) for i, a in enumerate(assets)]
            )
            publish("job.queued", organization_id=organization.pk, data=_event_data(job, Status.QUEUED))
            _dispatch_studio(organization)  # the studio row is locked already: send it now if a slot is free
    except IntegrityError:
        existing = Job.objects.filter(organization=organization, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return job


# --- Dispatch (fair share) -------------------------------------------------------------------------------------------
def _send(job: Job, countdown: int | None = None) -> None:
    from beta.tasks import run_job

    tool = catalogue.get_tool(job.tool_slug)
    run_job.apply_async(
        args=(job.pk,), queue=job.queue, task_id=job.celery_task_id, countdown=countdown,
        soft_time_limit=tool.soft_time_limit if tool else None, time_limit=tool.time_limit if tool else None,
    )


def _busy(organization_id: int) -> int:
    return Job.objects.filter(organization_id=organization_id).filter(
        Q(status=Status.RUNNING) | Q(status__in=[Status.QUEUED, Status.RETRYING], dispatched_at__isnull=False)
    ).count()


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
            sent += _dispatch_studio(Organization.objects.select_for_update().get(pk=row["organization_id"]))
    return sent


def _dispatch_studio(organization: Organization) -> int:
    """Send the studio's oldest waiting jobs into its free slots. The caller holds the studio's row lock."""
    free = organization.max_concurrent_jobs - _busy(organization.pk)
    if free <= 0:
        return 0
    jobs = list(
        Job.objects.select_for_update(skip_locked=True)
        .filter(organization=organization, status=Status.QUEUED, dispatched_at__isnull=True)
        .order_by("queued_at", "id")[:free]
    )
    for job in jobs:
        job.dispatched_at = timezone.now()
        job.celery_task_id = uuid.uuid4().hex
        job.stage = "Queued for a worker"
        job.save(update_fields=["dispatched_at", "celery_task_id", "stage", "updated_at"])
        transaction.on_commit(lambda job=job: _send(job))
    return len(jobs)


# --- Run (in a worker) -----------------------------------------------------------------------------------------------
LATER = object()


def job_claim(*, job_id: int, hostname: str, task_id: str = "") -> Job | object | None:
    """Take the job under a row lock. None: nothing to do. LATER: another worker holds it (try again later).

    A job parked on an external service (see `_job_park`) is taken by its current poll task without counting a
    delivery or an attempt: waiting is not a worker dying. Only the job's current task id claims it: a message the
    sweeper has replaced (or an older poll task) does nothing when it is delivered, however late.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in Job.FINISHED:
            return None
        now = timezone.now()
        if job.cancel_requested:
            _finish(job, Status.CANCELED, stage="Canceled")
            return None
        parked = _parked(job)
        if task_id and job.celery_task_id and task_id != job.celery_task_id:
            return None  # an older message of this job (re-sent since by the sweeper, or a finished poll)
        if job.status == Status.RUNNING and not parked:
            timeout = timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
            if job.heartbeat_at and now - job.heartbeat_at < timeout:
                return LATER
            job.deliveries += 1  # its last worker died mid-job
            _log(job, f"The worker running this job stopped; taking it over ({job.deliveries}).")
            if job.deliveries >= settings.JOB_MAX_DELIVERIES:
                _finish(job, Status.FAILED, error=(
                    f"The tool stopped its worker {job.deliveries} times, so it was not tried again. "
                    "The AI Studio team has been told."
                ))
                return None
        job.status = Status.RUNNING
        if job.started_at is None:  # the first start only: not a retry, a take-over or a poll
            publish("job.started", organization_id=job.organization_id, data=_event_data(job, Status.RUNNING))
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.attempts += 0 if parked else 1
        job.worker = hostname
        job.stage = "Starting"
        job.save()
    return job


def _log(job: Job, line: str) -> None:
    stamp = timezone.now().strftime("%H:%M:%S")
    job.log = (job.log + f"{stamp} {line}\n")[-200_000:]


def _finish(job: Job, status: str, *, error: str = "", stage: str = "") -> None:
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
    _log(job, f"{Status(status).label}{': ' + error if error else ''}")
    job.save()
    ops_metrics.job_finished(job)
    publish(f"job.{status}", organization_id=job.organization_id, data=_event_data(job, status, error=error))
    job_id = job.pk
    transaction.on_commit(jobs_dispatch)
    transaction.on_commit(results_cache.invalidate)  # the results dashboard's cached numbers are out of date
    if job.submitted_by_id:
        transaction.on_commit(lambda: _email_finished(job_id))


def _event_data(job: Job, status: str, *, error: str = "") -> dict:
    """What a webhook says about a job (ids and states only, never file contents)."""
    data = {"job_id": job.pk, "status": str(status), "tool": job.tool_slug, "tool_version": job.tool_version}
    return data | ({"error": error} if error else {})


def _email_finished(job_id: int) -> None:
    job = Job.objects.select_related("submitted_by").filter(pk=job_id).first()
    if job is None or job.submitted_by is None or job.status == Status.CANCELED:
        return
    tool = catalogue.get_tool(job.tool_slug)
    name = tool.name if tool else job.tool_slug
    outcome = "finished" if job.status == Status.SUCCEEDED else "failed"
    url = settings.SITE_URL + reverse("beta:job-detail", args=[job.pk])
    body = f"Your {name} job {outcome}.\n\n"
    if job.error:
        body += f"What went wrong: {job.error}\n\n"
    body += f"See it here: {url}\n\n— {settings.PORTAL_NAME}"
    send_mail(f"{name}: job {job.pk} {outcome}", body, None, [job.submitted_by.email], fail_silently=True)


class LeaseLost(Exception):
    """Another worker has taken the job over (this one was silent past its lease): stop, write nothing more."""


class _Heartbeat(threading.Thread):
    """Marks the job alive while the tool works, even through long silent steps; only while this worker owns it."""

    def __init__(self, job_id: int, hostname: str):
        super().__init__(daemon=True)
        self.job_id = job_id
        self.hostname = hostname
        self.stopped = threading.Event()
        self.lost = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                if not Job.objects.filter(pk=self.job_id, status=Status.RUNNING, worker=self.hostname).update(
                    heartbeat_at=timezone.now()
                ):
                    self.lost.set()
                    return
        finally:
            connection.close()

    def stop(self):
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=10)


class _Progress:
    """The callback a tool reports through: throttled writes, and a cooperative cancel check."""

    def __init__(self, job: Job, heartbeat: _Heartbeat | None = None):
        self.job = job
        self.heartbeat = heartbeat
        self.last_write = 0.0
        self.last_cancel_check = 0.0
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
        ))
    return inputs


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
    from assets.provenance import RunRecord, sign_output

    record = RunRecord(
        tool=tool.slug, tool_version=tool.version, inputs_sha256=tuple(i.sha256 for i in inputs if i.sha256),
        parameters=job.parameters, organization=str(job.organization.uuid), job_id=str(job.pk),
        created_at=timezone.now(),
    )
    names = _output_names(result.outputs)
    for name, output in zip(names, result.outputs, strict=True):
        provenance = sign_output(output.path, record)

        def link(asset, output=output, name=name, provenance=provenance):
            _require_lease(job.pk, hostname)
            JobOutput.objects.update_or_create(job=job, name=name, defaults={
                "asset": asset, "role": output.role, "label": output.label[:200],
                "provenance_embedded": provenance.embedded, "provenance_key": keys.provenance_key(asset),
            })

        asset_create_from_file(
            organization=job.organization, created_by=job.submitted_by, path=output.path, kind=output.kind,
            filename=output.filename or output.path.name, content_type=output.content_type,
            sidecar=provenance.sidecar_path, make_previews=output.kind in ("video", "image"),
            web_ready=output.web_ready, asset_uuid=output_asset_uuid(job, name), link=link,
        )
        _pause_for_drill(job, name)
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


def job_outputs_purge_orphans(*, now=None) -> int:
    """Sweep: tool outputs linked to no job and older than the lease are removed (bytes too); none counts against
    the quota or shows in the library. Outputs are linked as they are saved, so these come only from deleted jobs
    or from versions before that rule."""
    from assets.services import outputs_purge

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    return outputs_purge(queryset=Asset.objects.filter(origin="output", output_of__isnull=True, created_at__lt=cutoff))


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
    hostname = hostname or f"{socket.gethostname()}:{__import__('os').getpid()}"
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
        with transaction.atomic():
            _finish(Job.objects.select_for_update().get(pk=job.pk), Status.FAILED,
                    error="This tool is no longer in the catalogue.")
        return "failed"
    heartbeat = _Heartbeat(job.pk, hostname)
    if not connection.in_atomic_block:  # inside a transaction nobody else can see the job: no heartbeat needed
        heartbeat.start()
    progress = _Progress(job, heartbeat)
    outcome = "succeeded"
    try:
        with tempfile.TemporaryDirectory(prefix=f"gl-job-{job.pk}-") as tmp:
            work = Path(tmp)
            (work / "out").mkdir()
            context = ToolContext(work_dir=work / "out", studio_name=job.organization.name, job_label=f"job {job.pk}",
                                  storage_prefix=f"{keys.organization_prefix(job.organization)}jobs/{job.pk}/",
                                  settings=ToolSettings(), render_template=render_template)
            pending = (job.summary or {}).get(PENDING_KEY)
            if pending:  # an external service has the work: ask it again (the inputs went with the first call)
                inputs = _input_fingerprints(job)
                result = tool.poll(pending, job.parameters, progress, context)
            else:
                progress(0, "Fetching the input files")
                (work / "in").mkdir()
                inputs = _inputs(job, tool, work / "in")
                progress(1, "Running")
                result = tool.run(inputs, job.parameters, progress, context)
            if result.pending is not None:
                outcome = "waiting"
                _job_park(job, result)
            else:
                progress.flush(99, "Storing the outputs")
                _store_outputs(job, tool, result, inputs, hostname)
                with transaction.atomic():
                    locked = _require_lease(job.pk, hostname)
                    locked.summary = result.summary
                    _finish(locked, Status.SUCCEEDED, stage="Done")
    except LeaseLost:
        outcome = "superseded"  # another worker took the job over and finishes it
        logger.warning("job taken over by another worker", extra={"job": job.pk, "worker": hostname})
    except JobCanceled:
        outcome = "canceled"
        with transaction.atomic():
            _finish(Job.objects.select_for_update().get(pk=job.pk), Status.CANCELED, stage="Canceled")
    except ToolError as exc:
        outcome = _tool_failed(job, exc, retry)
    except Exception as exc:
        from celery.exceptions import Retry, SoftTimeLimitExceeded

        if isinstance(exc, Retry):
            raise
        outcome = "failed"
        if isinstance(exc, SoftTimeLimitExceeded):
            minutes = max(tool.soft_time_limit // 60, 1)
            error = f"The run took longer than the tool's limit of {minutes} minutes and was stopped."
        else:
            logger.exception("job failed", extra={"job": job.pk, "tool": job.tool_slug})
            error = "The tool stopped unexpectedly. The AI Studio team has been told."
        with transaction.atomic():
            _finish(Job.objects.select_for_update().get(pk=job.pk), Status.FAILED, error=error)
    finally:
        heartbeat.stop()
        progress.flush_log()
    return outcome


# --- Jobs parked on an external service (e.g. Amazon Bedrock's asynchronous video generation) -------------------------
PENDING_KEY = "pending"  # in job.summary: the tool's state while the service works; present only while parked


def _parked(job: Job) -> bool:
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
        transaction.on_commit(lambda: _send(locked, countdown=countdown))


def _input_fingerprints(job: Job) -> list[ToolInput]:
    """The inputs as provenance needs them (their SHA-256), without fetching their bytes again."""
    return [ToolInput(path=Path(), kind="", filename="", sha256=sha256)
            for sha256 in job.job_inputs.order_by("position").values_list("sha256", flat=True)]


def _tool_failed(job: Job, exc: ToolError, retry) -> str:
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if exc.transient and locked.attempts <= settings.JOB_MAX_RETRIES and retry is not None:
            countdown = settings.JOB_RETRY_BACKOFF * 2 ** (locked.attempts - 1)
            locked.status = Status.RETRYING
            locked.retry_at = timezone.now() + timedelta(seconds=countdown)
            locked.stage = f"Retrying in {countdown} s"
            _log(locked, f"{exc} (will retry in {countdown} s)")
            locked.save()
            ops_metrics.job_retried(locked)
        else:
            _finish(locked, Status.FAILED, error=str(exc))
            return "failed"
    retry(countdown)  # raises Celery's Retry: the task is sent again after the countdown
    return "retrying"


# --- Cancel and retry ------------------------------------------------------------------------------------------------
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
            _finish(job, Status.CANCELED, stage="Canceled")
            if task_id:
                transaction.on_commit(lambda: _revoke(task_id))
        else:
            job.stage = "Canceling…"
            _log(job, f"Cancel requested by {actor.email}")
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


# --- Sweeper ---------------------------------------------------------------------------------------------------------
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
                _log(locked, "Sent to a worker again: the queue had lost it.")
            else:
                _log(locked, "Sent to a worker again: its worker went silent (lease expired).")
            locked.celery_task_id = uuid.uuid4().hex
            locked.dispatched_at = now
            locked.save(update_fields=["celery_task_id", "dispatched_at", "log", "updated_at"])
            transaction.on_commit(lambda locked=locked: _send(locked))
            ops_metrics.job_resent(locked)
            resent += 1
    return {"resent": resent, "dispatched": jobs_dispatch(), "orphans_removed": job_outputs_purge_orphans(now=now)}


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
    if _parked(job):  # nobody beats while the external service works: the poll was due after poll_after
        poll_after = int((job.summary or {}).get(PENDING_KEY, {}).get("poll_after") or 0)
        return since + timedelta(seconds=poll_after) + lease < now
    return since + lease < now
