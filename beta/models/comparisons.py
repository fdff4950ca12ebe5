"""Blind comparisons: two outputs on the same input, shown without labels in an order drawn per person."""

from django.conf import settings
from django.db import models

from beta.models.jobs import JobOutput
from portal.models import Organization, TimeStamped
from portal.tenancy import TenantQuerySet


class Comparison(TimeStamped):
    """Staff's question to a studio: which of two outputs (two versions or two tools) is better?

    The outputs belong to the studio whose input they were made from, so a comparison belongs to that studio.
    The labels (tool and version of each side) are for staff only.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="comparisons")
    title = models.CharField(max_length=200)
    question = models.CharField(max_length=300, default="Which output is better for your production?")
    output_a = models.ForeignKey(JobOutput, on_delete=models.CASCADE, related_name="+")
    output_b = models.ForeignKey(JobOutput, on_delete=models.CASCADE, related_name="+")
    label_a = models.CharField(max_length=120, help_text="Staff only, e.g. “upscale 1.0”.")
    label_b = models.CharField(max_length=120, help_text="Staff only, e.g. “upscale 1.1”.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ComparisonVoteQuerySet(TenantQuerySet):
    organization_lookup = "comparison__organization"


class ComparisonVote(TimeStamped):
    """One person's view of a comparison: the order drawn for them when they first opened it, then their pick."""

    class Order(models.TextChoices):
        AB = "ab", "A left, B right"
        BA = "ba", "B left, A right"

    class Choice(models.TextChoices):
        A = "a", "A"
        B = "b", "B"
        SAME = "same", "Same"

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comparison_votes")
    order = models.CharField(max_length=2, choices=Order.choices)
    choice = models.CharField(max_length=4, choices=Choice.choices, blank=True, help_text="In true A/B terms.")
    reason = models.TextField(blank=True)
    voted_at = models.DateTimeField(null=True, blank=True)

    objects = ComparisonVoteQuerySet.as_manager()

    class Meta:
        ordering = ["comparison", "id"]
        constraints = [models.UniqueConstraint(fields=["comparison", "voter"], name="beta_comparisonvote_unique")]

    def __str__(self) -> str:
        return f"{self.voter} on {self.comparison}"
