"""Survey forms: staff build surveys; partners answer them. Forms shape the input; services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from beta.models import Question, Survey
from beta.surveys.services import MAX_CHOICES, NUMBER_RANGES, TEXT_LIMITS
from portal.forms.staff import DATETIME_LOCAL, DateTimeLocalInput, StaffForm
from portal.models import Cohort


class SurveyForm(StaffForm):
    title = forms.CharField(label="Title", max_length=200, help_text="Partners see it, e.g. “Weekly check-in”.")
    description = forms.CharField(
        label="Introduction", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown above the questions: what the survey is for and how long it takes.",
    )

    def __init__(self, *args, survey: Survey | None = None, **kwargs):
        if survey is not None and "initial" not in kwargs:
            kwargs["initial"] = {"title": survey.title, "description": survey.description}
        super().__init__(*args, **kwargs)


class QuestionForm(StaffForm):
    kind = forms.ChoiceField(label="Kind", choices=Question.Kind.choices)
    prompt = forms.CharField(label="Question", max_length=500)
    help_text = forms.CharField(label="Help", max_length=500, required=False,
                                help_text="Optional, shown under the question.")
    choices = forms.CharField(
        label="Options", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"For single and multiple choice: one option a line, 2 to {MAX_CHOICES}.",
    )
    required = forms.BooleanField(label="An answer is required", required=False, initial=True)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        options = [line.strip() for line in (data.get("choices") or "").splitlines() if line.strip()]
        if kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            if len(set(options)) < 2:
                self.add_error("choices", "Give at least two different options, one a line.")
            elif len(set(options)) > MAX_CHOICES:
                self.add_error("choices", f"Give at most {MAX_CHOICES} options.")
        data["choice_list"] = options
        return data


class AssignmentForm(StaffForm):
    cohort = forms.ModelChoiceField(label="Cohort", queryset=Cohort.objects.order_by("opens_at", "name"))
    opens_at = forms.DateTimeField(label="Opens", widget=DateTimeLocalInput(),
                                   input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"])
    due_at = forms.DateTimeField(label="Due", widget=DateTimeLocalInput(),
                                 input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["opens_at"].help_text = f"Time zone: {zone}. The cohort is emailed when it opens."
        self.fields["due_at"].help_text = f"Time zone: {zone}. Answers can be changed until then."

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("due_at") and data["due_at"] <= data["opens_at"]:
            self.add_error("due_at", "The due date must be after the opening.")
        return data


def _scale(kind: str) -> list[tuple[str, str]]:
    low, high = NUMBER_RANGES[kind]
    return [(str(n), str(n)) for n in range(low, high + 1)]


class ResponseForm(forms.Form):
    """One field per question, named `q<id>`; the service checks the answers again by the same rules."""

    def __init__(self, *args, questions: list[Question], answers: dict[int, object] | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.questions = questions
        answers = answers or {}
        for question in questions:
            self.fields[self.name_for(question)] = self._field(question)
            if question.pk in answers and not self.is_bound:
                value = answers[question.pk]
                self.initial[self.name_for(question)] = str(value) if isinstance(value, int) else value

    @staticmethod
    def name_for(question: Question) -> str:
        return f"q{question.pk}"

    @staticmethod
    def _field(question: Question) -> forms.Field:
        common = {"label": question.prompt, "required": question.required, "help_text": question.help_text}
        kind = question.kind
        if kind in NUMBER_RANGES:
            return forms.ChoiceField(choices=_scale(kind), widget=forms.RadioSelect, **common)
        if kind == Question.Kind.SINGLE:
            return forms.ChoiceField(choices=[(c, c) for c in question.choices], widget=forms.RadioSelect, **common)
        if kind == Question.Kind.MULTIPLE:
            return forms.MultipleChoiceField(
                choices=[(c, c) for c in question.choices], widget=forms.CheckboxSelectMultiple, **common
            )
        widget = forms.Textarea(attrs={"rows": 5}) if kind == Question.Kind.LONG_TEXT else forms.TextInput
        return forms.CharField(max_length=TEXT_LIMITS[kind], widget=widget, **common)

    def answers(self) -> dict[int, object]:
        """Raw answers by question id, for `response_save`."""
        return {q.pk: self.cleaned_data.get(self.name_for(q)) for q in self.questions}

    def bound_questions(self):
        """(question, bound field) pairs in the survey's order, for the template."""
        return [(q, self[self.name_for(q)]) for q in self.questions]
