"""beta/notifications.py (and the portal's and assets' subscribers): each event tells the right people of the right
studio, through the real services that publish it; another studio's people hear nothing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from beta import tools as catalogue
from beta.comparisons.services import comparison_create
from beta.feedback.services import feedback_note_reply, feedback_reply
from beta.jobs.execute import finish
from beta.jobs.submit import job_submit
from beta.models import FeedbackNote, Job, SurveyResponse
from beta.surveys.services import surveys_notify_due_soon, surveys_notify_opened
from portal import events
from portal.models import Membership, Notification, User
from portal.services import notifications as notification_service
from portal.services.invites import invite_accept
from tests.factories import (
    AssetFactory,
    CohortFactory,
    FeedbackReportFactory,
    InviteFactory,
    JobFactory,
    MembershipFactory,
    OwnerFactory,
    StaffFactory,
    SurveyAssignmentFactory,
    comparable_output,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service and the subscribers it triggers after commit (as in a request or a worker)."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call


def told(person, kind=None):
    rows = Notification.objects.filter(recipient=person)
    return list(rows.filter(kind=kind) if kind else rows)


def _finish(job, status, error=""):
    with transaction.atomic():
        finish(Job.objects.select_for_update().get(pk=job.pk), status, error=error)


# --- Jobs -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "outcome"), [("succeeded", "finished"), ("failed", "failed")])
def test_the_submitter_hears_their_job_ended_by_email_as_before(run, status, outcome):
    owner = OwnerFactory()
    teammate = MembershipFactory(organization=owner.organization).user
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="running", error="")
    run(_finish, job, status, "The plate has no audio track." if status == "failed" else "")

    [notification] = told(owner.user)
    assert notification.kind == "job.finished"
    assert notification.title == f"{catalogue.get_tool('noop').name}: job {job.pk} {outcome}"
    assert notification.url == reverse("beta:job-detail", args=[job.pk])
    assert notification.organization_id == owner.organization.pk
    assert told(teammate) == []
    [email] = mail.outbox  # the default for jobs is email at once, as before preferences
    assert email.to == [owner.user.email]
    assert email.subject == notification.title
    assert reverse("beta:job-detail", args=[job.pk]) in email.body
    if status == "failed":
        assert "What went wrong: The plate has no audio track." in email.body


def test_a_canceled_job_tells_nobody(run):
    owner = OwnerFactory()
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="running")
    run(_finish, job, "canceled")
    assert told(owner.user) == []
    assert mail.outbox == []


def test_a_submitter_who_chose_in_app_only_gets_no_email(run):
    owner = OwnerFactory()
    notification_service.preferences_set(user=owner.user, choices={"job.finished": "in_app"})
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="running")
    run(_finish, job, "succeeded")
    assert len(told(owner.user, "job.finished")) == 1
    assert mail.outbox == []


def test_a_former_member_hears_nothing_of_the_studios_job(run):
    owner = OwnerFactory()
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status="running")
    Membership.objects.filter(user=owner.user).delete()
    run(_finish, job, "succeeded")
    assert told(owner.user) == []


# --- Quotas -----------------------------------------------------------------------------------------------------------
def test_owners_hear_when_the_month_reaches_80_and_100_percent_of_its_jobs(run):
    owner = OwnerFactory(organization__monthly_job_quota=5, organization__max_concurrent_jobs=10)
    member = MembershipFactory(organization=owner.organization).user
    other_owner = OwnerFactory().user
    asset = AssetFactory(organization=owner.organization, kind="video", sha256="ab" * 32, duration_seconds=30)
    for _ in range(3):
        run(job_submit, actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], parameters={})
    assert told(owner.user, "quota.reached") == []
    run(job_submit, actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], parameters={})  # 4 of 5
    [at_80] = told(owner.user, "quota.reached")
    assert at_80.title == "Your studio has used 80% of its jobs this month"
    run(job_submit, actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], parameters={})  # 5 of 5
    assert [n.title for n in told(owner.user, "quota.reached")] == [  # newest first
        "Your studio has used all of its jobs this month", "Your studio has used 80% of its jobs this month"
    ]
    assert told(member, "quota.reached") == []
    assert told(other_owner) == []


def test_owners_hear_when_storage_passes_80_percent(run):
    owner = OwnerFactory(organization__storage_quota_bytes=1000)
    other = OwnerFactory()
    asset = AssetFactory(organization=owner.organization, size_bytes=850, status="ready")
    AssetFactory(organization=other.organization, size_bytes=10_000, status="ready")
    run(events.publish, "asset.ready", organization_id=owner.organization.pk, data={"asset_id": asset.pk})
    [notification] = told(owner.user, "quota.reached")
    assert notification.title == "Your studio has used 80% of its storage"
    assert notification.url == reverse("assets:library")
    assert told(other.user) == []


# --- Replies ----------------------------------------------------------------------------------------------------------
def test_the_author_hears_of_staffs_reply_to_their_feedback(run):
    report = FeedbackReportFactory()
    teammate = MembershipFactory(organization=report.organization).user
    run(feedback_reply, user=StaffFactory(), report=report, body="Thanks: 1.2 fixes the flicker.")
    [notification] = told(report.author)
    assert notification.kind == "feedback.replied"
    assert "Thanks: 1.2 fixes the flicker." in notification.body
    assert notification.url == reverse("beta:feedback-detail", args=[report.pk])
    assert told(teammate) == []
    [email] = mail.outbox
    assert email.to == [report.author.email]


def test_a_reply_in_a_note_thread_tells_the_thread_but_not_the_replier(run):
    report = FeedbackReportFactory()
    reviewer = StaffFactory()
    outsider = MembershipFactory().user
    note = FeedbackNote.objects.create(report=report, author=report.author, seconds=1.0, text="Banding here.")
    run(feedback_note_reply, user=reviewer, note=note, body="Which frame exactly?")
    [to_author] = told(report.author, "review.note_replied")
    assert to_author.url == reverse("beta:feedback-detail", args=[report.pk]) + "#notes"
    assert to_author.body == "Which frame exactly?"
    assert told(reviewer) == []  # their own reply

    run(feedback_note_reply, user=report.author, note=note, body="Frame 1042.")
    assert len(told(reviewer, "review.note_replied")) == 1  # in the thread now
    assert len(told(report.author, "review.note_replied")) == 1  # not told of their own
    assert told(outsider) == []


def test_an_internal_note_reply_reaches_staff_only(run):
    report = FeedbackReportFactory()
    reviewer, colleague = StaffFactory(), StaffFactory()
    note = FeedbackNote.objects.create(report=report, author=report.author, seconds=1.0, text="Banding here.")
    run(feedback_note_reply, user=colleague, note=note, body="Ask the tool team.")  # a visible reply first
    run(feedback_note_reply, user=reviewer, note=note, body="Known issue, internal.", internal=True)
    assert [n.body for n in told(report.author)] == ["Ask the tool team."]
    assert [n.body for n in told(colleague)] == ["Known issue, internal."]


def test_telling_a_note_thread_reads_its_people_at_once_however_long_it_is():
    """The thread's people and whether each may hear (staff, or a member still) are one query, not one per person;
    a former member of the studio in the thread hears nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from beta.notifications import note_replied
    from portal.events import Event

    def queries_to_tell(repliers: int) -> int:
        report = FeedbackReportFactory()
        note = FeedbackNote.objects.create(report=report, author=report.author, seconds=1.0, text="Banding.")
        people = [MembershipFactory(organization=report.organization).user for _ in range(repliers)]
        for person in people:
            feedback_note_reply(user=person, note=note, body="Seen it too.")
        Membership.objects.filter(user=people[0]).delete()  # left the studio since
        reply = feedback_note_reply(user=StaffFactory(), note=note, body="Which frame?")
        event = Event(type="review.note_replied", organization_id=report.organization_id, data={"reply_id": reply.pk})
        with CaptureQueriesContext(connection) as queries:
            note_replied(event)
        assert told(people[0], "review.note_replied") == []
        assert len(told(report.author, "review.note_replied")) == 1
        return len(queries)

    assert queries_to_tell(2) == queries_to_tell(8)


# --- Surveys and comparisons ------------------------------------------------------------------------------------------
def test_a_survey_opening_tells_every_member_of_the_cohorts_studios(run):
    cohort = CohortFactory()
    assignment = SurveyAssignmentFactory(cohort=cohort)
    owner = OwnerFactory(organization__cohort=cohort)
    teammate = MembershipFactory(organization=owner.organization).user
    elsewhere = OwnerFactory().user  # another cohort
    assert run(surveys_notify_opened) == 2
    for person in (owner.user, teammate):
        [notification] = told(person)
        assert notification.title == f"Survey open: {assignment.survey.title}"
        assert notification.url == reverse("beta:survey-respond", args=[assignment.survey_id])
        assert notification.organization_id == owner.organization.pk
    assert told(elsewhere) == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.user.email, teammate.email])


def test_a_survey_due_soon_reminds_those_who_have_not_answered_once(run):
    cohort = CohortFactory()
    assignment = SurveyAssignmentFactory(cohort=cohort, due_at=timezone.now() + timedelta(hours=20))
    SurveyAssignmentFactory(cohort=cohort)  # due in a week: not yet
    owner = OwnerFactory(organization__cohort=cohort)
    answered = MembershipFactory(organization=owner.organization).user
    SurveyResponse.objects.create(organization=owner.organization, survey=assignment.survey, respondent=answered,
                                  submitted_at=timezone.now())
    elsewhere = OwnerFactory().user
    run(surveys_notify_due_soon)
    run(surveys_notify_due_soon)  # beat runs again: no second reminder
    [reminder] = told(owner.user, "survey.due_soon")
    assert assignment.survey.title in reminder.title
    assert told(answered, "survey.due_soon") == []
    assert told(elsewhere) == []


def test_a_new_comparison_tells_the_studios_people_only(run):
    owner = OwnerFactory()
    elsewhere = OwnerFactory().user
    output_a = comparable_output(owner.organization, tool_version="1.0.0")
    output_b = comparable_output(owner.organization, input_asset=output_a.job.job_inputs.get().asset,
                                 tool_version="1.1.0")
    comparison = run(comparison_create, actor=StaffFactory(), organization=owner.organization, output_a=output_a,
                     output_b=output_b, title="Sky plate")
    [notification] = told(owner.user)
    assert notification.kind == "comparison.opened"
    assert notification.url == reverse("beta:comparison-vote", args=[comparison.pk])
    assert told(elsewhere) == []


# --- Invites ----------------------------------------------------------------------------------------------------------
def test_owners_hear_that_an_invite_was_accepted(run):
    owner = OwnerFactory()
    member = MembershipFactory(organization=owner.organization).user
    elsewhere = OwnerFactory().user
    invite = InviteFactory(organization=owner.organization, email="new.editor@studio.test")
    newcomer = User(full_name="New Editor")
    newcomer.set_password("correct-horse-battery")
    run(invite_accept, token=invite.token, user=newcomer)
    [notification] = told(owner.user)
    assert notification.kind == "invite.accepted"
    assert notification.title == f"{newcomer.get_short_name()} joined your studio"
    assert notification.body == "new.editor@studio.test accepted your invite and joined as member."
    assert notification.url == reverse("portal:team")
    assert told(member) == []
    assert told(elsewhere) == []
    assert told(newcomer) == []
