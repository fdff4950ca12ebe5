"""Forms of the staff console's tools and quotas pages. They check input; the writes happen in services."""

from __future__ import annotations

from django import forms

from portal.forms.staff import GB, StaffForm
from portal.models import Cohort, Organization


class ToolSwitchForm(StaffForm):
    """One press of a switch on the tools page: pause or resume the tool, or offer or withdraw it for a cohort."""

    ACTIONS = (
        ("pause", "Pause for everyone"),
        ("resume", "Resume"),
        ("offer", "Offer to a cohort"),
        ("withdraw", "Withdraw from a cohort"),
        ("offer-all", "Offer to every cohort"),
    )
    action = forms.ChoiceField(choices=ACTIONS, error_messages={"invalid_choice": "That is not a switch of this page."})
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.all(), required=False,
        error_messages={"invalid_choice": "That cohort does not exist (any more)."},
    )
    note = forms.CharField(label="Note for partners", max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") in ("offer", "withdraw") and not data.get("cohort"):
            raise forms.ValidationError("Choose the cohort to offer the tool to or withdraw it from.")
        return data

    def first_error(self) -> str:
        for field_name, errors in self.errors.items():
            label = self.fields[field_name].label if field_name in self.fields else ""
            return f"{label}: {errors[0]}" if label and field_name != "__all__" else str(errors[0])
        return ""


class QuotaForm(StaffForm):
    """A studio's four limits. Usage may already be above a lowered limit: new work is then refused, nothing is lost."""

    max_concurrent_jobs = forms.IntegerField(
        label="Jobs running at once", min_value=1, max_value=100,
        help_text="More wait for a free slot; between 1 and 100.",
    )
    monthly_job_quota = forms.IntegerField(
        label="Jobs per month", min_value=0, max_value=1_000_000, help_text="0 stops new jobs for the month.",
    )
    monthly_compute_minutes = forms.IntegerField(
        label="Compute minutes per month", min_value=0, max_value=10_000_000,
        help_text="Estimated from each input's length when a job is submitted; the real time replaces it after.",
    )
    storage_quota_gb = forms.IntegerField(
        label="Storage (GB)", min_value=1, max_value=1_000_000, help_text="Uploads that would pass it are refused.",
    )

    @classmethod
    def for_studio(cls, organization: Organization, data=None) -> QuotaForm:
        initial = {
            "max_concurrent_jobs": organization.max_concurrent_jobs,
            "monthly_job_quota": organization.monthly_job_quota,
            "monthly_compute_minutes": organization.monthly_compute_minutes,
            "storage_quota_gb": round(organization.storage_quota_bytes / GB),
        }
        return cls(data=data, initial=initial)

    def service_kwargs(self, organization: Organization) -> dict:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in ("max_concurrent_jobs", "monthly_job_quota", "monthly_compute_minutes")}
        # Keep the exact byte count unless the rounded GB figure was changed.
        if data["storage_quota_gb"] != round(organization.storage_quota_bytes / GB):
            kwargs["storage_quota_bytes"] = data["storage_quota_gb"] * GB
        return kwargs
