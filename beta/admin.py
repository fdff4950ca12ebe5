"""The Django admin for the beta programme: each tool's switch (on or off, for which cohorts), and jobs as records.

Jobs are read-only here: they change state only through the services (submit, cancel, retry, the workers).
"""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from beta import tools as catalogue
from beta.models import Job, JobInput, JobOutput, ToolSwitch, WorkerHeartbeat
from portal.admin import ReadOnlyAdmin


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["queue", "hostname", "beat_at", "beats"]
    readonly_fields = ["queue", "hostname", "beat_at", "beats"]


def _tool_label(tool) -> str:
    problem = tool.configuration_problem()
    return f"{tool.name} — {problem}" if problem else tool.name


def _tool_choices():
    return [(tool.slug, f"{_tool_label(tool)} ({tool.slug})") for tool in catalogue.all_tools()]


class ToolSwitchForm(forms.ModelForm):
    class Meta:
        model = ToolSwitch
        fields = ["slug", "enabled", "all_cohorts", "cohorts", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:  # adding: only a tool of the catalogue can have a switch
            self.fields["slug"] = forms.ChoiceField(choices=_tool_choices(), label="Tool")


@admin.register(ToolSwitch)
class ToolSwitchAdmin(admin.ModelAdmin):
    """A tool's switch. Partners see the note when the tool is off for them."""

    form = ToolSwitchForm
    list_display = ["slug", "tool_name", "enabled", "all_cohorts", "cohort_list", "note"]
    list_editable = ["enabled"]
    list_filter = ["enabled", "all_cohorts"]
    search_fields = ["slug", "note"]
    filter_horizontal = ["cohorts"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cohorts")

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["slug", "enabled", "all_cohorts", "cohorts", "note"]

    @admin.display(description="Name")
    def tool_name(self, obj):
        tool = catalogue.get_tool(obj.slug)
        return _tool_label(tool) if tool else "(not in the catalogue)"

    @admin.display(description="Cohorts")
    def cohort_list(self, obj):
        if obj.all_cohorts:
            return "All"
        return ", ".join(c.name for c in obj.cohorts.all()) or "None"


class JobOutputInline(admin.TabularInline):
    model = JobOutput
    extra = 0
    can_delete = False
    fields = ("role", "label", "asset_link", "provenance_embedded", "provenance_key")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Asset")
    def asset_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:assets_asset_change", args=[obj.asset_id]), obj.asset)


class JobInputInline(admin.TabularInline):
    model = JobInput
    extra = 0
    can_delete = False
    fields = ("position", "asset", "sha256")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "tool_slug",
        "organization",
        "status",
        "progress",
        "submitted_by",
        "queued_at",
        "finished_at",
        "attempts",
    ]
    list_filter = ["status", "tool_slug", "queue", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = [
        "=id",
        "tool_slug",
        "organization__name",
        "submitted_by__email",
        "idempotency_key",
        "celery_task_id",
        "error",
    ]
    list_select_related = ["organization", "submitted_by"]
    date_hierarchy = "queued_at"
    inlines = [JobInputInline, JobOutputInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organization",
                    "submitted_by",
                    "tool_slug",
                    "tool_version",
                    "queue",
                    "parameters",
                    "retry_of",
                    "idempotency_key",
                )
            },
        ),
        (
            "State",
            {
                "fields": (
                    "status",
                    "progress",
                    "stage",
                    "error",
                    "attempts",
                    "deliveries",
                    "cancel_requested",
                    "summary",
                    "log",
                )
            },
        ),
        ("Worker", {"fields": ("celery_task_id", "worker", "estimated_minutes", "compute_seconds")}),
        ("Times", {"fields": ("queued_at", "dispatched_at", "started_at", "heartbeat_at", "retry_at", "finished_at")}),
    )
