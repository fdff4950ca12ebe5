"""A studio's use of its quotas, as rows for bars: this month's jobs and compute minutes (the `StudioUsage` counter a
submit checks), its storage (`assets.selectors.storage_used`, what an upload checks) and the jobs holding a running
slot (what the dispatcher counts). Three queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from assets.selectors import storage_used
from beta.jobs.dispatch import studio_load
from beta.jobs.submit import usage_month
from beta.models import StudioUsage
from portal.models import Organization

WARN_AT = 80  # percent: the bar turns amber and says so


@dataclass(frozen=True)
class QuotaUse:
    key: str
    label: str
    used: float
    limit: float
    text: str  # "12 of 500", in the quota's own units
    note: str = ""

    @property
    def percent(self) -> int:
        if self.limit <= 0:
            return 100 if self.used > 0 else 0
        return min(100, round(self.used * 100 / self.limit))

    @property
    def level(self) -> str:
        """"full", "high" or "ok": the bar's colour, always said in words too (`level_text`)."""
        if self.limit <= 0 or self.used >= self.limit:
            return "full"
        return "high" if self.percent >= WARN_AT else "ok"

    @property
    def level_text(self) -> str:
        return {"full": "Limit reached", "high": "Nearly at the limit", "ok": ""}[self.level]


def studio_quota_use(organization: Organization, now=None) -> list[QuotaUse]:
    month = usage_month(now or timezone.now())
    counter = StudioUsage.objects.filter(organization=organization, month=month).values("jobs", "minutes").first()
    jobs, minutes = (counter["jobs"], counter["minutes"]) if counter else (0, 0.0)
    stored = storage_used(organization)
    running, waiting = studio_load(organization.pk)
    return [
        QuotaUse("jobs", "Jobs this month", jobs, organization.monthly_job_quota,
                 f"{jobs} of {organization.monthly_job_quota}"),
        QuotaUse("minutes", "Compute minutes this month", minutes, organization.monthly_compute_minutes,
                 f"{minutes:.0f} of {organization.monthly_compute_minutes} min",
                 note="Includes the estimates of jobs still running."),
        QuotaUse("storage", "Storage", stored, organization.storage_quota_bytes,
                 f"{filesizeformat(stored)} of {filesizeformat(organization.storage_quota_bytes)}"),
        QuotaUse("running", "Jobs running at once", running, organization.max_concurrent_jobs,
                 f"{running} of {organization.max_concurrent_jobs}",
                 note=f"{waiting} waiting for a free slot." if waiting else ""),
    ]
