"""Small pieces every stage of a job shares: its log lines and what its events say."""

from __future__ import annotations

from django.utils import timezone

from beta.models import Job

Status = Job.Status


def log_line(job: Job, line: str) -> None:
    stamp = timezone.now().strftime("%H:%M:%S")
    job.log = (job.log + f"{stamp} {line}\n")[-200_000:]



def event_data(job: Job, status: str, *, error: str = "") -> dict:
    """What a webhook says about a job (ids and states only, never file contents)."""
    data = {"job_id": job.pk, "status": str(status), "tool": job.tool_slug, "tool_version": job.tool_version}
    return data | ({"error": error} if error else {})



def lineage_label(tool_slug: str, tool_version: str) -> str:
    """What an output says made it: the tool and its version without a zero patch ("dailies 1.0" for 1.0.0)."""
    parts = tool_version.split(".")
    if len(parts) == 3 and parts[2] == "0":
        parts = parts[:2]
    return f"{tool_slug} {'.'.join(parts)}".strip()
