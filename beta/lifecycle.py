"""What offboarding closes in the beta (portal/lifecycle.py): queued and running jobs are canceled as `job_cancel`
cancels them (queued ones at once, running ones at their next progress report). Job and feedback records stay."""

from beta.jobs.control import job_cancel
from beta.models import FeedbackReport, Job
from portal.lifecycle import StudioCloser, register_studio_closer


def inventory(organization) -> dict[str, int]:
    jobs = Job.objects.filter(organization=organization)
    return {
        "jobs": jobs.count(),
        "active_jobs": jobs.filter(status__in=Job.ACTIVE).count(),
        "feedback": FeedbackReport.objects.filter(organization=organization).count(),
    }


def offboard(*, organization, actor) -> dict[str, int]:
    canceled = 0
    for job in Job.objects.filter(organization=organization, status__in=Job.ACTIVE):
        job_cancel(actor=actor, job=job)
        canceled += 1
    return {"active_jobs": canceled}


def register() -> None:
    register_studio_closer(StudioCloser(name="beta", inventory=inventory, offboard=offboard))
