"""Feedback on a run: the partner's report, its revisions, timecoded notes, attachments, and the staff side."""

from django.conf import settings
from django.db import models

from assets.models import Asset
from beta.models.jobs import Job, JobOutput
from portal.models import Organization, TimeStamped
from portal.tenancy import TenantQuerySet


class FeedbackReportQuerySet(TenantQuerySet):
    def submitted(self):
        return self.exclude(status=FeedbackReport.Status.DRAFT)


class FeedbackReport(TimeStamped):
    """One person's feedback on one run. What was run (tool, version, parameters, inputs) is captured from the job."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        ACTIONED = "actioned", "Actioned"
        CLOSED = "closed", "Closed"

    class ProductionFit(models.TextChoices):
        YES = "yes", "Yes"
        WITH_CHANGES = "with_changes", "With changes"
        NO = "no", "No"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="feedback_reports")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="feedback_reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="feedback_reports")
    # What was run, captured from the job when the report is started (never retyped by the partner).
    tool_slug = models.SlugField(max_length=60)
    tool_version = models.CharField(max_length=40)
    parameters = models.JSONField(default=dict, blank=True)
    input_sha256 = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    overall_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    usefulness_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    production_fit = models.CharField(max_length=16, choices=ProductionFit.choices, blank=True)
    hours_saved = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True,
                                      help_text="Against the usual workflow; negative when it cost time.")
    text = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0, help_text="Number of submitted revisions.")
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="First submission.")
    revised_at = models.DateTimeField(null=True, blank=True, help_text="Latest submitted revision.")
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    # Unsubmitted edits of a submitted report (the report's own fields keep the latest submitted revision).
    draft_content = models.JSONField(default=dict, blank=True)

    # Staff side.
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_feedback")
    tags = models.ManyToManyField("FeedbackTag", blank=True, related_name="reports")
    triaged_at = models.DateTimeField(null=True, blank=True)
    quote = models.TextField(blank=True, help_text="A notable quote staff chose for the results report.")
    quote_selected = models.BooleanField(default=False)

    objects = FeedbackReportQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status", "-submitted_at"]),
            models.Index(fields=["-submitted_at", "-id"], name="beta_feedback_inbox_order"),  # the inbox's order
            models.Index(fields=["tool_slug", "tool_version"]),
            # the results dashboard's chosen quotes, newest first: few rows, so no scan of every report to find them
            models.Index(fields=["-submitted_at", "-id"], name="beta_feedback_quotes_chosen",
                         condition=models.Q(quote_selected=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["job", "author"], name="beta_feedback_one_per_person_per_run"),
            models.CheckConstraint(condition=models.Q(overall_rating__isnull=True)
                                   | models.Q(overall_rating__gte=1, overall_rating__lte=5),
                                   name="beta_feedback_overall_1_5"),
            models.CheckConstraint(condition=models.Q(quality_rating__isnull=True)
                                   | models.Q(quality_rating__gte=1, quality_rating__lte=5),
                                   name="beta_feedback_quality_1_5"),
            models.CheckConstraint(condition=models.Q(usefulness_rating__isnull=True)
                                   | models.Q(usefulness_rating__gte=1, usefulness_rating__lte=5),
                                   name="beta_feedback_usefulness_1_5"),
        ]

    def __str__(self) -> str:
        return f"Feedback {self.pk} on job {self.job_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class FeedbackCategory(models.Model):
    """An issue category ticked on a report (several allowed); one row each so filters and counts stay in SQL."""

    class Category(models.TextChoices):
        ARTEFACTS = "artefacts", "Artefacts"
        CONSISTENCY = "consistency", "Consistency"
        SPEED = "speed", "Speed"
        CONTROLS = "controls", "Controls"
        IP_CONCERNS = "ip_concerns", "IP concerns"
        OTHER = "other", "Other"

    report = models.ForeignKey(FeedbackReport, on_delete=models.CASCADE, related_name="categories")
    category = models.CharField(max_length=20, choices=Category.choices)

    class Meta:
        ordering = ["report", "category"]
        constraints = [models.UniqueConstraint(fields=["report", "category"], name="beta_feedbackcategory_unique")]
        indexes = [models.Index(fields=["category"])]

    def __str__(self) -> str:
        return self.category


class FeedbackRevision(models.Model):
    """A frozen copy of a report as submitted; editing after submission adds one, and every one is kept."""

    report = models.ForeignKey(FeedbackReport, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="beta_feedbackrevision_unique")]

    def __str__(self) -> str:
        return f"revision {self.number} of feedback {self.report_id}"


class FeedbackNoteQuerySet(TenantQuerySet):
    organization_lookup = "report__organization"


class FeedbackNote(TimeStamped):
    """A review note on a video output of a run: at a frame, or over an in-out range of frames, optionally with a
    drawing made on the paused frame (vector JSON in normalised 0..1 coordinates, see beta/review/drawing.py).

    `frame` counts from the first frame of the output (0); `seconds` is that frame's start time, kept for the notes
    made before frames were counted. The author is a partner (the studio's side) or AI Studio staff."""

    report = models.ForeignKey(FeedbackReport, on_delete=models.CASCADE, related_name="notes")
    output = models.ForeignKey(JobOutput, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    seconds = models.FloatField()
    frame = models.PositiveIntegerField(null=True, blank=True)
    frame_out = models.PositiveIntegerField(null=True, blank=True, help_text="Last frame of a range (inclusive).")
    drawing = models.JSONField(null=True, blank=True)
    text = models.TextField()

    objects = FeedbackNoteQuerySet.as_manager()

    class Meta:
        ordering = ["report", "seconds", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seconds__gte=0), name="beta_feedbacknote_seconds"),
            models.CheckConstraint(
                condition=models.Q(frame_out__isnull=True)
                | models.Q(frame__isnull=False, frame_out__gte=models.F("frame")),
                name="beta_feedbacknote_range_forward",
            ),
        ]

    @property
    def by_staff(self) -> bool:
        return self.author is not None and self.author.is_studio_staff

    def __str__(self) -> str:
        return f"note at {self.seconds:.2f}s"


class FeedbackAttachmentQuerySet(TenantQuerySet):
    organization_lookup = "report__organization"


class FeedbackAttachment(models.Model):
    """A file uploaded with a report (through the assets upload), kept as an asset of the studio."""

    report = models.ForeignKey(FeedbackReport, on_delete=models.CASCADE, related_name="attachments")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="feedback_attachments")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeedbackAttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["report", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "asset"], name="beta_feedbackattachment_unique")]

    def __str__(self) -> str:
        return f"attachment {self.asset_id} of feedback {self.report_id}"


class FeedbackTag(models.Model):
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FeedbackCommentQuerySet(TenantQuerySet):
    organization_lookup = "report__organization"

    def replies(self):
        """What the partner may read: replies only, never internal comments."""
        return self.filter(kind=FeedbackComment.Kind.REPLY)


class FeedbackComment(TimeStamped):
    """Staff's words on a report: an internal comment (staff only) or a reply (the partner sees and is emailed)."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal comment"
        REPLY = "reply", "Reply to the studio"

    report = models.ForeignKey(FeedbackReport, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body = models.TextField()

    objects = FeedbackCommentQuerySet.as_manager()

    class Meta:
        ordering = ["report", "created_at", "id"]
        indexes = [models.Index(fields=["report", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} on feedback {self.report_id}"


class FeedbackNoteReplyQuerySet(TenantQuerySet):
    organization_lookup = "note__report__organization"

    def visible_to(self, user):
        """Partners never see staff's internal comments."""
        if user is not None and user.is_authenticated and user.is_studio_staff:
            return self
        return self.filter(internal=False)


class FeedbackNoteReply(TimeStamped):
    """A reply in a note's thread, by staff or a partner; `internal` ones are staff-only."""

    note = models.ForeignKey(FeedbackNote, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False)

    objects = FeedbackNoteReplyQuerySet.as_manager()

    class Meta:
        ordering = ["note", "created_at", "id"]

    def __str__(self) -> str:
        return f"reply on note {self.note_id}"


class FeedbackReadMark(models.Model):
    """When a person last read a report's replies: staff replies after it are unread (the partner home lists them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(FeedbackReport, on_delete=models.CASCADE, related_name="read_marks")
    read_at = models.DateTimeField()

    class Meta:
        ordering = ["-read_at"]
        constraints = [models.UniqueConstraint(fields=["user", "report"], name="beta_feedbackreadmark_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read feedback {self.report_id} at {self.read_at:%Y-%m-%d %H:%M}"
