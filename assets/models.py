import uuid

from django.conf import settings
from django.db import models

from portal.models import Organization, TimeStamped
from portal.tenancy import TenantQuerySet


class AssetQuerySet(TenantQuerySet):
    def live(self):
        """Everything not deleted: what counts against the quota and shows in the library."""
        return self.exclude(status=Asset.Status.DELETED)


class Asset(TimeStamped):
    """A file a partner studio uploaded: footage, a still, audio, a script or a document. The studio's property."""

    #: Not a field: set by `asset_upload_complete` on the instance it returns (True: verification queued now; False:
    #: the broker was down and the verify sweep will queue it; None: nothing to do).
    verify_queued: bool | None = None

    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"
        SCRIPT = "script", "Script"
        DOCUMENT = "document", "Document"

    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        VERIFYING = "verifying", "Verifying"
        READY = "ready", "Ready"
        REJECTED = "rejected", "Rejected"
        DELETED = "deleted", "Deleted"

    class Previews(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        NONE = "none", "None for this kind"
        FAILED = "failed", "Could not be made"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="assets")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    original_filename = models.CharField(max_length=255, blank=True, help_text="For display only; never a path.")
    declared_content_type = models.CharField(max_length=120, blank=True)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=120, blank=True, help_text="Detected from the content.")
    content_label = models.CharField(max_length=120, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    timecode_start = models.CharField(
        max_length=11, blank=True, help_text="Source timecode of the first frame, from the probe (';': drop-frame)."
    )
    video_codec = models.CharField(max_length=60, blank=True)
    audio_codec = models.CharField(max_length=60, blank=True)
    storage_key = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADING)
    rejection_reason = models.TextField(blank=True)
    previews = models.CharField(max_length=16, choices=Previews.choices, default=Previews.PENDING)
    origin = models.CharField(max_length=16, choices=[("upload", "Uploaded"), ("output", "Tool output")],
                              default="upload")
    #: Lineage of a tool output (empty for uploads): the input it was made from (its run's first input), the upload
    #: at the head of its stack (what the library stacks it under, in one query however deep the chain), and the
    #: tool and version that made it ("dailies 1.0"). The run itself is the output's JobOutput (beta's).
    derived_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="derivatives")
    lineage_root = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="stacked_outputs")
    derived_by = models.CharField(max_length=80, blank=True, help_text='Tool and version, e.g. "dailies 1.0".')
    upload_id = models.CharField(max_length=1024, blank=True)
    part_size = models.PositiveBigIntegerField(default=0)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    #: while verifying: when verification was last queued, or last showed signs of life (the sweeper's lease)
    verify_heartbeat_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            # The library's default page (a studio's live assets, newest first) read in order from this index:
            # with `status <> deleted` in the query, the index above could not serve the order and every live asset
            # was sorted for each page. The condition must stay what `live()` filters on.
            models.Index(fields=["organization", "-created_at", "-id"], condition=~models.Q(status="deleted"),
                         name="assets_asset_live_library"),
            # The stacked library (heads of stacks only: uploads, and outputs made from no file) read in order.
            models.Index(fields=["organization", "-created_at", "-id"],
                         condition=~models.Q(status="deleted") & models.Q(lineage_root__isnull=True),
                         name="assets_asset_library_heads"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["video", "image", "audio", "script", "document"]),
                name="assets_asset_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.original_filename or f"asset {self.uuid}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.READY, self.Status.REJECTED, self.Status.DELETED) and (
            self.previews != self.Previews.PENDING or self.status != self.Status.READY
        )


class RenditionQuerySet(TenantQuerySet):
    organization_lookup = "asset__organization"


class Rendition(TimeStamped):
    """A derivative the portal made from an asset for previewing it: never sent anywhere else."""

    class Kind(models.TextChoices):
        THUMBNAIL = "thumbnail", "Thumbnail"
        POSTER = "poster", "Poster frame"
        PROXY = "proxy", "Web proxy"
        CONTACT_SHEET = "contact_sheet", "Contact sheet"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    storage_key = models.CharField(max_length=500)
    content_type = models.CharField(max_length=60)
    size_bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    objects = RenditionQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "kind"]
        constraints = [models.UniqueConstraint(fields=["asset", "kind"], name="assets_rendition_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.asset}"


class DeletionReceiptQuerySet(TenantQuerySet):
    pass


class DeletionReceipt(TimeStamped):
    """What was deleted, when and by whom: given to the studio as proof that its material is gone."""

    class Scope(models.TextChoices):
        ASSET = "asset", "One asset"
        STUDIO = "studio", "Whole studio (offboarding)"
        RETENTION = "retention", "Retention period ended"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="deletion_receipts"
    )
    organization_name = models.CharField(max_length=200)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_email = models.CharField(max_length=254, blank=True)
    asset_count = models.PositiveIntegerField(default=0)
    rendition_count = models.PositiveIntegerField(default=0)
    object_count = models.PositiveIntegerField(default=0)
    bytes_deleted = models.PositiveBigIntegerField(default=0)
    object_key_hashes = models.JSONField(default=list, help_text="SHA-256 of each deleted object's key.")
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = DeletionReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Deletion receipt {self.uuid} ({self.organization_name})"


class OffboardingStudio(Organization):
    """A studio as the admin's offboarding list shows it: a proxy, so the action has its own page and permission."""

    class Meta:
        proxy = True
        verbose_name = "studio to offboard"
        verbose_name_plural = "studios to offboard"
