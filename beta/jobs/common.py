"""Small pieces every stage of a job shares: its log lines and what its events say."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from beta.models import Job

Status = Job.Status


#: a job's log keeps its last this many characters
LOG_MAX = 200_000


def stamped(line: str, moment: datetime | None = None) -> str:
    """A log line as the job's log holds it: the time of day (UTC), the text, a newline."""
    return f"{(moment or timezone.now()):%H:%M:%S} {line}\n"


def log_line(job: Job, line: str) -> None:
    job.log = (job.log + stamped(line))[-LOG_MAX:]



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
