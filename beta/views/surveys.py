"""Survey pages. Staff: list, build (questions, cohorts and dates), results. Partners: what is open, and answering.

A partner reaches a survey only through an assignment to their studio's cohort (`assignment_for_user`); any other
survey is a 404. Staff pages answer 404 to everyone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beta.models import Question, Survey, SurveyAssignment
from beta.surveys import selectors, services
from beta.surveys.errors import SurveyError, SurveyNotOpenError, SurveyValidationError
from beta.surveys.forms import AssignmentForm, QuestionForm, ResponseForm, SurveyForm
from portal.decorators import partner_required, staff_required
from portal.models import Cohort


# --- Partners ---------------------------------------------------------------------------------------------------------
def _state(assignment: SurveyAssignment, now=None) -> str:
    now = now or timezone.now()
    if now < assignment.opens_at:
        return "upcoming"
    return "closed" if now >= assignment.due_at else "open"


@partner_required
@require_GET
def survey_list(request):
    now = timezone.now()
    assignments = selectors.assignments_for_user(request.user, now=now)
    for assignment in assignments:
        assignment.state = _state(assignment, now)
    return render(request, "beta/surveys/list.html", {"assignments": assignments})


@partner_required
@require_http_methods(["GET", "HEAD", "POST"])
def survey_respond(request, survey_id):
    assignment = selectors.assignment_for_user(request.user, survey_id)
    if assignment is None:
        raise Http404
    survey = assignment.survey
    questions = list(survey.questions.all())
    response = selectors.response_for_user(request.user, survey)
    answers = {answer.question_id: answer.value for answer in response.answers.all()} if response else {}
    state = _state(assignment)

    if request.method == "POST":
        try:
            services.check_open(assignment)
        except SurveyNotOpenError as exc:
            messages.error(request, str(exc))
            return redirect("beta:survey-respond", survey_id=survey.pk)
        form = ResponseForm(request.POST, questions=questions)
        if form.is_valid():
            try:
                services.response_save(actor=request.user, survey=survey, answers=form.answers())
            except SurveyValidationError as exc:
                for question in questions:
                    if question.pk in exc.errors:
                        form.add_error(form.name_for(question), exc.errors[question.pk])
            except SurveyNotOpenError as exc:
                messages.error(request, str(exc))
                return redirect("beta:survey-respond", survey_id=survey.pk)
            else:
                messages.success(
                    request,
                    f"Thank you: your answers are saved. You can change them until {services.when(assignment.due_at)}.",
                )
                return redirect("beta:survey-respond", survey_id=survey.pk)
    else:
        form = ResponseForm(questions=questions, answers=answers)
    if state != "open":
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "beta/surveys/respond.html",
        {
            "survey": survey,
            "assignment": assignment,
            "state": state,
            "form": form,
            "response": response,
            "opens": services.when(assignment.opens_at),
            "due": services.when(assignment.due_at),
        },
        status=200 if not form.errors else 400,
    )


# --- Staff ------------------------------------------------------------------------------------------------------------
@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_survey_list(request):
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        survey = services.survey_create(actor=request.user, **form.cleaned_data)
        messages.success(request, f"Survey “{survey.title}” created. Add its questions, then assign it to cohorts.")
        return redirect("beta:staff-survey", survey_id=survey.pk)
    return render(request, "beta/surveys/staff_list.html", {"surveys": selectors.surveys_for_staff(), "form": form})


def _survey(survey_id) -> Survey:
    return get_object_or_404(Survey, pk=survey_id)


def _render_detail(request, survey, *, survey_form=None, question_form=None, assignment_form=None, status=200):
    questions = list(survey.questions.all())
    return render(
        request,
        "beta/surveys/staff_detail.html",
        {
            "survey": survey,
            "questions": questions,
            "assignments": survey.assignments.select_related("cohort"),
            "response_count": survey.responses.filter(submitted_at__isnull=False).count(),
            "survey_form": survey_form or SurveyForm(survey=survey),
            "question_form": question_form or QuestionForm(),
            "assignment_form": assignment_form or AssignmentForm(),
            "now": timezone.now(),
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_survey(request, survey_id):
    survey = _survey(survey_id)
    if request.method == "POST":
        form = SurveyForm(request.POST, survey=survey)
        if form.is_valid():
            services.survey_update(actor=request.user, survey=survey, **form.cleaned_data)
            messages.success(request, "Survey saved.")
            return redirect("beta:staff-survey", survey_id=survey.pk)
        return _render_detail(request, survey, survey_form=form, status=400)
    return _render_detail(request, survey)


@staff_required
@require_POST
def staff_question_add(request, survey_id):
    survey = _survey(survey_id)
    form = QuestionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.question_add(
                actor=request.user, survey=survey, kind=data["kind"], prompt=data["prompt"],
                help_text=data["help_text"], required=data["required"], choices=data["choice_list"],
            )
        except SurveyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Question added.")
            return redirect(reverse("beta:staff-survey", args=[survey.pk]) + "#questions")
    return _render_detail(request, survey, question_form=form, status=400)


@staff_required
@require_POST
def staff_question_move(request, question_id):
    question = get_object_or_404(Question, pk=question_id)
    try:
        services.question_move(actor=request.user, question=question, direction=request.POST.get("direction", ""))
    except SurveyError as exc:
        messages.error(request, str(exc))
    return redirect("beta:staff-survey", survey_id=question.survey_id)


@staff_required
@require_POST
def staff_question_remove(request, question_id):
    question = get_object_or_404(Question, pk=question_id)
    survey_id = question.survey_id
    services.question_remove(actor=request.user, question=question)
    messages.success(request, "Question removed, with the answers given to it.")
    return redirect("beta:staff-survey", survey_id=survey_id)


@staff_required
@require_POST
def staff_assignment_set(request, survey_id):
    survey = _survey(survey_id)
    form = AssignmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assignment_set(
                actor=request.user, survey=survey, cohort=data["cohort"], opens_at=data["opens_at"],
                due_at=data["due_at"],
            )
        except SurveyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Assigned to {assignment.cohort.name}: open from {services.when(assignment.opens_at)} "
                f"until {services.when(assignment.due_at)}.",
            )
            return redirect("beta:staff-survey", survey_id=survey.pk)
    return _render_detail(request, survey, assignment_form=form, status=400)


@staff_required
@require_POST
def staff_assignment_remove(request, surveyassignment_id):
    assignment = get_object_or_404(SurveyAssignment.objects.select_related("cohort"), pk=surveyassignment_id)
    survey_id = assignment.survey_id
    services.assignment_remove(actor=request.user, assignment=assignment)
    messages.success(request, f"The survey is no longer assigned to {assignment.cohort.name}. Answers are kept.")
    return redirect("beta:staff-survey", survey_id=survey_id)


@staff_required
@require_GET
def staff_survey_results(request, survey_id):
    survey = _survey(survey_id)
    cohorts = list(Cohort.objects.filter(survey_assignments__survey=survey).order_by("opens_at"))
    cohort = next((c for c in cohorts if str(c.pk) == request.GET.get("cohort", "")), None)
    results = selectors.survey_results(survey, cohort=cohort)
    for item in results["questions"]:
        distribution = item.get("distribution") or []
        top = max((count for _, count in distribution), default=0)
        item["bars"] = [
            {"label": label, "count": count, "width": round(100 * count / top) if top else 0,
             "share": round(100 * count / item["n"]) if item["n"] else 0}
            for label, count in distribution
        ]
    return render(
        request,
        "beta/surveys/staff_results.html",
        {"survey": survey, "results": results, "cohorts": cohorts, "cohort": cohort},
    )
