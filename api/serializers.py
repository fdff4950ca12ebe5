"""What the API reads and answers. Input serializers check shapes only; the rules are in the services."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.models import Asset
from beta.models import Job, JobOutput
from portal.ids import ID_MAX, ID_MESSAGE, ID_MIN, validate_id


class IdField(serializers.IntegerField):
    """An id read from a request: bounded to what the database stores (the bound is in the schema too)."""

    default_error_messages = {"min_value": ID_MESSAGE, "max_value": ID_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        kwargs.setdefault("validators", [validate_id])
        super().__init__(**kwargs)


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The failing field, dotted (e.g. `parameters.height`); empty: the body.")
    pointer = serializers.CharField(help_text="The same as a JSON pointer into the request body.")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="A stable URI naming the kind of problem (see /api/v1/problems/).")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    # A declared field: DRF's metaclass moves it into _declared_fields, so `Serializer.errors` stays the property; the
    # stubs see a class attribute replacing it.
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]


class ProblemTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()


# --- Who am I ---------------------------------------------------------------------------------------------------------
class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    studio = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    authenticated_by = serializers.ChoiceField(choices=["api_key", "session"])
    api_key_prefix = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField())


# --- Tools ------------------------------------------------------------------------------------------------------------
class ToolSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.CharField()
    input_kinds = serializers.ListField(child=serializers.CharField())
    min_inputs = serializers.IntegerField()
    max_inputs = serializers.IntegerField()
    output_kinds = serializers.ListField(child=serializers.CharField())
    queue = serializers.CharField()
    parameters = serializers.JSONField(help_text="JSON Schema of the tool's parameters (with defaults and bounds).")
    available = serializers.BooleanField(help_text="Whether your studio may run it now.")
    unavailable_reason = serializers.CharField(allow_blank=True)


# --- Assets -----------------------------------------------------------------------------------------------------------
class AssetSerializer(serializers.ModelSerializer):
    filename = serializers.CharField(source="original_filename")
    size = serializers.IntegerField(source="size_bytes")
    download_url = serializers.SerializerMethodField(help_text="Ask here for a short-lived download URL.")

    class Meta:
        model = Asset
        fields = [
            "id", "uuid", "filename", "kind", "status", "origin", "size", "content_type", "sha256",
            "duration_seconds", "width", "height", "fps", "video_codec", "audio_codec", "previews",
            "rejection_reason", "created_at", "uploaded_at", "ready_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, asset) -> str | None:
        if asset.status != Asset.Status.READY:
            return None
        return _absolute(self.context.get("request"), reverse("api:asset-download", args=[asset.pk]))


class UploadStartSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=1000)
    size = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="The file's exact size in bytes.")
    content_type = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class UploadStateSerializer(serializers.Serializer):
    asset = AssetSerializer()
    mode = serializers.ChoiceField(choices=["s3", "local"], help_text="s3: parts go to presigned S3 URLs.")
    part_size = serializers.IntegerField()
    part_count = serializers.IntegerField()
    parts_url = serializers.URLField()
    complete_url = serializers.URLField()
    abort_url = serializers.URLField()


class StoredPartSerializer(serializers.Serializer):
    part_number = serializers.IntegerField()
    size = serializers.IntegerField()
    etag = serializers.CharField()


class UploadPartsSerializer(UploadStateSerializer):
    parts = StoredPartSerializer(many=True)


class PartNumbersSerializer(serializers.Serializer):
    part_numbers = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=10_000), min_length=1,
                                         max_length=100, help_text="S3 numbers parts 1 to 10,000.")


class PartUrlsSerializer(serializers.Serializer):
    urls = serializers.DictField(
        child=serializers.URLField(), help_text="Part number -> the URL to PUT that part's bytes to."
    )


class DownloadSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_in = serializers.IntegerField(help_text="Seconds the URL stays valid.")
    filename = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class DeletionSerializer(serializers.Serializer):
    receipt = serializers.UUIDField()
    objects_deleted = serializers.IntegerField()
    bytes_deleted = serializers.IntegerField()


# --- Jobs -------------------------------------------------------------------------------------------------------------
class JobCreateSerializer(serializers.Serializer):
    tool = serializers.CharField(max_length=60, help_text="The tool's slug (see /api/v1/tools/).")
    inputs = serializers.ListField(child=IdField(), min_length=1, max_length=50,
                                   help_text="Asset ids, in order.")
    parameters = serializers.DictField(required=False, default=dict, help_text="Checked against the tool's schema.")


class JobInputSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField(source="asset.pk")
    filename = serializers.CharField(source="asset.original_filename")
    sha256 = serializers.CharField()


class JobOutputSerializer(serializers.ModelSerializer):
    asset_id = serializers.IntegerField(source="asset.pk")
    filename = serializers.CharField(source="asset.original_filename")
    kind = serializers.CharField(source="asset.kind")
    size = serializers.IntegerField(source="asset.size_bytes")
    sha256 = serializers.CharField(source="asset.sha256")
    download_url = serializers.SerializerMethodField(help_text="Ask here for a short-lived download URL.")
    provenance_url = serializers.SerializerMethodField(
        help_text="The output's C2PA manifest store (`<filename>.c2pa`), which any C2PA reader validates against the "
        "file; null for outputs stored before sidecars were signed."
    )

    class Meta:
        model = JobOutput
        fields = ["asset_id", "role", "label", "filename", "kind", "size", "sha256", "provenance_embedded",
                  "download_url", "provenance_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, output) -> str:
        return _absolute(self.context.get("request"), reverse("api:asset-download", args=[output.asset_id]))

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_provenance_url(self, output) -> str | None:
        if not output.manifest_key:
            return None
        return _absolute(self.context.get("request"), reverse("api:asset-provenance", args=[output.asset_id]))


class JobSerializer(serializers.ModelSerializer):
    tool = serializers.CharField(source="tool_slug")
    inputs = JobInputSerializer(source="job_inputs", many=True)
    outputs = JobOutputSerializer(source="job_outputs", many=True)
    submitted_by = serializers.SerializerMethodField()
    retry_of: "serializers.PrimaryKeyRelatedField[Job]" = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "url", "tool", "tool_version", "status", "progress", "stage", "error", "parameters", "inputs",
            "outputs", "summary", "attempts", "cancel_requested", "idempotency_key", "submitted_by", "retry_of",
            "queued_at", "started_at", "finished_at", "compute_seconds",
        ]  # fmt: skip
        read_only_fields = fields

    def get_submitted_by(self, job) -> str | None:
        return job.submitted_by.email if job.submitted_by else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, job) -> str:
        return _absolute(self.context.get("request"), reverse("api:job-detail", args=[job.pk]))


class JobDetailSerializer(JobSerializer):
    log = serializers.SerializerMethodField(help_text="The run's log, one line per entry (oldest first).")

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "log"]
        read_only_fields = fields

    def get_log(self, job) -> list[str]:
        return job.log.rstrip("\n").splitlines() if job.log else []


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path
