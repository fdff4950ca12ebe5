import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from portal.models import Membership, Organization, User


def _snapshot():
    return {
        "users": sorted(User.objects.values_list("email", "staff_role", "password")),
        "studios": sorted(Organization.objects.values_list("slug", "name")),
        "memberships": sorted(Membership.objects.values_list("user__email", "organization__slug", "role")),
        "emails": sorted(EmailAddress.objects.values_list("email", "verified", "primary")),
        "results": _results_snapshot(),
    }


def _results_snapshot():
    """The demo feedback, survey and comparison (beta.results.demo): the same rows after a second run."""
    from beta.models import ComparisonVote, FeedbackComment, FeedbackReport, Job, SurveyAnswer

    return {
        "jobs": sorted(Job.objects.values_list("organization__slug", "tool_slug", "tool_version", "status")),
        "feedback": sorted(FeedbackReport.objects.values_list("job_id", "author__email", "status", "quote_selected")),
        "comments": FeedbackComment.objects.count(),
        "answers": sorted(SurveyAnswer.objects.values_list("response__respondent__email", "question__kind", "number")),
        "votes": sorted(ComparisonVote.objects.values_list("voter__email", "choice")),
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    call_command("seed_demo", i_know_this_is_not_production=True)
    first = _snapshot()
    call_command("seed_demo", i_know_this_is_not_production=True)
    assert _snapshot() == first


@pytest.mark.django_db
def test_seed_demo_creates_staff_and_two_studios_with_owner_and_member(settings, client):
    call_command("seed_demo", i_know_this_is_not_production=True)
    assert User.objects.get(email="admin@greenlight.test").is_programme_admin
    assert User.objects.get(email="reviewer@greenlight.test").is_reviewer
    assert Organization.objects.count() == 2
    for studio in Organization.objects.all():
        assert sorted(studio.memberships.values_list("role", flat=True)) == ["member", "owner"]
    # The demo password from DEMO_PASSWORD signs in.
    assert client.login(email="owner@northlight.test", password=settings.DEMO_PASSWORD)
    # A cohort open now, the agreement accepted, a pending invite, TOTP for staff.
    from allauth.mfa.models import Authenticator

    from portal.cohorts import cohort_window
    from portal.models import AgreementAcceptance, Invite

    studio = Organization.objects.get(slug="northlight")
    assert cohort_window(studio).is_open
    assert AgreementAcceptance.objects.filter(user__email="owner@northlight.test").exists()
    assert Invite.objects.pending().filter(email="newcomer@northlight.test").exists()
    assert Authenticator.objects.filter(user__email="admin@greenlight.test", type="totp").exists()
    # A demo video with a finished dailies and shot-detect job.
    from beta.models import Job

    jobs = {j.tool_slug: j for j in Job.objects.filter(organization=studio)}
    assert set(jobs) == {"dailies", "shot-detect"}
    assert all(j.status == "succeeded" for j in jobs.values())
    assert len(jobs["shot-detect"].summary["shots"]) == 3
    assert jobs["dailies"].job_outputs.count() == 3
    # Feedback with a reply and a chosen quote, a survey with an NPS question, a blind comparison with votes.
    from beta.models import ComparisonVote, FeedbackComment, FeedbackReport, SurveyAnswer

    assert FeedbackReport.objects.submitted().count() == 12
    assert FeedbackReport.objects.filter(quote_selected=True).count() == 1
    assert FeedbackComment.objects.filter(kind="reply").exists()
    assert SurveyAnswer.objects.filter(question__kind="nps").count() == 4
    assert ComparisonVote.objects.exclude(choice="").count() == 2


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off_unless_told(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--i-know-this-is-not-production"):
        call_command("seed_demo")
    assert not User.objects.filter(email="admin@greenlight.test").exists()
