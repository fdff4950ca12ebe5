"""Forms of the staff pages. They check input; the writes happen in services."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from portal.models import AuditEvent, Cohort, Invite, Membership, Organization
from portal.services.invites import MAX_INVITE_FILE_BYTES

GB = 1024**3
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _zone_name() -> str:
    return timezone.get_current_timezone_name()


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class StaffForm(forms.Form):
    """Labels without a trailing colon, like the rest of the portal's forms."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _cohort_choice_field(*, required: bool = False, empty_label: str = "No cohort") -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Cohort.objects.order_by("opens_at", "name"), required=required, empty_label=empty_label
    )


# --- Studios ----------------------------------------------------------------------------------------------------------
class StudioCreateForm(StaffForm):
    name = forms.CharField(label="Studio name", max_length=200)
    slug = forms.SlugField(
        label="Short name",
        max_length=60,
        required=False,
        help_text="Letters, digits and hyphens, used in bulk-invite files. Leave empty to make it from the name.",
    )
    cohort = _cohort_choice_field()
    seat_limit = forms.IntegerField(
        label="Seats", min_value=1, max_value=10_000, initial=10, help_text="Members plus pending invites."
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Organization.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A studio called “{name}” already exists.")
        return name

    def clean(self):
        data = super().clean()
        if "name" in data and not self.errors.get("slug"):
            slug = slugify(data.get("slug") or data["name"])[:60]
            if not slug:
                self.add_error("slug", "Give a short name made of letters, digits or hyphens.")
            elif Organization.objects.filter(slug__iexact=slug).exists():
                self.add_error("slug", f"The short name “{slug}” is taken by another studio.")
            else:
                data["slug"] = slug
        return data


class StudioUpdateForm(StaffForm):
    seat_limit = forms.IntegerField(
        label="Seats", min_value=1, max_value=10_000, help_text="Members plus pending invites."
    )
    cohort = _cohort_choice_field()
    is_active = forms.BooleanField(label="Active (people can sign in and be invited)", required=False)
    storage_quota_gb = forms.IntegerField(label="Storage quota (GB)", min_value=1, max_value=1_000_000)
    monthly_job_quota = forms.IntegerField(label="Jobs per month", min_value=0, max_value=1_000_000)
    max_concurrent_jobs = forms.IntegerField(label="Jobs at the same time", min_value=1, max_value=100)

    @classmethod
    def for_studio(cls, organization: Organization, data=None) -> StudioUpdateForm:
        initial = {
            "seat_limit": organization.seat_limit,
            "cohort": organization.cohort_id,
            "is_active": organization.is_active,
            "storage_quota_gb": round(organization.storage_quota_bytes / GB),
            "monthly_job_quota": organization.monthly_job_quota,
            "max_concurrent_jobs": organization.max_concurrent_jobs,
        }
        return cls(data=data, initial=initial)

    def service_kwargs(self, organization: Organization) -> dict:
        data = self.cleaned_data
        kwargs = {
            name: data[name]
            for name in ("seat_limit", "cohort", "is_active", "monthly_job_quota", "max_concurrent_jobs")
        }
        # Keep the exact byte count unless the rounded GB figure was changed.
        if data["storage_quota_gb"] != round(organization.storage_quota_bytes / GB):
            kwargs["storage_quota_bytes"] = data["storage_quota_gb"] * GB
        return kwargs


# --- Cohorts ----------------------------------------------------------------------------------------------------------
class CohortForm(StaffForm):
    name = forms.CharField(label="Name", max_length=120, help_text="For example “March wave 1”.")
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    opens_at = forms.DateTimeField(
        label="Opens", widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"]
    )
    closes_at = forms.DateTimeField(
        label="Closes", widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"]
    )

    def __init__(self, *args, cohort: Cohort | None = None, **kwargs):
        self.cohort = cohort
        if cohort is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": cohort.name,
                "description": cohort.description,
                "opens_at": timezone.localtime(cohort.opens_at),
                "closes_at": timezone.localtime(cohort.closes_at),
            }
        super().__init__(*args, **kwargs)
        zone = _zone_name()
        self.fields["opens_at"].help_text = f"Time zone: {zone}."
        self.fields["closes_at"].help_text = f"Time zone: {zone}. Partners stop running tools at this time."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Cohort.objects.filter(name__iexact=name)
        if self.cohort is not None:
            others = others.exclude(pk=self.cohort.pk)
        if others.exists():
            raise forms.ValidationError(f"A cohort called “{name}” already exists.")
        return name

    def clean(self):
        data = super().clean()
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", "The cohort must close after it opens.")
        return data


# --- Invites ----------------------------------------------------------------------------------------------------------
class InviteForm(StaffForm):
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    organization = forms.ModelChoiceField(
        label="Studio", queryset=Organization.objects.filter(is_active=True), empty_label="Choose a studio"
    )
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    cohort = _cohort_choice_field(empty_label="Keep the studio's cohort")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].help_text = "Only for a studio that has no cohort yet."


class InviteUploadForm(StaffForm):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="Columns: email, studio, role and optionally cohort, with a header line. At most 1 MB.",
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_INVITE_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {uploaded.size // 1024} KB; the limit is {MAX_INVITE_FILE_BYTES // 1024} KB. "
                "Nothing was created."
            )
        return uploaded


# --- Filters (GET) ----------------------------------------------------------------------------------------------------
class FilterForm(StaffForm):
    """A GET filter: a field that does not validate is ignored, and `ignored` says which and why."""

    def __init__(self, data=None, **kwargs):
        kwargs.setdefault("auto_id", "filter_%s")  # the filters share a page with forms that have the same fields
        super().__init__(data=data, **kwargs)
        for field in self.fields.values():
            field.required = False

    @property
    def filters(self) -> dict:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    @property
    def ignored(self) -> list[str]:
        self.is_valid()
        return [
            f"{self.fields[name].label}: {' '.join(errors)}" if name in self.fields else " ".join(errors)
            for name, errors in self.errors.items()
        ]


class InviteFilterForm(FilterForm):
    status = forms.ChoiceField(label="Status", choices=[("", "Any status"), *Invite.Status.choices])
    studio = forms.ModelChoiceField(
        label="Studio", queryset=Organization.objects.order_by("name"), empty_label="Any studio"
    )
    cohort = _cohort_choice_field(empty_label="Any cohort")
    q = forms.CharField(
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Email or studio"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].label = "Cohort"


def _action_choices() -> list:
    prefixes = sorted({value.split(".")[0] for value in AuditEvent.Action.values})
    return [
        ("", "Any action"),
        ("Kinds", [(prefix, f"Any {prefix.replace('_', ' ')} event") for prefix in prefixes]),
        ("Actions", AuditEvent.Action.choices),
    ]


class AuditFilterForm(FilterForm):
    action = forms.ChoiceField(label="Action", choices=_action_choices)
    studio = forms.ModelChoiceField(
        label="Studio", queryset=Organization.objects.order_by("name"), empty_label="Any studio"
    )
    actor = forms.CharField(
        label="Actor email",
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "name@studio.com"}),
    )
    since = forms.DateField(label="From", widget=DateInput())
    until = forms.DateField(label="To", widget=DateInput(), help_text="Inclusive.")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return data

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """The dates as aware datetimes in the viewer's zone: [start of `since`, end of `until`)."""
        filters = self.filters
        zone = timezone.get_current_timezone()
        since = filters.get("since")
        until = filters.get("until")
        return (
            datetime.combine(since, time.min, tzinfo=zone) if since else None,
            datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone) if until else None,
        )
