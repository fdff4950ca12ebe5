"""Survey writes: staff build surveys and assign them to cohorts; partners answer; the cohort is told when one opens
and when it is due soon.

Every function is keyword-only and checks who may do it. A partner reaches a survey only through an assignment to
their studio's cohort (`selectors.assignment_for_user`), so a studio of another cohort never sees or answers it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import dateformat, timezone

from beta.models import Question, Survey, SurveyAnswer, SurveyAssignment, SurveyResponse
from beta.results import cache as results_cache
from beta.surveys import selectors
from beta.surveys.errors import SurveyError, SurveyNotOpenError, SurveyValidationError
from portal import events
from portal.errors import PermissionDeniedError
from portal.models import Cohort, Membership, Organization, User

CHOICE_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE)
NUMBER_RANGES = {Question.Kind.RATING: (1, 5), Question.Kind.NPS: (0, 10)}
TEXT_LIMITS = {Question.Kind.SHORT_TEXT: 500, Question.Kind.LONG_TEXT: 10_000}
MAX_CHOICES = 20


def when(moment: datetime) -> str:
    """A date as partners read it in messages and emails, with the zone named."""
    return dateformat.format(timezone.localtime(moment), "j F Y, H:i T")


def _require_staff(actor: User) -> None:
    if not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff can change surveys.")


# --- Staff: surveys and questions -------------------------------------------------------------------------------------
def survey_create(*, actor: User, title: str, description: str = "") -> Survey:
    """A new survey without questions; staff add them on its page."""
    _require_staff(actor)
    return Survey.objects.create(title=title.strip(), description=description.strip(), created_by=actor)


def survey_update(*, actor: User, survey: Survey, title: str, description: str = "") -> Survey:
    _require_staff(actor)
    survey.title, survey.description = title.strip(), description.strip()
    survey.save(update_fields=["title", "description", "updated_at"])
    return survey


def _clean_choices(kind: str, choices) -> list[str]:
    if kind not in CHOICE_KINDS:
        return []
    cleaned: list[str] = []
    for choice in choices or []:
        text = str(choice).strip()
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) < 2:
        raise SurveyError("A choice question needs at least two different options.")
    if len(cleaned) > MAX_CHOICES:
        raise SurveyError(f"A choice question takes at most {MAX_CHOICES} options.")
    return cleaned


def question_add(
    *, actor: User, survey: Survey, kind: str, prompt: str, help_text: str = "", required: bool = True, choices=()
) -> Question:
    """Append a question at the end of the survey."""
    _require_staff(actor)
    if kind not in Question.Kind.values:
        raise SurveyError("Choose the kind of question.")
    cleaned = _clean_choices(kind, choices)
    with transaction.atomic():
        Survey.objects.select_for_update().filter(pk=survey.pk).first()  # serialise concurrent appends
        last = survey.questions.aggregate(last=Max("position"))["last"]
        return Question.objects.create(
            survey=survey,
            position=0 if last is None else last + 1,
            kind=kind,
            prompt=prompt.strip(),
            help_text=help_text.strip(),
            required=required,
            choices=cleaned,
        )


def question_move(*, actor: User, question: Question, direction: str) -> None:
    """Swap a question with its neighbour ("up" or "down"); positions are renumbered 0..n-1 on the way."""
    _require_staff(actor)
    if direction not in ("up", "down"):
        raise SurveyError("A question moves up or down.")
    with transaction.atomic():
        questions = list(Question.objects.select_for_update().filter(survey_id=question.survey_id))
        index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(questions):
            questions[index], questions[other] = questions[other], questions[index]
        for position, item in enumerate(questions):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])


def question_remove(*, actor: User, question: Question) -> None:
    """Remove a question and the answers given to it; the others close the gap."""
    _require_staff(actor)
    with transaction.atomic():
        Question.objects.filter(survey_id=question.survey_id, position__gt=question.position).update(
            position=F("position") - 1
        )
        question.delete()


def assignment_set(
    *, actor: User, survey: Survey, cohort: Cohort, opens_at: datetime, due_at: datetime
) -> SurveyAssignment:
    """Open a survey to a cohort between two dates (or move the dates of its assignment).

    Moving the opening into the future again clears `notified_at`, so the cohort is emailed when it opens.
    """
    _require_staff(actor)
    if due_at <= opens_at:
        raise SurveyError("The due date must be after the opening.")
    if not survey.questions.exists():
        raise SurveyError("Add at least one question before assigning the survey.")
    with transaction.atomic():
        assignment, created = SurveyAssignment.objects.select_for_update().get_or_create(
            survey=survey, cohort=cohort, defaults={"opens_at": opens_at, "due_at": due_at}
        )
        if not created:
            if opens_at > timezone.now():
                assignment.notified_at = None
            assignment.opens_at, assignment.due_at = opens_at, due_at
            assignment.save(update_fields=["opens_at", "due_at", "notified_at"])
    return assignment


def assignment_remove(*, actor: User, assignment: SurveyAssignment) -> None:
    """Withdraw the survey from a cohort. Responses already given are kept."""
    _require_staff(actor)
    assignment.delete()


# --- Partners: answering ----------------------------------------------------------------------------------------------
def _as_int(raw) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    return None


def _is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list | tuple) and not raw)


def answer_clean(question: Question, raw) -> tuple[object, float | None]:
    """(value, number) to store for one answer, or ValueError with the message to show next to the question.

    Rating: an integer 1-5; NPS: an integer 0-10; single choice: one of the options; multiple choice: a list of
    distinct options; texts: at most 500 (short) or 10,000 (long) characters. A blank answer is (None, None).
    """
    if _is_blank(raw):
        if question.required:
            raise ValueError("This question needs an answer.")
        return None, None
    kind = question.kind
    if kind in NUMBER_RANGES:
        return _clean_number(kind, raw)
    if kind == Question.Kind.SINGLE:
        return _clean_single(question, raw)
    if kind == Question.Kind.MULTIPLE:
        return _clean_multiple(question, raw)
    if kind in TEXT_LIMITS:
        return _clean_text(kind, raw)
    raise ValueError("This question cannot be answered.")


def _clean_number(kind: str, raw) -> tuple[object, float | None]:
    low, high = NUMBER_RANGES[kind]
    number = _as_int(raw)
    if number is None or not low <= number <= high:
        raise ValueError(f"Choose a whole number from {low} to {high}.")
    return number, float(number)


def _clean_single(question: Question, raw) -> tuple[object, float | None]:
    if not isinstance(raw, str) or raw not in question.choices:
        raise ValueError("Choose one of the options.")
    return raw, None


def _clean_multiple(question: Question, raw) -> tuple[object, float | None]:
    picked = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else None
    if picked is None or any(not isinstance(p, str) or p not in question.choices for p in picked):
        raise ValueError("Choose from the options only.")
    if len(set(picked)) != len(picked):
        raise ValueError("Choose each option at most once.")
    return [c for c in question.choices if c in picked], None  # in the survey's order


def _clean_text(kind: str, raw) -> tuple[object, float | None]:
    if not isinstance(raw, str):
        raise ValueError("Type your answer.")
    text = raw.strip()
    if len(text) > TEXT_LIMITS[kind]:
        raise ValueError(f"Keep it to {TEXT_LIMITS[kind]:,} characters.")
    return text, None


def check_open(assignment: SurveyAssignment, now: datetime | None = None) -> None:
    """Answers are taken from the opening until (not including) the due date."""
    now = now or timezone.now()
    if now < assignment.opens_at:
        raise SurveyNotOpenError(f"This survey opens on {when(assignment.opens_at)}.")
    if now >= assignment.due_at:
        raise SurveyNotOpenError(
            f"This survey closed on {when(assignment.due_at)}; answers can no longer be given or changed."
        )


def response_save(
    *, actor: User, survey: Survey, answers: dict[int, object], now: datetime | None = None
) -> SurveyResponse:
    """Save the person's one response to the survey (creating it, or replacing its answers until the due date).

    `answers` maps question ids to raw values (a number or its text, an option, a list of options, a text).
    Every question is checked; nothing is saved unless all answers fit.
    """
    assignment = selectors.assignment_for_user(actor, survey.pk)
    if assignment is None:
        raise PermissionDeniedError("This survey is not open to your studio.")
    check_open(assignment, now)
    membership = Membership.objects.filter(user=actor).select_related("organization").first()
    questions = list(survey.questions.all())
    cleaned, errors = {}, {}
    for question in questions:
        try:
            cleaned[question.pk] = answer_clean(question, answers.get(question.pk))
        except ValueError as exc:
            errors[question.pk] = str(exc)
    if errors:
        raise SurveyValidationError(errors)

    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                response, _ = SurveyResponse.objects.select_for_update().get_or_create(
                    survey=survey, respondent=actor, defaults={"organization": membership.organization}
                )
        except IntegrityError:  # a second request made it first: one response per person
            response = SurveyResponse.objects.select_for_update().get(survey=survey, respondent=actor)
        response.submitted_at = response.submitted_at or now
        response.save(update_fields=["submitted_at", "updated_at"])
        SurveyAnswer.objects.filter(response=response).exclude(
            question_id__in=[pk for pk, (value, _) in cleaned.items() if value is not None]
        ).delete()
        for question_id, (value, number) in cleaned.items():
            if value is not None:
                SurveyAnswer.objects.update_or_create(
                    response=response, question_id=question_id, defaults={"value": value, "number": number}
                )
        transaction.on_commit(results_cache.invalidate)  # the results dashboard's cached numbers are out of date
    return response


# --- Telling the cohort: opened, and due soon -------------------------------------------------------------------------
def _studios_told(assignment: SurveyAssignment, event_type: str) -> int:
    """Publish the event once per active studio of the assignment's cohort (beta.notifications tells its people);
    return how many people those studios have."""
    studios = list(
        Organization.objects.filter(cohort_id=assignment.cohort_id, is_active=True).values_list("pk", flat=True)
    )
    for organization_id in studios:
        events.publish(event_type, organization_id=organization_id,
                       data={"assignment_id": assignment.pk, "survey_id": assignment.survey_id})
    return User.objects.filter(is_active=True, memberships__organization_id__in=studios).distinct().count()


def _claim_each(pending, field: str, event_type: str, now: datetime) -> int:
    """Claim each assignment under a row lock (skipping rows another run holds) and announce it once."""
    told = 0
    for assignment_id in pending.values_list("pk", flat=True):
        with transaction.atomic():
            assignment = (
                SurveyAssignment.objects.select_for_update(skip_locked=True)
                .filter(pk=assignment_id, **{f"{field}__isnull": True})
                .first()
            )
            if assignment is None:
                continue
            told += _studios_told(assignment, event_type)
            setattr(assignment, field, now)
            assignment.save(update_fields=[field])
    return told


def surveys_notify_opened(*, now: datetime | None = None) -> int:
    """Tell every member of the cohorts whose assignment has opened (and is not yet due) and was not yet announced.

    Run periodically by beat; each assignment is announced once, however the runs overlap. Returns the number of
    people told (each hears by the channel they chose for "survey opened": email by default).
    """
    now = now or timezone.now()
    pending = SurveyAssignment.objects.filter(opens_at__lte=now, due_at__gt=now, notified_at__isnull=True)
    return _claim_each(pending, "notified_at", "survey.opened", now)


def surveys_notify_due_soon(*, now: datetime | None = None) -> int:
    """Remind the cohorts of an open survey due within SURVEY_DUE_SOON_HOURS, once; those who have submitted their
    answers are not reminded. Run periodically by beat. Returns the number of people in the studios reminded."""
    now = now or timezone.now()
    pending = SurveyAssignment.objects.filter(
        opens_at__lte=now, due_at__gt=now, due_at__lte=now + timedelta(hours=settings.SURVEY_DUE_SOON_HOURS),
        due_soon_notified_at__isnull=True,
    )
    return _claim_each(pending, "due_soon_notified_at", "survey.due_soon", now)
