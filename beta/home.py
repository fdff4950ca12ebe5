"""The partner home's beta parts, registered with the portal's dashboard hooks in beta/apps.py: the checklist's
"run a tool" and "give feedback" steps, and the recent jobs, quota bars and unread replies panels."""

from __future__ import annotations

from django.urls import reverse

from beta import tools as catalogue
from beta.feedback import selectors as feedback_selectors
from beta.models import Job
from beta.usage import studio_quota_use
from beta.views.jobs import recent_jobs_context
from portal.dashboard_panels import Step


def getting_started_steps(user, organization) -> list[Step]:
    return [
        Step(key="run", order=40, label="Run a tool",
             done=Job.objects.filter(organization=organization).exists(), url=reverse("beta:catalogue"),
             action="Run a tool"),
        Step(key="feedback", order=50, label="Give feedback on a run",
             done=feedback_selectors.studio_has_feedback(organization), url=reverse("beta:job-list"),
             action="Pick a finished job"),
    ]


def recent_jobs_panel(user, organization) -> list[dict]:
    return [{"template": "beta/_recent_jobs_panel.html", "wide": True, **recent_jobs_context(user)}]


def usage_panel(user, organization) -> list[dict]:
    return [{"template": "beta/_usage_panel.html", "quotas": studio_quota_use(organization)}]


def replies_panel(user, organization) -> list[dict]:
    replies = feedback_selectors.unread_replies(user)
    if not replies:
        return []
    for reply in replies:
        tool = catalogue.get_tool(reply["tool_slug"])
        reply["tool_name"] = tool.name if tool else reply["tool_slug"]
    return [{"template": "beta/feedback/_replies_panel.html", "replies": replies}]
