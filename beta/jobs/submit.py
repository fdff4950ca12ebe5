"""Submitting a job: who may, on what, with which parameters, within the studio's monthly quotas."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from assets.models import Asset
from beta import selectors
from beta import tools as catalogue
from beta.errors import JobError, JobParameterError, QuotaError
from beta.jobs.common import Status, event_data
from beta.jobs.dispatch import dispatch_studio
from beta.models import Job, JobInput
from portal.errors import PermissionDeniedError
from portal.events import publish
from portal.models import Membership, Organization, User


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
            organization = Organization.objects.select_for_update().get(pk=organization.pk)
            _check_quotas(organization, estimate)
            job = _job_insert(organization=organization, actor=actor, tool=tool, assets=assets, parameters=data,
                              idempotency_key=idempotency_key, estimate=estimate, retry_of=retry_of)
            dispatch_studio(organization)  # the studio row is locked already: send it now if a slot is free
    except IntegrityError:
        existing = _job_with_key(organization, idempotency_key)
        if existing is None:
            raise
        return existing
    return job


def _submitter_studio(actor: User) -> Organization:
    """The actor's studio, if the actor may run tools there."""
    membership = Membership.objects.filter(user=actor).select_related("organization", "organization__cohort").first()
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
    found = {a.pk: a for a in Asset.objects.for_user(actor).filter(pk__in=asset_ids, organization=organization)}
    return [_checked_asset(found.get(asset_id), asset_id, tool) for asset_id in asset_ids]


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


def _check_quotas(organization: Organization, estimate: float) -> None:
    """QuotaError when the studio's monthly jobs or compute minutes would be exceeded. The caller holds its row lock."""
    count, minutes = _usage_this_month(organization, timezone.now())
    if count >= organization.monthly_job_quota:
        raise QuotaError(f"Your studio has run {count} of its {organization.monthly_job_quota} jobs this month.")
    if minutes + estimate > organization.monthly_compute_minutes:
        raise QuotaError(
            f"This run needs about {estimate:.0f} compute minutes; your studio has used {minutes:.0f} of "
            f"{organization.monthly_compute_minutes} this month."
        )


def _job_insert(*, organization: Organization, actor: User, tool, assets: list[Asset], parameters: dict,
                idempotency_key: str | None, estimate: float, retry_of: Job | None) -> Job:
    job = Job.objects.create(
        organization=organization, submitted_by=actor, tool_slug=tool.slug, tool_version=tool.version,
        queue=tool.queue, parameters=parameters, idempotency_key=idempotency_key or None,
        estimated_minutes=estimate, retry_of=retry_of, stage="Waiting for a free slot",
    )
    JobInput.objects.bulk_create(
        [JobInput(job=job, asset=a, position=i, sha256=a.sha256) for i, a in enumerate(assets)]
    )
    publish("job.queued", organization_id=organization.pk, data=event_data(job, Status.QUEUED))
    return job
