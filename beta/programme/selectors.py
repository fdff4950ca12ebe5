"""Reads of the staff console: the catalogue with its switches, the queues live, and studios' usage against quotas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from assets.selectors import storage_used_by_studio
from beta import tools as catalogue
from beta.jobs.dispatch import studio_loads
from beta.jobs.submit import usage_month
from beta.models import Job, StudioUsage, ToolSwitch, WorkerHeartbeat
from beta.tools.base import Tool
from portal.models import Cohort, Organization

#: A worker counts as "seen" when it beat (its queue's heartbeat, or a running job's) this recently.
WORKER_SEEN_SECONDS = 60
FAILED_WINDOW = timedelta(hours=24)
FAILED_SHOWN = 25
QUEUE_LABELS = {"cpu": "CPU", "gpu": "GPU", "external": "External service"}


# --- Tools and their switches ------------------------------------------------------------------------------------
@dataclass
class CohortOffer:
    cohort: Cohort
    offered: bool


@dataclass
class ToolRow:
    tool: Tool
    queue_label: str
    problem: str
    missing: list[str]
    enabled: bool
    note: str
    all_cohorts: bool
    offers: list[CohortOffer] = field(default_factory=list)

    @property
    def soft_limit(self) -> str:
        return duration_text(self.tool.soft_time_limit)

    @property
    def hard_limit(self) -> str:
        return duration_text(self.tool.time_limit)


def duration_text(seconds: int) -> str:
    """A time limit in words: "35 min", "2 h", "1 h 30 min", "45 s"."""
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def tools_overview() -> list[ToolRow]:
    """Every tool of the catalogue with its configuration and its switch, per cohort: three queries in all."""
    cohorts = list(Cohort.objects.order_by("opens_at", "name"))
    switches = {s.slug: s for s in ToolSwitch.objects.prefetch_related("cohorts")}
    rows = []
    for tool in catalogue.all_tools():
        switch = switches.get(tool.slug) or ToolSwitch(slug=tool.slug)
        chosen = {c.pk for c in switch.cohorts.all()} if switch.pk else set()
        rows.append(ToolRow(
            tool=tool,
            queue_label=QUEUE_LABELS.get(tool.queue, tool.queue),
            problem=tool.configuration_problem(),
            missing=tool.missing_settings(),
            enabled=switch.enabled,
            note=switch.note,
            all_cohorts=switch.all_cohorts,
            offers=[CohortOffer(cohort=c, offered=switch.all_cohorts or c.pk in chosen) for c in cohorts],
        ))
    return rows


# --- Queues, live -----------------------------------------------------------------------------------------------------
@dataclass
class QueueRow:
    name: str
    label: str
    waiting: int
    running: int
    workers: list[str]
    last_beat: datetime | None
    last_beat_host: str


def _queue_names() -> list[str]:
    """The queues tools run on, in the catalogue's order of appearance, then the others Celery serves."""
    names = list(dict.fromkeys(tool.queue for tool in catalogue.all_tools()))
    return names + [q for q in settings.CELERY_QUEUE_NAMES if q not in names and q in QUEUE_LABELS]


def queues_overview(now: datetime | None = None) -> list[QueueRow]:
    """Per tool queue: jobs waiting (for a slot or a worker), running, and the workers seen in the last minute."""
    now = now or timezone.now()
    since = now - timedelta(seconds=WORKER_SEEN_SECONDS)
    counts: dict[str, dict[str, int]] = {
        row["queue"]: {"waiting": row["waiting"], "running": row["running"]}
        for row in Job.objects.filter(status__in=Job.ACTIVE).order_by().values("queue").annotate(
            waiting=Count("id", filter=Q(status__in=[Job.Status.QUEUED, Job.Status.RETRYING])),
            running=Count("id", filter=Q(status=Job.Status.RUNNING)),
        )
    }
    workers: dict[str, set[str]] = {}
    running_hosts = (
        Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__gte=since).exclude(worker="")
        .order_by().values_list("queue", "worker").distinct()
    )
    for queue, host in running_hosts:
        workers.setdefault(queue, set()).add(host)
    beats = {beat.queue: beat for beat in WorkerHeartbeat.objects.all()}
    for queue, heartbeat in beats.items():
        if heartbeat.beat_at >= since:
            workers.setdefault(queue, set()).add(heartbeat.hostname)
    rows = []
    for name in _queue_names():
        beat = beats.get(name)
        counted = counts.get(name, {})
        rows.append(QueueRow(
            name=name,
            label=QUEUE_LABELS.get(name, name),
            waiting=counted.get("waiting", 0),
            running=counted.get("running", 0),
            workers=sorted(workers.get(name, ())),
            last_beat=beat.beat_at if beat else None,
            last_beat_host=beat.hostname if beat else "",
        ))
    return rows


def failed_jobs_recent(now: datetime | None = None) -> tuple[list[Job], int]:
    """The jobs that failed in the last 24 hours, newest first (at most FAILED_SHOWN), and how many there were."""
    now = now or timezone.now()
    failed = Job.objects.filter(status=Job.Status.FAILED, finished_at__gte=now - FAILED_WINDOW)
    return list(failed.select_related("organization").order_by("-finished_at", "-id")[:FAILED_SHOWN]), failed.count()


# --- Quotas -----------------------------------------------------------------------------------------------------------
@dataclass
class QuotaLine:
    key: str
    label: str
    used: float
    limit: float
    used_text: str
    limit_text: str

    @property
    def percent(self) -> int:
        if self.limit <= 0:
            return 100 if self.used > 0 else 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def level(self) -> str:
        """"full" at or over the limit, "high" from 80%, "ok" below (the words say it too; colour only repeats it)."""
        if self.used >= self.limit:
            return "full"
        return "high" if self.percent >= 80 else "ok"


def _size(n: float) -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(n)).replace("\xa0", " ")


def _lines(org: Organization, load: tuple[int, int], usage: StudioUsage | None, stored: int) -> list[QuotaLine]:
    jobs, minutes = (usage.jobs, max(usage.minutes, 0)) if usage else (0, 0.0)
    return [
        QuotaLine("running", "Jobs running at once", load[0], org.max_concurrent_jobs,
                  f"{load[0]} running" + (f", {load[1]} waiting for a slot" if load[1] else ""),
                  f"{org.max_concurrent_jobs} at once"),
        QuotaLine("jobs", "Jobs this month", jobs, org.monthly_job_quota, f"{jobs} jobs", f"{org.monthly_job_quota}"),
        QuotaLine("minutes", "Compute minutes this month", minutes, org.monthly_compute_minutes,
                  f"{minutes:.0f} minutes", f"{org.monthly_compute_minutes}"),
        QuotaLine("storage", "Storage", stored, org.storage_quota_bytes, _size(stored),
                  _size(org.storage_quota_bytes)),
    ]


def quota_usage(organizations: list[Organization], now: datetime | None = None) -> dict[int, list[QuotaLine]]:
    """Each studio's usage against its four limits: three queries however many studios."""
    ids = [org.pk for org in organizations]
    month = usage_month(now or timezone.now())
    loads = studio_loads(ids)
    usages = {u.organization_id: u for u in StudioUsage.objects.filter(organization_id__in=ids, month=month)}
    stored = storage_used_by_studio(ids)
    return {
        org.pk: _lines(org, loads.get(org.pk, (0, 0)), usages.get(org.pk), stored.get(org.pk, 0))
        for org in organizations
    }
