"""Reads for the beta programme."""

from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet

from beta.models import Job, JobInput, JobOutput, ToolSwitch
from portal.cohorts import cohort_window
from portal.lifecycle import closed_message
from portal.models import Organization


def jobs_for_user(user, *, status: str = "", tool: str = "", organization_id: int | None = None) -> QuerySet[Job]:
    jobs = Job.objects.for_user(user).select_related("organization", "submitted_by").prefetch_related(
        Prefetch("job_inputs", queryset=JobInput.objects.select_related("asset", "asset__lineage_root"))
    )
    if status in Job.Status.values:
        jobs = jobs.filter(status=status)
    if tool:
        jobs = jobs.filter(tool_slug=tool)
    if organization_id:
        jobs = jobs.filter(organization_id=organization_id)
    return jobs.order_by("-queued_at", "-id")


def job_outputs(job: Job) -> list[JobOutput]:
    return list(
        job.job_outputs.select_related("asset", "asset__lineage_root").prefetch_related("asset__renditions")
        .order_by("id")
    )


def output_origin(asset) -> dict | None:
    """The run that made an output: its tool and version, its page and its inputs (for the output's lineage)."""
    from django.urls import reverse

    from beta import tools as catalogue
    from beta.jobs.common import lineage_label

    output = JobOutput.objects.filter(asset=asset).select_related("job").first()
    if output is None:
        return None
    job = output.job
    tool = catalogue.get_tool(job.tool_slug)
    inputs = [i.asset for i in job.job_inputs.select_related("asset", "asset__lineage_root").order_by("position")]
    return {
        "label": lineage_label(job.tool_slug, job.tool_version),
        "tool": tool.name if tool else job.tool_slug,
        "job_id": job.pk,
        "url": reverse("beta:job-detail", args=[job.pk]),
        "inputs": inputs,
    }


def stack_versions(head_ids: list[int]) -> dict[int, list[dict]]:
    """The runs whose outputs stack under each of these assets (the library's version stacks), newest first, with
    their tool and version and how many live files each left: one query for a page of the library."""
    from django.urls import reverse

    from beta.jobs.common import lineage_label

    rows = (
        JobOutput.objects.filter(asset__lineage_root_id__in=head_ids)
        .exclude(asset__status="deleted")
        .values("asset__lineage_root_id", "job_id", "job__tool_slug", "job__tool_version")
        .annotate(files=Count("id"))
        .order_by("-job_id")
    )
    stacks: dict[int, list[dict]] = {}
    for row in rows:
        head = row["asset__lineage_root_id"]
        if head is None:  # pragma: no cover - filtered on; the type allows it
            continue
        stacks.setdefault(head, []).append({
            "label": lineage_label(row["job__tool_slug"], row["job__tool_version"]),
            "url": reverse("beta:job-detail", args=[row["job_id"]]),
            "files": row["files"],
        })
    return stacks


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


def tool_switch(slug: str) -> ToolSwitch:
    """The programme's switch for a tool; a tool without a row is on for every cohort (nothing written on reads)."""
    return ToolSwitch.objects.filter(slug=slug).first() or ToolSwitch(slug=slug)


TOOL_SWITCH_CACHE_KEY = "beta:tool-switch:{slug}"
TOOL_SWITCH_CACHE_SECONDS = 600  # a backstop only: every change to a switch deletes its entry (beta.signals)


def tool_switch_state(slug: str) -> dict:
    """What a submit needs of a tool's switch, cached: on or off, its note, and the cohorts it is offered to
    (None: every cohort)."""
    key = TOOL_SWITCH_CACHE_KEY.format(slug=slug)
    state = cache.get(key)
    if state is None:
        switch = ToolSwitch.objects.filter(slug=slug).first()
        state = {"enabled": True, "note": "", "cohort_ids": None}
        if switch is not None:
            cohort_ids = None if switch.all_cohorts else sorted(switch.cohorts.values_list("pk", flat=True))
            state = {"enabled": switch.enabled, "note": switch.note, "cohort_ids": cohort_ids}
        cache.set(key, state, TOOL_SWITCH_CACHE_SECONDS)
    return state


def tool_availability(tool, organization: Organization | None) -> tuple[bool, str]:
    """Whether the studio may run the tool now, and if not, why (in words for the partner)."""
    if problem := tool.configuration_problem():
        return False, problem
    switch = tool_switch_state(tool.slug)
    if not switch["enabled"]:
        return False, switch["note"] or "This tool is paused by the programme team."
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
    if switch["cohort_ids"] is not None and organization.cohort_id not in switch["cohort_ids"]:
        return False, "This tool is not offered to your cohort."
    return True, ""
