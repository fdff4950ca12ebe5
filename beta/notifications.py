"""The programme's events that people are told of (a portal.events subscriber, connected in BetaConfig.ready).

Each handler reads the rows the event names, picks the people concerned (never anyone outside the studio, bar staff
in a review thread) and hands them to portal.services.notifications, which routes by each person's preference.
Monthly job and compute-minute quotas are checked here as jobs are queued and finish.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from beta import tools as catalogue
from beta.jobs.submit import UsageNow
from beta.models import (
    Comparison,
    FeedbackNoteReply,
    FeedbackReport,
    Job,
    SurveyAssignment,
    SurveyResponse,
)
from beta.surveys.services import when
from portal.events import Event
from portal.services.notifications import notify, quota_check, studio_members, tell, who_may_hear_of


def _id(event: Event, key: str) -> int:
    """An id the event names (0, which matches no row, when it names none)."""
    return int(event.data.get(key) or 0)


def _tool_name(slug: str) -> str:
    tool = catalogue.get_tool(slug)
    return tool.name if tool else slug


def job_finished(event: Event) -> None:
    """The submitter hears that their job finished or failed (a cancel was their own doing, or staff's: not told).
    The job comes with the event (`context["job"]`, as the finish wrote it), else it is read."""
    job: Job | None = event.context.get("job") or Job.objects.filter(pk=_id(event, "job_id")).first()
    if job is None or job.submitted_by_id is None:
        return
    name = _tool_name(job.tool_slug)
    outcome = "finished" if event.type == "job.succeeded" else "failed"
    body = f"Your {name} job {outcome}."
    if job.error:
        body += f"\n\nWhat went wrong: {job.error}"
    tell(
        user_ids=[job.submitted_by_id], kind="job.finished", organization_id=job.organization_id,
        title=f"{name}: job {job.pk} {outcome}", body=body, url=reverse("beta:job-detail", args=[job.pk]),
        dedupe_key=f"job.finished:{job.pk}",
    )


def usage_checked(event: Event) -> None:
    """After a job is queued or finishes, tell the owners if the month's jobs or compute minutes passed 80% or 100%.

    The counter comes with the event (`context["usage"]`, as the submit or the finish left it, with the limits it
    was checked against), so a studio under 80% costs no query; an event that changed no usage carries none."""
    usage: UsageNow | None = event.context.get("usage")
    if usage is None:
        return
    key = f"{usage.month:%Y-%m}"
    url = reverse("beta:job-list")
    if event.type == "job.queued":
        quota_check(organization_id=event.organization_id, quota="jobs", label="jobs this month", used=usage.jobs,
                    limit=usage.job_quota, month=key, url=url)
    quota_check(organization_id=event.organization_id, quota="minutes", label="compute minutes this month",
                used=usage.minutes, limit=usage.minute_quota, month=key, url=url)


def feedback_replied(event: Event) -> None:
    """The report's author reads staff's reply (as the reply email said before there were preferences)."""
    report = FeedbackReport.objects.filter(pk=_id(event, "report_id")).first()
    if report is None or report.author_id is None:
        return
    name = _tool_name(report.tool_slug)
    tell(
        user_ids=[report.author_id], kind="feedback.replied", organization_id=report.organization_id,
        title=f"Reply to your feedback on {name}, job {report.job_id}",
        body=f"The AI Studio replied to your feedback on {name} (job {report.job_id}):\n\n{event.data.get('body', '')}",
        url=reverse("beta:feedback-detail", args=[report.pk]),
        dedupe_key=f"feedback.replied:{event.data.get('reply_id')}",
    )


def note_replied(event: Event) -> None:
    """Everyone in a review note's thread (its author and earlier repliers) but the replier hears of a reply; an
    internal reply reaches staff only, and a partner only while they belong to the note's studio."""
    reply = (FeedbackNoteReply.objects.filter(pk=_id(event, "reply_id"))
             .select_related("note__report", "author").first())
    if reply is None:
        return
    note, report = reply.note, reply.note.report
    earlier = (FeedbackNoteReply.objects.filter(note=note, created_at__lte=reply.created_at).exclude(pk=reply.pk)
               .values_list("author_id", flat=True))
    thread = {i for i in (note.author_id, *earlier) if i is not None and i != reply.author_id}
    people = [p for p in who_may_hear_of(thread, report.organization_id) if p.is_studio_staff or not reply.internal]
    who = reply.author.get_short_name() if reply.author else "Someone"
    notify(
        recipients=people, kind="review.note_replied", organization_id=report.organization_id,
        title=f"{who} replied to a note on {_tool_name(report.tool_slug)} job {report.job_id}",
        body=reply.body, url=reverse("beta:feedback-detail", args=[report.pk]) + "#notes",
        dedupe_key=f"review.note_replied:{reply.pk}",
    )


def _survey_context(assignment: SurveyAssignment) -> dict:
    return {
        "survey": assignment.survey,
        "due": when(assignment.due_at),
        "url": settings.SITE_URL + reverse("beta:survey-respond", args=[assignment.survey_id]),
        "portal_name": settings.PORTAL_NAME,
    }


def survey_opened(event: Event) -> None:
    """Every member of a studio in the survey's cohort hears that it opened."""
    assignment = SurveyAssignment.objects.filter(pk=_id(event, "assignment_id")).select_related("survey").first()
    if assignment is None:
        return
    text = render_to_string("beta/surveys/notification_opened.txt", _survey_context(assignment)).strip()
    notify(
        recipients=studio_members(event.organization_id), kind="survey.opened", organization_id=event.organization_id,
        title=f"Survey open: {assignment.survey.title}", body=text,
        url=reverse("beta:survey-respond", args=[assignment.survey_id]), dedupe_key=f"survey.opened:{assignment.pk}",
    )


def survey_due_soon(event: Event) -> None:
    """The studio's members who have not submitted their answers hear that the survey is due soon."""
    assignment = SurveyAssignment.objects.filter(pk=_id(event, "assignment_id")).select_related("survey").first()
    if assignment is None:
        return
    answered = set(SurveyResponse.objects.filter(survey_id=assignment.survey_id, submitted_at__isnull=False)
                   .values_list("respondent_id", flat=True))
    people = [p for p in studio_members(event.organization_id) if p.pk not in answered]
    notify(
        recipients=people, kind="survey.due_soon", organization_id=event.organization_id,
        title=f"Survey due {when(assignment.due_at)}: {assignment.survey.title}",
        body=f"Please answer “{assignment.survey.title}” by {when(assignment.due_at)}.",
        url=reverse("beta:survey-respond", args=[assignment.survey_id]), dedupe_key=f"survey.due_soon:{assignment.pk}",
    )


def comparison_opened(event: Event) -> None:
    """The studio's people (those who may judge it) hear of a new comparison."""
    comparison = (Comparison.objects.filter(pk=_id(event, "comparison_id"), organization_id=event.organization_id)
                  .first())
    if comparison is None:
        return
    due = f" It is open until {when(comparison.due_at)}." if comparison.due_at else ""
    notify(
        recipients=studio_members(comparison.organization_id), kind="comparison.opened",
        organization_id=comparison.organization_id, title=f"A comparison to judge: {comparison.title}",
        body=f"{comparison.question}{due}", url=reverse("beta:comparison-vote", args=[comparison.pk]),
        dedupe_key=f"comparison.opened:{comparison.pk}",
    )


HANDLERS: dict[str, tuple[Callable[[Event], None], ...]] = {
    "job.queued": (usage_checked,),
    "job.succeeded": (job_finished, usage_checked),
    "job.failed": (job_finished, usage_checked),
    "feedback.replied": (feedback_replied,),
    "review.note_replied": (note_replied,),
    "survey.opened": (survey_opened,),
    "survey.due_soon": (survey_due_soon,),
    "comparison.opened": (comparison_opened,),
}


def event_received(event: Event) -> None:
    for handler in HANDLERS.get(event.type, ()):
        handler(event)
