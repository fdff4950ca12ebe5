"""Forms of the feedback pages. The partner's answers are checked by `services.clean_feedback_data` (one set of
rules for the page, drafts and the API); these describe the questions and check the staff's triage input."""

from __future__ import annotations

from django import forms

from beta.models import FeedbackCategory, FeedbackReport
from portal.ids import ModelIdsField
from portal.models import User

from .services import TRIAGE_STATUSES

RATING_QUESTIONS = [
    ("overall_rating", "Overall, how was this run?", "1 is poor, 5 is excellent."),
    ("quality_rating", "Quality of the output", "Artefacts, accuracy, finish: 1 is unusable, 5 is flawless."),
    ("usefulness_rating", "Usefulness for your work", "1 is no use, 5 is a real help."),
]
RATING_WORDS = {1: "Poor", 2: "Fair", 3: "Good", 4: "Very good", 5: "Excellent"}


def staff_people():
    return User.objects.filter(is_active=True, staff_role__in=[User.StaffRole.REVIEWER, User.StaffRole.ADMIN]).order_by(
        "full_name", "email"
    )


def tag_names(text: str) -> list[str]:
    """Tags typed as "banding, colour" (commas separate tags)."""
    return [" ".join(part.split()).lower() for part in (text or "").split(",") if part.strip()]


class BulkForm(forms.Form):
    """The inbox's bulk actions on the ticked reports."""

    ACTIONS = [
        ("status", "Change status"),
        ("assign", "Assign"),
        ("unassign", "Unassign"),
        ("tag", "Add tags"),
    ]
    report = ModelIdsField(
        queryset=FeedbackReport.objects.submitted(),
        error_messages={"required": "Tick at least one report first."},
    )
    action = forms.ChoiceField(choices=ACTIONS)
    status = forms.ChoiceField(choices=[("", "—"), *[(s.value, s.label) for s in TRIAGE_STATUSES]], required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    tags = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_people()

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", "Choose who to assign.")
        if action == "tag" and not tag_names(data.get("tags", "")):
            self.add_error("tags", "Type a tag.")
        return data


class TriageForm(forms.Form):
    """One report's status, assignee and tags, on its staff page."""

    status = forms.ChoiceField(choices=[(s.value, s.label) for s in TRIAGE_STATUSES])
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody")
    tags = forms.CharField(required=False, max_length=300, help_text="Separate tags with commas.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_people()


CATEGORY_CHOICES = FeedbackCategory.Category.choices
FIT_CHOICES = FeedbackReport.ProductionFit.choices
