"""Forms of the staff studio page's lifecycle actions: suspend (with a reason) and offboard (typed confirmation)."""

from django import forms

from portal.forms.staff import StaffForm
from portal.lifecycle import MAX_REASON_CHARS


class SuspendForm(StaffForm):
    reason = forms.CharField(
        label="Why is the studio suspended?",
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit trail and shown to staff. The studio's people are told to contact the programme.",
    )


class OffboardForm(StaffForm):
    confirm_name = forms.CharField(label="Type the studio's name to confirm", max_length=200)

    def __init__(self, *args, studio, **kwargs):
        super().__init__(*args, **kwargs)
        self.studio = studio
        self.fields["confirm_name"].help_text = f"Exactly “{studio.name}”."
        self.fields["confirm_name"].widget.attrs["autocomplete"] = "off"

    def clean_confirm_name(self):
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.studio.name:
            raise forms.ValidationError(f"That is not the studio's name; type “{self.studio.name}” exactly.")
        return typed
