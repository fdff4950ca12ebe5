from django import forms
from django.utils import timezone

from api.models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Render farm ingest”.")
    access = forms.ChoiceField(
        choices=[("read", "Read only: list and download"), ("write", "Read and write: upload, run and cancel jobs")],
        initial="read",
        widget=forms.RadioSelect,
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at the start of this day (UTC). Leave empty for no expiry.",
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.now().date():
            raise forms.ValidationError("Choose a day after today.")
        return day

    def scopes(self) -> list[str]:
        if self.cleaned_data["access"] == "write":
            return [ApiKey.Scope.READ, ApiKey.Scope.WRITE]
        return [ApiKey.Scope.READ]
