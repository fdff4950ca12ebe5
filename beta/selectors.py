"""Reads for the beta programme."""

from django.db.models import Prefetch, QuerySet

from beta.models import Job, JobInput, JobOutput


def jobs_for_user(user, *, status: str = "", tool: str = "", organization_id: int | None = None) -> QuerySet[Job]:
    jobs = Job.objects.for_user(user).select_related("organization", "submitted_by").prefetch_related(
        Prefetch("job_inputs", queryset=JobInput.objects.select_related("asset"))
    )
    if status in Job.Status.values:
        jobs = jobs.filter(status=status)
    if tool:
        jobs = jobs.filter(tool_slug=tool)
    if organization_id:
        jobs = jobs.filter(organization_id=organization_id)
    return jobs.order_by("-queued_at", "-id")


def job_outputs(job: Job) -> list[JobOutput]:
    return list(job.job_outputs.select_related("asset").prefetch_related("asset__renditions").order_by("id"))


def asset_usage(asset) -> list[dict]:
    """The runs that processed an asset, for its data-use statement."""
    from django.urls import reverse

    from beta import tools as catalogue

    uses = []
    for job_input in JobInput.objects.filter(asset=asset).select_related("job").order_by("-job__queued_at"):
        tool = catalogue.get_tool(job_input.job.tool_slug)
        uses.append({
            "tool": tool.name if tool else job_input.job.tool_slug,
            "when": job_input.job.queued_at,
            "url": reverse("beta:job-detail", args=[job_input.job_id]),
        })
    return uses
