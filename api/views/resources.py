"""The REST API (v1). Thin views: shapes are checked by serializers, rules by the same services and selectors the
pages use. Every object is fetched through `for_user`, so another studio's object is a 404; every error is a problem.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.conf import settings
from django.core import signing
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import problems, services
from api.models import ApiKey
from api.pagination import AssetCursor, JobCursor
from api.problems import DomainError, RequestTooLarge
from api.serializers import (
    AssetSerializer,
    DeletionSerializer,
    DownloadSerializer,
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    MeSerializer,
    PartNumbersSerializer,
    PartUrlsSerializer,
    ProblemTypeSerializer,
    ToolSerializer,
    UploadPartsSerializer,
    UploadStartSerializer,
    UploadStateSerializer,
)
from assets import selectors as asset_selectors
from assets import services as asset_services
from assets.models import Asset
from assets.storage import StorageError, content_disposition, get_store
from beta import selectors as beta_selectors
from beta import tools as catalogue
from beta.jobs.control import job_cancel, job_retry
from beta.models import Job, JobOutput
from portal import selectors as portal_selectors
from portal.errors import PermissionDeniedError, PortalError
from portal.tdm import not_for_training

CONTENT_SALT = "api.asset-content"


class ApiView(APIView):
    """Refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 before anything reads them."""

    max_body_bytes: int | None = None  # None: settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def initial(self, request, *args, **kwargs):
        limit = self.max_body_bytes if self.max_body_bytes is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit and length > limit:
            raise RequestTooLarge(f"The request body is {length:,} bytes; the limit is {limit:,}.")
        super().initial(request, *args, **kwargs)

    def valid(self, serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def query(self, serializer_class):
        return self.valid(serializer_class, self.request.query_params)


def _membership(request):
    membership = portal_selectors.membership_for_user(request.user)
    if membership is None:
        raise DomainError(PermissionDeniedError("You are not part of a studio."))
    return membership


# --- Me and the problem catalogue ---------------------------------------------------------------------------------
class MeView(ApiView):
    @extend_schema(operation_id="me", responses=MeSerializer, tags=["account"], summary="Who the API sees")
    def get(self, request):
        membership = portal_selectors.membership_for_user(request.user)
        key = request.auth if isinstance(request.auth, ApiKey) else None
        return Response({
            "email": request.user.email,
            "studio": membership.organization.name if membership else None,
            "role": membership.role if membership else None,
            "authenticated_by": "api_key" if key else "session",
            "api_key_prefix": key.prefix if key else None,
            "scopes": key.scopes if key else ["read", "write"],
        })


def _problem_type(slug: str) -> dict:
    code, title, meaning = problems.TYPES[slug]
    return {"type": problems.type_uri(slug), "slug": slug, "status": code, "title": title, "description": meaning}


class ProblemTypeListView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="problem_types", responses=ProblemTypeSerializer(many=True), tags=["problems"],
                   summary="The kinds of error the API answers")
    def get(self, request):
        return Response([_problem_type(slug) for slug in problems.TYPES])


class ProblemTypeView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="problem_type", responses=ProblemTypeSerializer, tags=["problems"])
    def get(self, request, problem):
        if problem not in problems.TYPES:
            raise Http404
        return Response(_problem_type(problem))


# --- Tools ------------------------------------------------------------------------------------------------------------
def _tool_data(tool, organization) -> dict:
    available, reason = beta_selectors.tool_availability(tool, organization)
    return {
        "slug": tool.slug, "name": tool.name, "description": tool.description, "version": tool.version,
        "input_kinds": list(tool.input_kinds), "min_inputs": tool.min_inputs, "max_inputs": tool.max_inputs,
        "output_kinds": list(tool.output_kinds), "queue": tool.queue, "parameters": tool.parameters,
        "available": available, "unavailable_reason": reason,
    }  # fmt: skip


class ToolListView(ApiView):
    @extend_schema(operation_id="tools_list", responses=ToolSerializer(many=True), tags=["tools"],
                   summary="The tool catalogue as your studio's cohort sees it")
    def get(self, request):
        membership = portal_selectors.membership_for_user(request.user)
        organization = membership.organization if membership else None
        # A tool that is not configured here (e.g. Bedrock without credentials) is not offered, as on the pages.
        return Response([_tool_data(tool, organization) for tool in catalogue.all_tools()
                         if not tool.configuration_problem()])


class ToolDetailView(ApiView):
    @extend_schema(operation_id="tools_get", responses=ToolSerializer, tags=["tools"])
    def get(self, request, tool_slug):
        tool = catalogue.get_tool(tool_slug)
        if tool is None or tool.configuration_problem():
            raise Http404
        membership = portal_selectors.membership_for_user(request.user)
        return Response(_tool_data(tool, membership.organization if membership else None))


# --- Assets -----------------------------------------------------------------------------------------------------------
def _asset(request, asset_id) -> Asset:
    asset = get_object_or_404(Asset.objects.for_user(request.user).select_related("organization"), pk=asset_id)
    if asset.status == Asset.Status.DELETED:
        raise Http404
    return asset


def _upload_state(request, asset: Asset) -> dict:
    def url(name):
        return request.build_absolute_uri(reverse(name, args=[asset.pk]))

    return {
        "asset": AssetSerializer(asset, context={"request": request}).data,
        "mode": get_store().mode,
        "part_size": asset.part_size,
        "part_count": asset_selectors.part_count(asset),
        "parts_url": url("api:asset-parts"),
        "complete_url": url("api:asset-complete"),
        "abort_url": url("api:asset-abort"),
    }


class AssetFilters(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Asset.Kind.choices, required=False)
    status = serializers.ChoiceField(
        choices=[c for c in Asset.Status.choices if c[0] != Asset.Status.DELETED], required=False
    )
    origin = serializers.ChoiceField(choices=["upload", "output"], required=False)
    q = serializers.CharField(required=False, max_length=200, help_text="Part of the filename.")


ASSET_FILTERS = [
    OpenApiParameter("kind", enum=Asset.Kind.values),
    OpenApiParameter("status", enum=[s for s in Asset.Status.values if s != Asset.Status.DELETED]),
    OpenApiParameter("origin", enum=["upload", "output"]),
    OpenApiParameter("q", str, description="Part of the filename."),
]


class AssetListView(ApiView):
    pagination_class = AssetCursor

    @extend_schema(operation_id="assets_list", parameters=ASSET_FILTERS, responses=AssetSerializer(many=True),
                   tags=["assets"], summary="Your studio's files, newest first")
    def get(self, request):
        filters = self.query(AssetFilters)
        assets = asset_selectors.library(
            user=request.user, kind=filters.get("kind", ""), status=filters.get("status", ""), q=filters.get("q", "")
        )
        if filters.get("origin"):
            assets = assets.filter(origin=filters["origin"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(assets, request, view=self)
        return paginator.get_paginated_response(AssetSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(operation_id="uploads_start", request=UploadStartSerializer, responses={201: UploadStateSerializer},
                   tags=["assets"], summary="Start an upload (checks size, kind and quota before any byte is sent)")
    def post(self, request):
        data = self.valid(UploadStartSerializer, request.data)
        membership = _membership(request)
        try:
            asset = asset_services.asset_upload_start(
                actor=request.user, organization=membership.organization, filename=data["filename"],
                size=data["size"], content_type=data["content_type"], request=request,
            )
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response(_upload_state(request, asset), status=status.HTTP_201_CREATED)


class AssetDetailView(ApiView):
    @extend_schema(operation_id="assets_get", responses=AssetSerializer, tags=["assets"])
    def get(self, request, asset_id):
        asset = _asset(request, asset_id)
        asset_services.asset_api_read_record(asset=asset, request=request)
        return Response(AssetSerializer(asset, context={"request": request}).data)

    @extend_schema(operation_id="assets_delete", responses={200: DeletionSerializer}, tags=["assets"],
                   summary="Delete a file, its previews and every stored byte; answers the deletion receipt")
    def delete(self, request, asset_id):
        asset = _asset(request, asset_id)
        try:
            receipt = asset_services.asset_delete(actor=request.user, asset=asset, request=request)
        except PortalError as exc:
            raise DomainError(exc, state_conflict=True) from exc
        return Response({"receipt": receipt.uuid, "objects_deleted": receipt.object_count,
                         "bytes_deleted": receipt.bytes_deleted})


class AssetPartsView(ApiView):
    extra_problem_codes = ("409",)  # the upload is no longer open
    @extend_schema(operation_id="uploads_parts", responses=UploadPartsSerializer, tags=["assets"],
                   summary="The parts already stored: resume an upload from here")
    def get(self, request, asset_id):
        asset = _asset(request, asset_id)
        try:
            parts = asset_services.asset_upload_parts(asset=asset)
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response({
            **_upload_state(request, asset),
            "parts": [{"part_number": p.part_number, "size": p.size, "etag": p.etag} for p in parts],
        })

    @extend_schema(operation_id="uploads_part_urls", request=PartNumbersSerializer, responses=PartUrlsSerializer,
                   tags=["assets"], summary="URLs to PUT parts to (presigned S3 URLs, or this API in local mode)")
    def post(self, request, asset_id):
        asset = _asset(request, asset_id)
        numbers = self.valid(PartNumbersSerializer, request.data)["part_numbers"]
        try:
            urls = asset_services.asset_upload_part_urls(asset=asset, part_numbers=numbers)
        except PortalError as exc:
            raise DomainError(exc) from exc
        if get_store().mode == "local":  # the portal's chunk endpoint wants a session: send API clients to ours
            urls = {n: request.build_absolute_uri(reverse("api:asset-part", args=[asset.pk, n])) for n in urls}
        return Response({"urls": {str(n): url for n, url in urls.items()}})


class AssetPartView(ApiView):
    parser_classes = []  # the bytes are streamed to storage, never parsed or held in memory

    def initial(self, request, *args, **kwargs):
        self.max_body_bytes = 0  # the service checks each part against the upload's part size
        super().initial(request, *args, **kwargs)

    @extend_schema(operation_id="uploads_put_part", request={"application/octet-stream": OpenApiTypes.BINARY},
                   responses={200: OpenApiResponse(description="The stored part (ETag header)")}, tags=["assets"],
                   summary="Local mode: send one part's bytes")
    def put(self, request, asset_id, part_number):
        asset = _asset(request, asset_id)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            raise serializers.ValidationError({"body": ["The part is empty."]})
        try:
            part = asset_services.asset_upload_write_part(
                asset=asset, part_number=part_number, stream=request._request, length=length
            )
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response({"part_number": part.part_number, "size": part.size, "etag": part.etag},
                        headers={"ETag": f'"{part.etag}"'})


class AssetCompleteView(ApiView):
    @extend_schema(operation_id="uploads_complete", request=None,
                   responses={200: UploadStateSerializer, 202: UploadStateSerializer}, tags=["assets"],
                   summary="Join the parts; the file is then verified by a worker (status verifying → ready)",
                   description="Idempotent: completing again returns the upload's state. 202 when the file was "
                               "received but its checking could not be queued yet; it starts shortly, by itself.")
    def post(self, request, asset_id):
        try:
            asset = asset_services.asset_upload_complete(
                actor=request.user, asset=_asset(request, asset_id), request=request
            )
        except PortalError as exc:
            raise DomainError(exc) from exc
        if asset.verify_queued is False:  # committed, but the broker was down: the verify sweep queues it later
            return Response({**_upload_state(request, asset), "message": asset_services.VERIFY_DEFERRED_MESSAGE},
                            status=202)
        return Response(_upload_state(request, asset))


class AssetAbortView(ApiView):
    @extend_schema(operation_id="uploads_abort", request=None, responses=AssetSerializer, tags=["assets"],
                   summary="Abandon an unfinished upload; its parts are removed")
    def post(self, request, asset_id):
        try:
            asset = asset_services.asset_upload_abort(
                actor=request.user, asset=_asset(request, asset_id), request=request
            )
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response(AssetSerializer(asset, context={"request": request}).data)


class AssetDownloadView(ApiView):
    extra_problem_codes = ("409",)  # not verified (yet)
    @extend_schema(operation_id="assets_download", responses=DownloadSerializer, tags=["assets"],
                   summary="A short-lived URL for the file's bytes (audited)")
    def get(self, request, asset_id):
        asset = _asset(request, asset_id)
        try:
            url = asset_services.asset_download(actor=request.user, asset=asset, request=request)
        except PortalError as exc:
            raise DomainError(exc, state_conflict=True) from exc
        expires = settings.AWS_PRESIGNED_EXPIRY_SECONDS
        if url is None:  # local storage: a signed link to the API's own streaming endpoint, as short-lived
            token = signing.TimestampSigner(salt=CONTENT_SALT).sign(str(asset.pk))
            url = request.build_absolute_uri(reverse("api:asset-content", args=[asset.pk]) + f"?token={token}")
        return Response({"url": url, "expires_in": expires, "filename": asset.original_filename,
                         "size": asset.size_bytes, "sha256": asset.sha256})


class AssetContentView(ApiView):
    """Local storage only: the bytes behind a download URL. The signed token is the permission (like a presigned
    S3 URL): it names this asset and expires after AWS_PRESIGNED_EXPIRY_SECONDS."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="assets_content", parameters=[OpenApiParameter("token", str, required=True)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=["assets"],
                   summary="Local mode: the file's bytes, for a URL from assets_download")
    @not_for_training
    def get(self, request, asset_id):
        try:
            signed = signing.TimestampSigner(salt=CONTENT_SALT).unsign(
                request.query_params.get("token", ""), max_age=settings.AWS_PRESIGNED_EXPIRY_SECONDS
            )
        except signing.BadSignature as exc:
            raise Http404 from exc
        if signed != str(asset_id) or get_store().mode != "local":
            raise Http404
        asset = Asset.objects.filter(pk=asset_id, status=Asset.Status.READY).first()
        if asset is None:
            raise Http404
        try:
            handle = get_store().open(asset.storage_key)
        except (OSError, StorageError) as exc:
            raise Http404 from exc
        response = FileResponse(handle, content_type=asset.content_type or "application/octet-stream")
        response["Content-Disposition"] = content_disposition("attachment", asset.original_filename)
        response["X-Content-Type-Options"] = "nosniff"
        return response


class AssetManifestView(ApiView):
    """A tool output's `.c2pa` sidecar: its signed C2PA manifest store, to validate the file's bytes with any C2PA
    reader. Small, so sent directly (no short-lived URL)."""

    @extend_schema(operation_id="assets_provenance", responses={(200, "application/c2pa"): OpenApiTypes.BINARY},
                   tags=["assets"], summary="A tool output's C2PA manifest store (its .c2pa sidecar)")
    @not_for_training
    def get(self, request, asset_id):
        asset = _asset(request, asset_id)
        data = asset_services.asset_manifest_read(asset=asset)
        if data is None:
            raise Http404
        response = HttpResponse(data, content_type="application/c2pa")
        response["Content-Disposition"] = content_disposition("attachment", f"{asset.original_filename}.c2pa")
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- Jobs -------------------------------------------------------------------------------------------------------------
class JobFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
    tool = serializers.CharField(required=False, max_length=60)
    created_after = serializers.DateTimeField(required=False, help_text="ISO 8601 date or date-time.")
    created_before = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        data = data.copy()
        for name in ("created_after", "created_before"):  # a bare date means its midnight (UTC)
            value = data.get(name)
            if value and len(value) == 10:
                try:
                    day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - made aware just below
                except ValueError:
                    continue
                data[name] = datetime.combine(day, time.min, tzinfo=UTC).isoformat()
        return super().to_internal_value(data)


JOB_FILTERS = [
    OpenApiParameter("status", enum=Job.Status.values),
    OpenApiParameter("tool", str, description="A tool's slug."),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME, description="Queued at or after (ISO 8601)."),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME, description="Queued before (ISO 8601)."),
]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, location=OpenApiParameter.HEADER, required=False,
    description="Up to 100 characters. The same key with the same body returns the same job (200); "
    "with a different body, 409.",
)


def _jobs(request):
    return beta_selectors.jobs_for_user(request.user).prefetch_related(
        Prefetch("job_outputs", queryset=JobOutput.objects.select_related("asset").order_by("id"))
    )


def _job_response(request, job_id, *, status_code=200, headers=None):
    job = get_object_or_404(_jobs(request), pk=job_id)
    return Response(JobDetailSerializer(job, context={"request": request}).data, status=status_code,
                    headers=headers)


class JobListView(ApiView):
    pagination_class = JobCursor

    @extend_schema(operation_id="jobs_list", parameters=JOB_FILTERS, responses=JobSerializer(many=True),
                   tags=["jobs"], summary="Your studio's jobs, newest first")
    def get(self, request):
        filters = self.query(JobFilters)
        jobs = _jobs(request)
        if filters.get("status"):
            jobs = jobs.filter(status=filters["status"])
        if filters.get("tool"):
            jobs = jobs.filter(tool_slug=filters["tool"])
        if filters.get("created_after"):
            jobs = jobs.filter(queued_at__gte=filters["created_after"])
        if filters.get("created_before"):
            jobs = jobs.filter(queued_at__lt=filters["created_before"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(operation_id="jobs_create", parameters=[IDEMPOTENCY_HEADER], request=JobCreateSerializer,
                   responses={201: JobDetailSerializer, 200: JobDetailSerializer}, tags=["jobs"],
                   summary="Run a tool on your files")
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 100:
            raise serializers.ValidationError({"Idempotency-Key": ["At most 100 characters."]})
        data = self.valid(JobCreateSerializer, request.data)
        try:
            job, created = services.job_create_idempotent(
                actor=request.user, tool_slug=data["tool"], asset_ids=data["inputs"],
                parameters=data["parameters"], idempotency_key=key, request=request,
            )
        except PortalError as exc:
            raise DomainError(exc) from exc
        headers = {"Location": request.build_absolute_uri(reverse("api:job-detail", args=[job.pk]))}
        if key and not created:
            headers["Idempotent-Replayed"] = "true"
        return _job_response(request, job.pk, status_code=201 if created else 200, headers=headers)


class JobDetailView(ApiView):
    @extend_schema(operation_id="jobs_get", responses=JobDetailSerializer, tags=["jobs"],
                   summary="A job: status, progress, stage, log and outputs")
    def get(self, request, job_id):
        return _job_response(request, job_id)


class JobCancelView(ApiView):
    @extend_schema(operation_id="jobs_cancel", request=None, responses=JobDetailSerializer, tags=["jobs"],
                   summary="Cancel: a waiting job stops at once, a running one at its next progress report")
    def post(self, request, job_id):
        job = get_object_or_404(Job.objects.for_user(request.user), pk=job_id)
        try:
            job_cancel(actor=request.user, job=job, request=request)
        except PortalError as exc:
            raise DomainError(exc, state_conflict=True) from exc
        return _job_response(request, job.pk)


class JobRetryView(ApiView):
    @extend_schema(operation_id="jobs_retry", request=None, responses={201: JobDetailSerializer}, tags=["jobs"],
                   summary="Run a failed or canceled job again (a new job, same files and parameters)")
    def post(self, request, job_id):
        job = get_object_or_404(Job.objects.for_user(request.user), pk=job_id)
        try:
            new_job = job_retry(actor=request.user, job=job, request=request)
        except PortalError as exc:
            raise DomainError(exc, state_conflict=True) from exc
        return _job_response(request, new_job.pk, status_code=201)
