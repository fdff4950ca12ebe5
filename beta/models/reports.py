"""The May results report: built by a worker as HTML and PDF, with progress on its own row."""

from django.conf import settings
from django.db import models

from portal.models import TimeStamped


class ResultsReport(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    title = models.CharField(max_length=200, default="AI Studio closed beta: results")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    options = models.JSONField(default=dict, blank=True, help_text="Filters (cohort, tools, dates) and anonymise.")
    anonymise = models.BooleanField(default=True, help_text="Studios shown as Studio A, B, …")
    period_start = models.DateField(null=True, blank=True, help_text="First day the numbers cover (inclusive).")
    period_end = models.DateField(null=True, blank=True, help_text="Last day the numbers cover (inclusive).")
    recommendations = models.TextField(blank=True, help_text="Staff's recommendations, printed after the summary.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    html_key = models.CharField(max_length=500, blank=True, help_text="Storage key of the HTML report.")
    pdf_key = models.CharField(max_length=500, blank=True, help_text="Storage key of the PDF report.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True) | models.Q(period_end__isnull=True)
                | models.Q(period_end__gte=models.F("period_start")),
                name="beta_resultsreport_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class ResultsExport(TimeStamped):
    """A large XLSX export, built by a worker (above RESULTS_XLSX_WORKER_ROWS rows) and stored under the staff
    prefix; its page follows the progress and offers the download, like the results report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    dataset = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True, help_text="The export's filters, as in its URL.")
    filename = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    rows_expected = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    file_key = models.CharField(max_length=500, blank=True, help_text="Storage key of the finished workbook.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset} export ({self.status})"
