"""Forms of the staff console's agreement pages. They check input; the writes happen in services."""

from __future__ import annotations

from django import forms

from portal.forms.staff import StaffForm
from portal.models import AgreementVersion


class AgreementDraftForm(StaffForm):
    version = forms.CharField(
        label="Version", max_length=20, help_text="A number people will see, for example “2.0”. Each is used once."
    )
    title = forms.CharField(label="Title", max_length=200)
    text = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Plain text; a blank line starts a new paragraph. Partners read it before they accept.",
    )

    @classmethod
    def for_draft(cls, draft: AgreementVersion | None, data=None) -> AgreementDraftForm:
        initial = {"version": draft.version, "title": draft.title, "text": draft.text} if draft else None
        return cls(data=data, initial=initial)

    def clean_version(self) -> str:
        version = self.cleaned_data["version"].strip()
        if not version:
            raise forms.ValidationError("Give the version a number, for example “2.0”.")
        return version

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("The agreement needs its text.")
        return text
