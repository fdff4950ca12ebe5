"""Surveys: staff build and assign them per cohort; partners answer once each, until the due date; the opening email;
NPS and the results per question."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from beta import stats
from beta.models import Question, Survey, SurveyAnswer, SurveyAssignment, SurveyResponse
from beta.surveys import selectors, services
from beta.surveys.errors import SurveyError, SurveyNotOpenError, SurveyValidationError
from beta.surveys.tasks import surveys_notify_opened
from portal.errors import PermissionDeniedError
from tests.factories import (
    CohortFactory,
    MembershipFactory,
    OwnerFactory,
    QuestionFactory,
    StaffFactory,
    SurveyAssignmentFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Many people are made here; a fast hasher keeps the module quick (passwords are not what is tested)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cohort():
    return CohortFactory(name="March wave 1")


@pytest.fixture
def owner(cohort):
    return OwnerFactory(organization__cohort=cohort).user


@pytest.fixture
def survey(cohort):
    survey = SurveyFactory(title="Weekly check-in")
    QuestionFactory(survey=survey, kind=Question.Kind.RATING, prompt="How useful were the tools?")
    QuestionFactory(survey=survey, kind=Question.Kind.NPS, prompt="Would you recommend the beta?")
    QuestionFactory(survey=survey, kind=Question.Kind.SINGLE, prompt="Main tool?", choices=["Dailies", "Shots"])
    QuestionFactory(survey=survey, kind=Question.Kind.MULTIPLE, prompt="Which problems?", required=False,
                    choices=["Speed", "Artefacts", "Controls"])
    QuestionFactory(survey=survey, kind=Question.Kind.LONG_TEXT, prompt="Anything else?", required=False)
    SurveyAssignmentFactory(survey=survey, cohort=cohort)
    return survey


def q(survey, kind):
    return survey.questions.get(kind=kind)


def full_answers(survey, rating=4, score=9, single="Dailies", multiple=("Speed",), text="Great dailies."):
    return {
        q(survey, "rating").pk: rating,
        q(survey, "nps").pk: score,
        q(survey, "single").pk: single,
        q(survey, "multiple").pk: list(multiple),
        q(survey, "long_text").pk: text,
    }


# --- Validation per kind ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("rating", "1", (1, 1.0)),
        ("rating", 5, (5, 5.0)),
        ("nps", "0", (0, 0.0)),
        ("nps", 10, (10, 10.0)),
        ("single", "Dailies", ("Dailies", None)),
        ("multiple", ["Shots", "Dailies"], (["Dailies", "Shots"], None)),
        ("short_text", "  fine  ", ("fine", None)),
    ],
)
def test_answers_that_fit_their_question_are_kept(kind, raw, stored):
    question = Question(kind=kind, prompt="?", choices=["Dailies", "Shots"])
    assert services.answer_clean(question, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("rating", 0, "from 1 to 5"),
        ("rating", 6, "from 1 to 5"),
        ("rating", "3.5", "from 1 to 5"),
        ("rating", True, "from 1 to 5"),
        ("nps", 11, "from 0 to 10"),
        ("nps", "-1", "from 0 to 10"),
        ("nps", 7.5, "from 0 to 10"),
        ("single", "Edit", "one of the options"),
        ("single", ["Dailies"], "one of the options"),
        ("multiple", ["Dailies", "Nope"], "from the options"),
        ("multiple", ["Dailies", "Dailies"], "at most once"),
        ("short_text", "x" * 501, "500 characters"),
        ("long_text", 42, "Type your answer"),
        ("rating", "", "needs an answer"),
        ("multiple", [], "needs an answer"),
        ("long_text", "   ", "needs an answer"),
    ],
)
def test_answers_that_do_not_fit_are_refused(kind, raw, message):
    question = Question(kind=kind, prompt="?", choices=["Dailies", "Shots"], required=True)
    with pytest.raises(ValueError, match=message):
        services.answer_clean(question, raw)


def test_an_optional_question_may_be_left_blank():
    assert services.answer_clean(Question(kind="rating", required=False), None) == (None, None)


def test_nothing_is_saved_unless_every_answer_fits(owner, survey):
    answers = full_answers(survey, rating=9)
    answers[q(survey, "single").pk] = ""
    with pytest.raises(SurveyValidationError) as caught:
        services.response_save(actor=owner, survey=survey, answers=answers)
    assert set(caught.value.errors) == {q(survey, "rating").pk, q(survey, "single").pk}
    assert not SurveyResponse.objects.exists()


# --- Assignment by cohort ---------------------------------------------------------------------------------------------
def test_a_partner_of_another_cohort_neither_sees_nor_answers_the_survey(client, survey, owner):
    outsider = OwnerFactory(organization__cohort=CohortFactory(name="April wave")).user
    no_cohort = OwnerFactory().user
    for person in (outsider, no_cohort):
        assert selectors.assignments_for_user(person) == []
        assert selectors.assignment_for_user(person, survey.pk) is None
        with pytest.raises(PermissionDeniedError):
            services.response_save(actor=person, survey=survey, answers=full_answers(survey))
        client.force_login(person)
        assert client.get(reverse("beta:survey-respond", args=[survey.pk])).status_code == 404
        assert client.post(reverse("beta:survey-respond", args=[survey.pk])).status_code == 404
        assert "Weekly check-in" not in client.get(reverse("beta:survey-list")).content.decode()
        assert "Weekly check-in" not in client.get(reverse("portal:dashboard")).content.decode()
    # The control: the cohort's own partner sees it.
    assert [a.survey for a in selectors.assignments_for_user(owner)] == [survey]
    assert not SurveyResponse.objects.exists()


def test_staff_pages_are_404_to_partners(client, survey, owner):
    client.force_login(owner)
    for name, args in [("beta:staff-surveys", []), ("beta:staff-survey", [survey.pk]),
                       ("beta:staff-survey-results", [survey.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 404
    assert client.post(reverse("beta:staff-survey-question-add", args=[survey.pk]),
                       {"kind": "rating", "prompt": "Sneaky?"}).status_code == 404
    assert survey.questions.count() == 5


# --- Due dates and one response per person ----------------------------------------------------------------------------
def test_a_survey_takes_no_answers_before_it_opens(client, survey, owner):
    assignment = survey.assignments.get()
    assignment.opens_at = timezone.now() + timedelta(days=2)
    assignment.save()
    with pytest.raises(SurveyNotOpenError, match="opens on"):
        services.response_save(actor=owner, survey=survey, answers=full_answers(survey))
    client.force_login(owner)
    page = client.get(reverse("beta:survey-respond", args=[survey.pk])).content.decode()
    assert "Not open yet" in page
    assert "Send my answers" not in page
    response = client.post(reverse("beta:survey-respond", args=[survey.pk]), {"q1": "4"}, follow=True)
    assert "This survey opens on" in response.content.decode()
    assert not SurveyResponse.objects.exists()
    # Not yet open: not on the list or the dashboard either.
    assert selectors.assignments_for_user(owner) == []


def test_one_response_per_person_editable_until_the_due_date_then_refused(client, survey, owner):
    first = services.response_save(actor=owner, survey=survey, answers=full_answers(survey, rating=2))
    again = services.response_save(actor=owner, survey=survey, answers=full_answers(survey, rating=5, multiple=()))
    assert again.pk == first.pk
    assert SurveyResponse.objects.filter(survey=survey, respondent=owner).count() == 1
    assert SurveyAnswer.objects.get(response=first, question=q(survey, "rating")).value == 5
    assert not SurveyAnswer.objects.filter(response=first, question=q(survey, "multiple")).exists()  # blanked

    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(survey=survey, respondent=owner, organization=first.organization)

    # After the due date: refused with a clear message, nothing changes.
    assignment = survey.assignments.get()
    with pytest.raises(SurveyNotOpenError, match="closed on"):
        services.response_save(actor=owner, survey=survey, answers=full_answers(survey, rating=1),
                               now=assignment.due_at)
    SurveyAssignment.objects.filter(pk=assignment.pk).update(
        opens_at=timezone.now() - timedelta(days=9), due_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(owner)
    response = client.post(
        reverse("beta:survey-respond", args=[survey.pk]), {f"q{q(survey, 'rating').pk}": "1"}, follow=True
    )
    body = response.content.decode()
    assert "answers can no longer be given or changed" in body
    assert SurveyAnswer.objects.get(response=first, question=q(survey, "rating")).value == 5
    # The closed page shows the answers read-only, without a submit button.
    page = client.get(reverse("beta:survey-respond", args=[survey.pk])).content.decode()
    assert "Closed" in page
    assert "Save my changed answers" not in page
    assert "disabled" in page


# --- The opening email ------------------------------------------------------------------------------------------------
def test_the_cohort_is_emailed_once_when_a_survey_opens(cohort, survey, owner, django_capture_on_commit_callbacks):
    teammate = MembershipFactory(organization=owner.memberships.get().organization).user
    other_studio_same_cohort = OwnerFactory(organization__cohort=cohort).user
    OwnerFactory(organization__cohort=CohortFactory())  # another cohort: no email
    later = SurveyAssignmentFactory(cohort=CohortFactory(), opens_at=timezone.now() + timedelta(days=1))
    OwnerFactory(organization__cohort=later.cohort)  # not open yet: no email
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):  # people are told once the claim commits
        sent = surveys_notify_opened()  # the beat task

    assert sent == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, teammate.email, other_studio_same_cohort.email])
    message = mail.outbox[0]
    assert message.subject == "Survey open: Weekly check-in"
    assert reverse("beta:survey-respond", args=[survey.pk]) in message.body
    assert survey.assignments.get().notified_at is not None
    assert later.__class__.objects.get(pk=later.pk).notified_at is None
    # A second run sends nothing more.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys_notify_opened() == 0
    assert mail.outbox == []


def test_the_opening_email_is_on_the_beat_schedule():
    from config.celery import app

    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "beta.surveys.tasks.surveys_notify_opened" in tasks
    assert "beta.surveys.tasks.surveys_notify_opened" in app.tasks


def test_moving_the_opening_into_the_future_emails_again_when_it_opens(survey, cohort):
    staff = StaffFactory()
    assignment = survey.assignments.get()
    assignment.notified_at = timezone.now()
    assignment.save()
    later = timezone.now() + timedelta(days=3)
    services.assignment_set(actor=staff, survey=survey, cohort=cohort, opens_at=later, due_at=later + timedelta(days=7))
    assert survey.assignments.get().notified_at is None


# --- Results ----------------------------------------------------------------------------------------------------------
def test_survey_results_per_question(survey, cohort, django_assert_max_num_queries):
    # Given 10 partners in the cohort with known NPS scores, and one in another cohort who must not count
    scores = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]
    for i, score in enumerate(scores):
        person = OwnerFactory(organization__cohort=cohort).user
        services.response_save(
            actor=person, survey=survey,
            answers=full_answers(survey, rating=1 + i % 5, score=score, single=["Dailies", "Shots"][i % 2],
                                 multiple=["Speed", "Artefacts"][: 1 + i % 2], text=f"note {i}" if i < 3 else ""),
        )
    other_cohort = CohortFactory()
    SurveyAssignmentFactory(survey=survey, cohort=other_cohort)
    services.response_save(actor=OwnerFactory(organization__cohort=other_cohort).user, survey=survey,
                           answers=full_answers(survey, score=0))

    with django_assert_max_num_queries(3):
        results = selectors.survey_results(survey, cohort=cohort)

    assert results["respondents"] == 10
    by_kind = {item["kind"]: item for item in results["questions"]}
    assert by_kind["nps"]["nps"] == pytest.approx(stats.nps(scores))
    assert by_kind["nps"]["n"] == 10
    assert by_kind["rating"]["mean"] == pytest.approx(3.0)
    assert by_kind["rating"]["distribution"] == [(1, 2), (2, 2), (3, 2), (4, 2), (5, 2)]
    assert by_kind["single"]["distribution"] == [("Dailies", 5), ("Shots", 5)]
    assert by_kind["multiple"]["distribution"] == [("Speed", 10), ("Artefacts", 5), ("Controls", 0)]
    assert sorted(t["text"] for t in by_kind["long_text"]["texts"]) == ["note 0", "note 1", "note 2"]
    assert by_kind["long_text"]["skipped"] == 7
    # Every cohort together: 11 respondents.
    assert selectors.survey_results(survey)["respondents"] == 11


# --- Pages ------------------------------------------------------------------------------------------------------------
def test_staff_build_a_survey_from_the_pages(client, cohort):
    client.force_login(StaffFactory())
    response = client.post(reverse("beta:staff-surveys"), {"title": "Final May survey", "description": "Ten minutes."})
    survey = Survey.objects.get(title="Final May survey")
    assert response.url == reverse("beta:staff-survey", args=[survey.pk])
    add = reverse("beta:staff-survey-question-add", args=[survey.pk])
    # Assigning a survey without questions is refused.
    opens = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    due = timezone.localtime(timezone.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(reverse("beta:staff-survey-assign", args=[survey.pk]),
                          {"cohort": cohort.pk, "opens_at": opens, "due_at": due})
    assert refused.status_code == 400
    assert "Add at least one question" in refused.content.decode()

    client.post(add, {"kind": "rating", "prompt": "Overall?", "required": "on"})
    client.post(add, {"kind": "nps", "prompt": "Recommend?", "required": "on"})
    bad = client.post(add, {"kind": "single", "prompt": "Which tool?", "choices": "Only one"})
    assert bad.status_code == 400
    assert "at least two different options" in bad.content.decode()
    client.post(add, {"kind": "single", "prompt": "Which tool?", "choices": "Dailies\nShots\n\nShots"})
    client.post(add, {"kind": "short_text", "prompt": "Remove me"})
    prompts = list(survey.questions.values_list("prompt", flat=True))
    assert prompts == ["Overall?", "Recommend?", "Which tool?", "Remove me"]
    assert survey.questions.get(prompt="Which tool?").choices == ["Dailies", "Shots"]
    assert survey.questions.get(prompt="Remove me").required is False

    client.post(reverse("beta:staff-survey-question-move", args=[survey.questions.get(prompt="Which tool?").pk]),
                {"direction": "up"})
    client.post(reverse("beta:staff-survey-question-remove", args=[survey.questions.get(prompt="Remove me").pk]))
    assert list(survey.questions.values_list("prompt", "position")) == [
        ("Overall?", 0), ("Which tool?", 1), ("Recommend?", 2)
    ]

    bad_dates = client.post(reverse("beta:staff-survey-assign", args=[survey.pk]),
                            {"cohort": cohort.pk, "opens_at": due, "due_at": opens})
    assert "The due date must be after the opening." in bad_dates.content.decode()
    client.post(reverse("beta:staff-survey-assign", args=[survey.pk]),
                {"cohort": cohort.pk, "opens_at": opens, "due_at": due})
    assert survey.assignments.get().cohort == cohort

    page = client.get(reverse("beta:staff-survey", args=[survey.pk])).content.decode()
    assert "March wave 1" in page
    assert "Which tool?" in page
    listing = client.get(reverse("beta:staff-surveys")).content.decode()
    assert "Final May survey" in listing


def test_partner_sees_the_due_survey_on_the_dashboard_and_answers_it(client, survey, owner):
    client.force_login(owner)
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert "Surveys due" in dashboard
    assert reverse("beta:survey-respond", args=[survey.pk]) in dashboard
    assert "To do" in dashboard

    url = reverse("beta:survey-respond", args=[survey.pk])
    page = client.get(url).content.decode()
    assert "How useful were the tools?" in page
    assert 'type="radio"' in page

    # A wrong answer shows next to its question, and nothing is saved.
    invalid = client.post(url, {f"q{q(survey, 'rating').pk}": "4", f"q{q(survey, 'nps').pk}": "11"})
    assert invalid.status_code == 400
    body = invalid.content.decode()
    assert "Some answers need attention" in body
    assert not SurveyResponse.objects.exists()

    data = {
        f"q{q(survey, 'rating').pk}": "4",
        f"q{q(survey, 'nps').pk}": "9",
        f"q{q(survey, 'single').pk}": "Shots",
        f"q{q(survey, 'multiple').pk}": ["Speed", "Controls"],
        f"q{q(survey, 'long_text').pk}": "The cut list saved a day.",
    }
    saved = client.post(url, data, follow=True)
    assert "your answers are saved" in saved.content.decode()
    response = SurveyResponse.objects.get()
    answers = {a.question.kind: (a.value, a.number) for a in response.answers.select_related("question")}
    assert answers == {
        "rating": (4, 4.0), "nps": (9, 9.0), "single": ("Shots", None),
        "multiple": (["Speed", "Controls"], None), "long_text": ("The cut list saved a day.", None),
    }
    again = client.get(url).content.decode()
    assert "Save my changed answers" in again
    assert "The cut list saved a day." in again
    assert "Answered" in client.get(reverse("beta:survey-list")).content.decode()


def test_staff_results_page_shows_counts_mean_and_nps(client, survey, cohort):
    for score in [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]:
        person = OwnerFactory(organization__cohort=cohort).user
        services.response_save(actor=person, survey=survey, answers=full_answers(survey, score=score))
    client.force_login(StaffFactory())
    body = client.get(reverse("beta:staff-survey-results", args=[survey.pk])).content.decode()
    assert "10 responses" in body
    assert "NPS 20" in body
    assert "95 % interval -34 to 74, n = 10" in body
    assert "4.00" in body  # the mean rating
    assert "Great dailies." in body


def test_question_changes_are_for_staff_only(survey, owner):
    with pytest.raises(PermissionDeniedError):
        services.question_add(actor=owner, survey=survey, kind="rating", prompt="?")
    with pytest.raises(SurveyError):
        services.question_add(actor=StaffFactory(), survey=survey, kind="single", prompt="?", choices=["one"])


# --- The results dashboard's cache ------------------------------------------------------------------------------------
def test_a_saved_response_shows_on_the_cached_results_dashboard(owner, survey, settings,
                                                                django_capture_on_commit_callbacks):
    from beta.results import selectors as results

    settings.RESULTS_DASHBOARD_CACHE_SECONDS = 60
    filters = results.Filters()
    assert results.dashboard(filters, cached=True)["nps"] == []  # computed and cached before anyone answers
    with django_capture_on_commit_callbacks(execute=True):
        services.response_save(actor=owner, survey=survey, answers=full_answers(survey, score=10))
    nps = results.dashboard(filters, cached=True)["nps"]
    assert [(r.promoters, r.n) for r in nps] == [(1, 1)]
    assert [s["survey"].pk for s in results.dashboard(filters, cached=True)["surveys"]] == [survey.pk]
