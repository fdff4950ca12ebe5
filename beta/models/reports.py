"""The May results report: built by a worker as HTML and PDF, with progress on its own row."""

from django.conf import settings
from django.db import models

from portal.models import TimeStamped


class ResultsReport(TimeStamped):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    title = models.CharField(max_length=200, default="AI Studio closed beta: results")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    options = models.JSONField(default=dict, blank=True, help_text="Filters (cohort, tools, dates) and anonymise.")
    anonymise = models.BooleanField(default=True, help_text="Studios shown as Studio A, B, …")
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

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"
