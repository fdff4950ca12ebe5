"""Surveys staff define and assign to cohorts; one response per person per survey."""

from django.conf import settings
from django.db import models

from portal.models import Cohort, Organization, TimeStamped
from portal.tenancy import TenantQuerySet


class Survey(TimeStamped):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    cohorts = models.ManyToManyField(Cohort, through="SurveyAssignment", related_name="surveys")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        RATING = "rating", "Rating 1-5"
        NPS = "nps", "Likelihood to recommend 0-10"
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        SHORT_TEXT = "short_text", "Short text"
        LONG_TEXT = "long_text", "Long text"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    prompt = models.CharField(max_length=500)
    help_text = models.CharField(max_length=500, blank=True)
    required = models.BooleanField(default=True)
    choices = models.JSONField(default=list, blank=True, help_text="Options of a single or multiple choice question.")

    class Meta:
        ordering = ["survey", "position", "id"]

    def __str__(self) -> str:
        return self.prompt


class SurveyAssignment(models.Model):
    """A survey open to a cohort between two dates (a weekly check-in, the final May survey)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="assignments")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="survey_assignments")
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the cohort was told that it opened.")
    due_soon_notified_at = models.DateTimeField(null=True, blank=True,
                                                help_text="When the cohort was reminded that it is due soon.")

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "cohort"], name="beta_surveyassignment_unique"),
            models.CheckConstraint(condition=models.Q(due_at__gt=models.F("opens_at")),
                                   name="beta_surveyassignment_due_after_open"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} for {self.cohort}"


class SurveyResponse(TimeStamped):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="survey_responses")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survey_responses")
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "respondent"], name="beta_surveyresponse_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.respondent} on {self.survey}"


class SurveyAnswerQuerySet(TenantQuerySet):
    organization_lookup = "response__organization"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    value = models.JSONField(null=True, blank=True, help_text="A number, a text, or a list of chosen options.")
    number = models.FloatField(null=True, blank=True, help_text="The value of a rating or NPS answer, for SQL sums.")

    objects = SurveyAnswerQuerySet.as_manager()

    class Meta:
        ordering = ["response", "question"]
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="beta_surveyanswer_unique")]

    def __str__(self) -> str:
        return f"answer to {self.question_id}"
