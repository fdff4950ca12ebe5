"""Blind comparison forms: staff set one up; partners pick. Forms shape the input; services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from beta.comparisons.selectors import candidate_groups
from beta.comparisons.services import MAX_REASON
from portal.forms.staff import DATETIME_LOCAL, DateTimeLocalInput, StaffForm
from portal.models import Organization


class StudioPickForm(StaffForm):
    studio = forms.ModelChoiceField(label="Studio", queryset=Organization.objects.filter(is_active=True),
                                    help_text="The studio whose partners compare, and whose outputs are compared.")


class ComparisonForm(StaffForm):
    title = forms.CharField(
        label="Title", max_length=200,
        help_text="Partners see it: do not name the tools or versions, e.g. “Upscaled plate, shot 12”.",
    )
    question = forms.CharField(label="Question", max_length=300, required=False,
                               initial="Which output is better for your production?")
    output_a = forms.ChoiceField(label="Output A")
    label_a = forms.CharField(label="Label of A (staff only)", max_length=120, required=False,
                              help_text="Empty: the tool and version, e.g. “Image upscaling 1.0.0”.")
    output_b = forms.ChoiceField(label="Output B")
    label_b = forms.CharField(label="Label of B (staff only)", max_length=120, required=False)
    due_at = forms.DateTimeField(label="Due", required=False, widget=DateTimeLocalInput(),
                                 input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"])

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.groups = candidate_groups(organization)
        self.outputs = {str(o.pk): o for group in self.groups for o in group["outputs"]}
        choices = [("", "Choose an output")] + [
            (
                f"Input {group['inputs']} ({group['fingerprint'][0][:12]}…)",
                [(str(o.pk), o.display) for o in group["outputs"]],
            )
            for group in self.groups
        ]
        self.fields["output_a"].choices = choices
        self.fields["output_b"].choices = choices
        self.fields["due_at"].help_text = f"Optional. Time zone: {timezone.get_current_timezone_name()}."

    def clean(self):
        data = super().clean()
        a, b = self.outputs.get(data.get("output_a") or ""), self.outputs.get(data.get("output_b") or "")
        if a is not None and b is not None:
            if a.pk == b.pk:
                self.add_error("output_b", "Choose an output other than A.")
            elif not any(a in g["outputs"] and b in g["outputs"] for g in self.groups):
                self.add_error("output_b", "Choose an output made from the same input as A.")
        data["output_a_obj"], data["output_b_obj"] = a, b
        return data


class VoteForm(forms.Form):
    pick = forms.ChoiceField(
        label="Which is better?",
        choices=[("left", "A (left)"), ("right", "B (right)"), ("same", "About the same")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Why?", max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What made the difference for your production: detail, artefacts, timing, look.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
