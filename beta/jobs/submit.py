"""Submitting a job: who may, on what, with which parameters, within the studio's monthly quotas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from assets.models import Asset
from beta import selectors
from beta import tools as catalogue
from beta.errors import BulkSubmitError, InputNotFoundError, JobError, JobParameterError, QuotaError
from beta.jobs import dispatch
from beta.jobs.common import Status, event_data
from beta.models import Job, JobInput, StudioUsage
from portal import selectors as portal_selectors
from portal.errors import PermissionDeniedError
from portal.events import publish
from portal.models import Membership, Organization, User

_validators: dict = {}  # tool slug -> its schema's validator (built once per process, not per submit)


def validate_parameters(tool, parameters: dict) -> dict:
    """The parameters with defaults filled in, checked against the tool's JSON Schema."""
    from jsonschema import Draft202012Validator

    if not isinstance(parameters, dict):
        raise JobParameterError("", "Parameters must be an object.")
    data = {**tool.defaults(), **parameters}
    validator = _validators.get(tool.slug)
    if validator is None or validator.schema is not tool.parameters:
        validator = _validators[tool.slug] = Draft202012Validator(tool.parameters)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
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


# --- Monthly usage (a counter per studio and month) ---------------------------------------------------------------
def usage_month(moment: datetime) -> date:
    """The usage month a moment falls in: its first day, in UTC (what `StudioUsage.month` holds)."""
    return moment.astimezone(UTC).date().replace(day=1)


@dataclass(frozen=True)
class UsageNow:
    """A studio's month just after a change to its counter, with the limits it is measured against: what the quota
    alerts need (beta.notifications), handed over in the job event's context so nothing is read again."""

    month: date
    jobs: int
    minutes: float
    job_quota: int
    minute_quota: int


_USAGE = StudioUsage._meta.db_table
_STUDIOS = Organization._meta.db_table
_RESERVE_SQL = f"""
    UPDATE {_USAGE} SET jobs = jobs + 1, minutes = minutes + %s
    WHERE organization_id = %s AND month = %s AND jobs < %s AND minutes <= %s
    RETURNING jobs, minutes, {{busy}}, {{waiting}}
"""  # noqa: S608 - table names from the models, values bound
_FINISHED_SQL = f"""
    UPDATE {_USAGE} SET minutes = minutes + %s WHERE organization_id = %s AND month = %s
    RETURNING jobs, minutes,
        (SELECT monthly_job_quota FROM {_STUDIOS} WHERE {_STUDIOS}.id = {_USAGE}.organization_id),
        (SELECT monthly_compute_minutes FROM {_STUDIOS} WHERE {_STUDIOS}.id = {_USAGE}.organization_id)
"""  # noqa: S608 - table names from the models, values bound


def _reserve_quota(organization: Organization, estimate: float) -> tuple[UsageNow, int, int]:
    """Count one job and its estimate against the studio's month, or QuotaError with the numbers. Returns the counter
    as it now stands, and the studio's load (`dispatch.studio_load`: jobs holding a slot, jobs waiting for one).

    One conditional UPDATE: the database checks both limits and adds to the counter atomically, and the updated row
    stays locked until the submit commits, so concurrent submits of a studio cannot both take the last job. The
    caller holds the studio's row lock, so the load it counts (a new statement, a new snapshot) is exact too.
    """
    month = usage_month(timezone.now())
    job_quota, minute_quota = organization.monthly_job_quota, organization.monthly_compute_minutes
    busy_sql, busy_params, waiting_sql, waiting_params = dispatch.studio_load_sql(organization.pk)
    sql = _RESERVE_SQL.format(busy=busy_sql, waiting=waiting_sql)
    params = [estimate, organization.pk, month, job_quota, minute_quota - estimate, *busy_params, *waiting_params]
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None:
            return UsageNow(month, row[0], row[1], job_quota, minute_quota), row[2], row[3]
        usage = StudioUsage.objects.filter(organization=organization, month=month).first()
        if usage is not None:
            _refuse(organization, usage, estimate)
        StudioUsage.objects.bulk_create([StudioUsage(organization=organization, month=month)], ignore_conflicts=True)
    raise AssertionError("unreachable: the month's usage row exists after the insert")  # pragma: no cover


def _refuse(organization: Organization, usage: StudioUsage, estimate: float) -> None:
    if usage.jobs >= organization.monthly_job_quota:
        raise QuotaError(f"Your studio has run {usage.jobs} of its {organization.monthly_job_quota} jobs this month.")
    raise QuotaError(
        f"This run needs about {estimate:.0f} compute minutes; your studio has used {usage.minutes:.0f} of "
        f"{organization.monthly_compute_minutes} this month."
    )


def usage_job_finished(job: Job) -> UsageNow | None:
    """A job left the active states: its month's minutes swap its estimate for the compute time it took. Returns the
    counter as it now stands (None if the month has no counter, which only a job older than counters can meet)."""
    month = usage_month(job.queued_at)
    with connection.cursor() as cursor:
        cursor.execute(_FINISHED_SQL, [job.compute_seconds / 60 - job.estimated_minutes, job.organization_id, month])
        row = cursor.fetchone()
    return UsageNow(month, *row) if row is not None else None


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
    organization = _submitter_studio(actor)
    tool = _available_tool(tool_slug, organization)
    if idempotency_key:
        idempotency_key = str(idempotency_key)[:100]
        existing = _job_with_key(organization, idempotency_key)
        if existing is not None:
            return existing
    assets = _checked_assets(actor, organization, tool, asset_ids)
    data = validate_parameters(tool, parameters or {})
    estimate = _estimate_minutes(tool, assets)
    try:
        with transaction.atomic():
            max_running = _lock_studio(organization)
            usage, busy, waiting = _reserve_quota(organization, estimate)
            job = _job_insert(organization=organization, actor=actor, tool=tool, assets=assets, parameters=data,
                              idempotency_key=idempotency_key, estimate=estimate, retry_of=retry_of, usage=usage,
                              max_running=max_running, busy=busy, waiting=waiting)
    except IntegrityError:
        existing = _job_with_key(organization, idempotency_key)
        if existing is None:
            raise
        return existing
    return job


_LOCK_SQL = f"SELECT max_concurrent_jobs FROM {_STUDIOS} WHERE id = %s"  # noqa: S608 - table name from the model


def _lock_studio(organization: Organization) -> int:
    """Take the studio's row lock, as the dispatcher takes it (held to the commit); returns its concurrent-job limit,
    as it stands now."""
    sql = _LOCK_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization.pk])
        row = cursor.fetchone()
    if row is None:
        raise PermissionDeniedError("Your studio is no longer in the beta.")
    return row[0]


def _submitter_studio(actor: User) -> Organization:
    """The actor's studio, if the actor may run tools there."""
    membership = portal_selectors.membership_of(actor) if actor.is_authenticated else None
    if membership is None:
        raise PermissionDeniedError("You are not part of a studio.")
    if membership.role == Membership.Role.VIEWER:
        raise PermissionDeniedError("Viewers cannot run tools; ask your studio's owner for the member role.")
    return membership.organization


def _available_tool(tool_slug: str, organization: Organization):
    tool = catalogue.get_tool(str(tool_slug))
    if tool is None:
        raise JobError(f"There is no tool called “{tool_slug}”.")
    available, reason = selectors.tool_availability(tool, organization)
    if not available:
        raise JobError(reason)
    return tool


def _job_with_key(organization: Organization, idempotency_key: str | None) -> Job | None:
    return Job.objects.filter(organization=organization, idempotency_key=idempotency_key).first()


def _checked_assets(actor: User, organization: Organization, tool, asset_ids) -> list[Asset]:
    """The chosen assets in order: the studio's own, ready, of a kind the tool takes, as many as it takes."""
    if not isinstance(asset_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in asset_ids):
        raise JobError("Choose the files to run the tool on.")
    if not tool.min_inputs <= len(asset_ids) <= tool.max_inputs:
        wanted = tool.min_inputs if tool.min_inputs == tool.max_inputs else f"{tool.min_inputs} to {tool.max_inputs}"
        raise JobError(f"{tool.name} takes {wanted} file(s); {len(asset_ids)} chosen.")
    # What `Asset.objects.for_user(actor)` would allow, without reading the memberships again: the actor belongs
    # to `organization` (just read), so an active actor sees its assets.
    visible = actor.is_authenticated and actor.is_active and asset_ids
    found = studio_assets(organization, asset_ids) if visible else {}
    return [_checked_asset(found.get(asset_id), asset_id, tool) for asset_id in asset_ids]


def studio_assets(organization: Organization, asset_ids) -> dict[int, Asset]:
    """The studio's own files among these ids, by id: the one lookup a submit, a pre-selecting link (`?input=`,
    `?asset=`) and a run on several files share, so another studio's id is never found."""
    return {a.pk: a for a in Asset.objects.filter(pk__in=asset_ids, organization=organization)
            .select_related("lineage_root")}


def inputs_for_link(*, organization: Organization | None, tool, asset_ids: list[int]) -> tuple[list[Asset], list[str]]:
    """The files a link asks the run form to pre-select, checked as a submit checks them: those that fit, and a
    sentence for each that does not (not ready, or a kind the tool does not take). InputNotFoundError when an id is
    not one of the studio's files."""
    found = studio_assets(organization, asset_ids) if organization is not None else {}
    if any(asset_id not in found for asset_id in asset_ids):
        raise InputNotFoundError("That file is not one of your studio's files.")
    fitting, problems = [], []
    for asset_id in dict.fromkeys(asset_ids):
        try:
            fitting.append(_checked_asset(found[asset_id], asset_id, tool))
        except JobError as exc:
            problems.append(f"{exc} It is left out.")
    return fitting, problems


#: how many files one run on several files may take (each becomes a job, counted against the quota)
MAX_FILES_PER_BULK_RUN = 50


def job_submit_each(
    *,
    actor: User,
    tool_slug: str,
    asset_ids: list[int],
    parameters: dict | None = None,
    idempotency_key: str | None = None,
    request=None,
) -> list[Job]:
    """Run a one-file tool on several files: one job per file, each through `job_submit` (so quotas, availability
    and idempotency hold per job: the same key sent again gives back the same jobs). Every file and the parameters
    are checked before any job is made; a quota reached part-way raises BulkSubmitError with the jobs made."""
    organization = _submitter_studio(actor)
    tool = _available_tool(tool_slug, organization)
    if not isinstance(asset_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in asset_ids):
        raise JobError("Choose the files to run the tool on.")
    asset_ids = list(dict.fromkeys(asset_ids))
    if not asset_ids:
        raise JobError("Choose the files to run the tool on.")
    if len(asset_ids) > MAX_FILES_PER_BULK_RUN:
        raise JobError(f"Choose at most {MAX_FILES_PER_BULK_RUN} files at a time; {len(asset_ids)} chosen.")
    found = studio_assets(organization, asset_ids)
    misfits = []
    for asset_id in asset_ids:
        try:
            _checked_asset(found.get(asset_id), asset_id, tool)
        except JobError as exc:
            misfits.append(str(exc))
    if misfits:
        raise JobError(" ".join(misfits) + " No job was created; leave those files out and run again.")
    validate_parameters(tool, parameters or {})
    jobs: list[Job] = []
    for asset_id in asset_ids:
        key = f"{str(idempotency_key)[:79]}:{asset_id}" if idempotency_key else None
        try:
            jobs.append(job_submit(actor=actor, tool_slug=tool.slug, asset_ids=[asset_id], parameters=parameters,
                                   idempotency_key=key, request=request))
        except JobError as exc:
            made = f" {len(jobs)} of the {len(asset_ids)} jobs were queued before it." if jobs else ""
            raise BulkSubmitError(f"{exc}{made}", jobs=jobs) from exc
    return jobs


def _checked_asset(asset: Asset | None, asset_id: int, tool) -> Asset:
    if asset is None:
        raise JobError(f"File {asset_id} is not one of your studio's files.")
    if asset.status != Asset.Status.READY:
        raise JobError(f"{asset.original_filename} is {asset.get_status_display().lower()}, not ready.")
    if asset.kind not in tool.input_kinds:
        kinds = ", ".join(tool.input_kinds)
        raise JobError(
            f"{tool.name} works on {kinds}; {asset.original_filename} is {asset.get_kind_display().lower()}."
        )
    return asset


def _job_insert(*, organization: Organization, actor: User, tool, assets: list[Asset], parameters: dict,
                idempotency_key: str | None, estimate: float, retry_of: Job | None, usage: UsageNow,
                max_running: int, busy: int, waiting: int) -> Job:
    """Write the job and its inputs, already dispatched when the studio has a free slot and nothing older waits.

    The caller holds the studio's row lock (as the dispatcher takes it) from counting its slots (`busy`, `waiting`)
    to the commit, so a submit and a finishing job's dispatch never both fill the last slot.
    """
    free = max_running - busy
    job = Job(
        organization=organization, submitted_by=actor, tool_slug=tool.slug, tool_version=tool.version,
        queue=tool.queue, parameters=parameters, idempotency_key=idempotency_key or None,
        estimated_minutes=estimate, retry_of=retry_of, stage="Waiting for a free slot",
    )
    if free > waiting:  # a slot for every older waiting job, and one for this one
        dispatch.mark_dispatched(job)
    job.save(force_insert=True)
    JobInput.objects.bulk_create(
        [JobInput(job=job, asset=a, position=i, sha256=a.sha256) for i, a in enumerate(assets)]
    )
    publish("job.queued", organization_id=organization.pk, data=event_data(job, Status.QUEUED),
            context={"job": job, "usage": usage})
    if job.dispatched_at is not None:
        transaction.on_commit(lambda: dispatch.send(job))
    if waiting and free > 0:  # older jobs wait (a finish's dispatch has not run yet): they go first
        dispatch.dispatch_studio(organization, max_running=max_running)
    return job
