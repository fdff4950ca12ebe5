"""Survey reads. The statistics (NPS, rating summaries) are `beta.stats`, shared with the results dashboard.

Public, documented helpers for other features:

- `survey_results(survey, *, cohort=None, organization_ids=None) -> dict`: every question's numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from beta.models import Question, Survey, SurveyAnswer, SurveyAssignment, SurveyResponse
from beta.stats import mean, nps, nps_groups, rating_summary
from portal.models import Membership


# --- Partner reads ----------------------------------------------------------------------------------------------------
def cohort_id_for_user(user) -> int | None:
    """The cohort of the person's studio (None for staff, people without a studio, studios without a cohort)."""
    if not user.is_authenticated or user.is_studio_staff:
        return None
    membership = Membership.objects.filter(user=user).select_related("organization").first()
    if membership is None or not membership.organization.is_active:
        return None
    return membership.organization.cohort_id


def assignment_for_user(user, survey_id: int) -> SurveyAssignment | None:
    """The assignment through which this person may answer the survey: their studio's cohort's, or None."""
    cohort_id = cohort_id_for_user(user)
    if cohort_id is None:
        return None
    return (
        SurveyAssignment.objects.select_related("survey", "cohort")
        .filter(survey_id=survey_id, cohort_id=cohort_id)
        .first()
    )


def assignments_for_user(user, *, now: datetime | None = None, due_only: bool = False) -> list[SurveyAssignment]:
    """The surveys opened to the person's cohort, soonest due first; each with `answered` (bool) for this person.

    `due_only` keeps those open now (opened and not yet due), for the dashboard.
    """
    cohort_id = cohort_id_for_user(user)
    if cohort_id is None:
        return []
    now = now or timezone.now()
    answered = SurveyResponse.objects.filter(
        survey_id=OuterRef("survey_id"), respondent=user, submitted_at__isnull=False
    )
    qs = (
        SurveyAssignment.objects.filter(cohort_id=cohort_id, opens_at__lte=now)
        .select_related("survey")
        .annotate(answered=Exists(answered), question_count=Count("survey__questions"))
        .order_by("due_at", "id")
    )
    if due_only:
        qs = qs.filter(due_at__gt=now)
    return list(qs)


def response_for_user(user, survey: Survey) -> SurveyResponse | None:
    return (
        SurveyResponse.objects.for_user(user)
        .filter(survey=survey, respondent=user)
        .prefetch_related("answers")
        .first()
    )


# --- Staff reads ------------------------------------------------------------------------------------------------------
def surveys_for_staff():
    """Every survey with its counts, newest first."""
    return Survey.objects.annotate(
        question_count=Count("questions", distinct=True),
        response_count=Count("responses", filter=Q(responses__submitted_at__isnull=False), distinct=True),
        assignment_count=Count("assignments", distinct=True),
    ).prefetch_related(Prefetch("assignments", queryset=SurveyAssignment.objects.select_related("cohort")))


def _answers(survey: Survey, *, cohort=None, organization_ids=None):
    qs = SurveyAnswer.objects.filter(question__survey=survey, response__submitted_at__isnull=False)
    if cohort is not None:
        qs = qs.filter(response__organization__cohort=cohort)
    if organization_ids is not None:
        qs = qs.filter(response__organization_id__in=list(organization_ids))
    return qs


def _question_numbers(question: Question, rows: list[dict]) -> dict:
    """One question's numbers from its answer rows, by kind (see survey_results)."""
    if question.kind == Question.Kind.RATING:
        return rating_summary(row["number"] for row in rows)
    if question.kind == Question.Kind.NPS:
        scores = [row["number"] for row in rows]
        return {
            "nps": nps(scores),
            "groups": nps_groups(scores),
            "mean": mean(scores),
            "distribution": rating_summary(scores, range(11))["distribution"],
        }
    if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        counts: Counter = Counter()
        for row in rows:
            value = row["value"]
            counts.update(value if isinstance(value, list) else [value])
        distribution = [(choice, counts.pop(choice, 0)) for choice in question.choices]
        return {"distribution": distribution, "other": sorted(counts.items())}
    return {
        "texts": [
            {
                "text": row["value"],
                "organization_id": row["response__organization_id"],
                "organization": row["response__organization__name"],
                "submitted_at": row["response__submitted_at"],
            }
            for row in rows
        ]
    }


def survey_results(survey: Survey, *, cohort=None, organization_ids: Iterable[int] | None = None) -> dict:
    """Every question's numbers from the submitted responses (optionally of one cohort, or some studios).

    Returns {"survey", "respondents", "questions": [...]}, each question a dict with:
    - "question", "kind", "n" (how many answered it), "skipped" (respondents who left it blank);
    - rating: "mean", "distribution" [(1..5, count)]; NPS: "nps" (score, low, high, n) from `beta.stats.nps`, "groups",
      "distribution" [(0..10, count)];
    - single / multiple choice: "distribution" [(option, count)] in the survey's order (for multiple choice the
      counts add up to more than n: a person may pick several), and "other" counts of options no longer listed;
    - texts: "texts", a list of {"text", "organization_id", "organization", "submitted_at"}, newest first.
    Three queries whatever the number of responses.
    """
    questions = list(survey.questions.all())
    responses = SurveyResponse.objects.filter(survey=survey, submitted_at__isnull=False)
    if cohort is not None:
        responses = responses.filter(organization__cohort=cohort)
    if organization_ids is not None:
        responses = responses.filter(organization_id__in=list(organization_ids))
    respondents = responses.count()
    by_question: dict[int, list[dict]] = {q.pk: [] for q in questions}
    rows = (
        _answers(survey, cohort=cohort, organization_ids=organization_ids)
        .order_by("-response__submitted_at", "pk")
        .values("question_id", "value", "number", "response__organization_id", "response__organization__name",
                "response__submitted_at")
    )
    for row in rows:
        by_question.setdefault(row["question_id"], []).append(row)

    results = []
    for question in questions:
        rows = by_question.get(question.pk, [])
        item = {"question": question, "kind": question.kind, "n": len(rows), "skipped": respondents - len(rows)}
        results.append(item | _question_numbers(question, rows))
    return {"survey": survey, "respondents": respondents, "questions": results}


def dashboard_panel(user, organization) -> list[dict]:
    """The partner dashboard's "Surveys due" panel (registered in beta/apps.py): open surveys of the cohort."""
    assignments = assignments_for_user(user, due_only=True)
    if not assignments:
        return []
    return [{"template": "beta/surveys/_dashboard_panel.html", "assignments": assignments}]
