from django.conf import settings
from django.db import models
from django.db.models import F, Q

from assets.models import Asset
from portal.models import Cohort, Organization, TimeStamped
from portal.tenancy import TenantQuerySet


class WorkerHeartbeat(models.Model):
    """The last time a worker consuming a queue ran a task: proof that each queue is being served."""

    queue = models.CharField(max_length=32, unique=True)
    hostname = models.CharField(max_length=255)
    beat_at = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["queue"]

    def __str__(self) -> str:
        return f"{self.queue} @ {self.hostname}"


class ToolSwitch(TimeStamped):
    """The programme's switch for a tool of the catalogue: on or off, and for which cohorts.

    (Not the tool itself: that is `beta.tools.base.Tool`, found in the catalogue by the same slug.)
    """

    slug = models.SlugField(max_length=60, unique=True)
    enabled = models.BooleanField(default=True)
    all_cohorts = models.BooleanField(default=True, help_text="Open to every cohort; otherwise only those chosen.")
    cohorts = models.ManyToManyField(Cohort, blank=True, related_name="tools")
    note = models.CharField(max_length=200, blank=True, help_text="Shown to partners, e.g. why a tool is paused.")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class StudioUsage(models.Model):
    """A studio's use of its monthly quotas, kept as it happens (a submit adds a job and its estimate; a finish
    swaps the estimate for the compute time it took), so a submit reads one row instead of the month's jobs.

    `minutes`: compute minutes of the month's finished jobs plus the estimates of its active ones.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="usage")
    month = models.DateField(help_text="The first day of the month (UTC).")
    jobs = models.PositiveIntegerField(default=0)
    minutes = models.FloatField(default=0)

    class Meta:
        ordering = ["organization_id", "-month"]
        constraints = [models.UniqueConstraint(fields=["organization", "month"], name="beta_studiousage_one_per_month")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.month:%Y-%m}: {self.jobs} jobs, {self.minutes:.1f} min"


class JobQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(status__in=Job.ACTIVE)


# A succeeded run with both timestamps: the runs whose times the results dashboard's percentiles are taken over.
TIMED_RUN = Q(status="succeeded", started_at__isnull=False, finished_at__isnull=False)


class Job(TimeStamped):
    """One run of a tool. This row, not Celery, is the source of truth for state and progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.RETRYING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="jobs")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    tool_slug = models.SlugField(max_length=60)
    tool_version = models.CharField(max_length=40)
    queue = models.CharField(max_length=20, default="cpu")
    parameters = models.JSONField(default=dict)
    inputs = models.ManyToManyField(Asset, through="JobInput", related_name="input_of_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="Shown to the partner.")
    summary = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    deliveries = models.PositiveSmallIntegerField(default=0, help_text="Times a worker took the job.")
    cancel_requested = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 - NULL means "none given"
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    compute_seconds = models.FloatField(default=0)
    estimated_minutes = models.FloatField(default=0)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-queued_at"]),
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["organization", "status"]),
            # The results dashboard's run-time percentiles (nearest rank) read from index order, per tool version
            # and overall, instead of sorting every succeeded run (beta/results/aggregates.py). The timestamps are
            # included so the scans can be index-only.
            models.Index(F("tool_slug"), F("tool_version"), F("finished_at") - F("started_at"),
                         name="beta_job_run_time_by_tool", include=["started_at", "finished_at"],
                         condition=TIMED_RUN),
            models.Index(F("finished_at") - F("started_at"), name="beta_job_run_time",
                         include=["started_at", "finished_at"], condition=TIMED_RUN),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "idempotency_key"],
                                    condition=models.Q(idempotency_key__isnull=False),
                                    name="beta_job_idempotency_key_per_studio"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="beta_job_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.tool_slug})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class JobInputQuerySet(TenantQuerySet):
    organization_lookup = "job__organization"


class JobInput(models.Model):
    """An input of a run, with its fingerprint at submission: feedback ties to exactly what was processed."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="job_inputs")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    sha256 = models.CharField(max_length=64)

    objects = JobInputQuerySet.as_manager()

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="beta_jobinput_position_unique")]

    def __str__(self) -> str:
        return f"input {self.position} of job {self.job_id}"


class JobOutputQuerySet(TenantQuerySet):
    organization_lookup = "job__organization"


class JobOutput(models.Model):
    """A file the run made, stored as an asset of the studio, with its provenance sidecar."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="job_outputs")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="output_of")
    #: the output's name within its job (its filename, made unique in the run): storing again replaces, never adds
    name = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=40, blank=True)
    label = models.CharField(max_length=200)
    provenance_embedded = models.BooleanField(default=False)
    provenance_key = models.CharField(max_length=500, blank=True)
    #: the output's C2PA manifest store (`<name>.c2pa`); empty for outputs stored before sidecars were signed
    manifest_key = models.CharField(max_length=500, blank=True)

    objects = JobOutputQuerySet.as_manager()

    class Meta:
        ordering = ["job", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "name"], condition=~models.Q(name=""),
                                    name="beta_joboutput_one_per_name"),
            models.UniqueConstraint(fields=["asset"], name="beta_joboutput_asset_once"),
        ]

    def __str__(self) -> str:
        return f"{self.label} of job {self.job_id}"
