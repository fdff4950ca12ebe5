"""Asset pages and the upload API (JSON). Every object is fetched through `for_user`: another studio's is a 404."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets import selectors, services
from assets.models import Asset, DeletionReceipt, Rendition
from assets.storage import StorageError, content_disposition, get_store
from assets.streaming import file_response, requested_range
from portal import selectors as portal_selectors
from portal.cohorts import cohort_window
from portal.decorators import admin_required, partner_required
from portal.errors import PermissionDeniedError, PortalError
from portal.safejson import loads_limited
from portal.services.audit import audit_record
from portal.tdm import not_for_training

MAX_JSON_BYTES = 64 * 1024


def _asset(request, asset_id) -> Asset:
    return get_object_or_404(Asset.objects.for_user(request.user).select_related("organization"), pk=asset_id)


def _json_body(request) -> dict:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_JSON_BYTES:
        raise ValueError("The request is too large.")
    data = loads_limited(request.body or b"{}", max_bytes=MAX_JSON_BYTES)  # JsonLimitError is a ValueError
    if not isinstance(data, dict):
        raise ValueError("The request must be a JSON object.")
    return data


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _upload_state(asset: Asset) -> dict:
    return {
        "asset_id": asset.pk,
        "filename": asset.original_filename,
        "size": asset.size_bytes,
        "part_size": asset.part_size,
        "part_count": selectors.part_count(asset),
        "status": asset.status,
        "mode": get_store().mode,
        "parts_url": reverse("assets:upload-parts", args=[asset.pk]),
        "complete_url": reverse("assets:upload-complete", args=[asset.pk]),
        "abort_url": reverse("assets:upload-abort", args=[asset.pk]),
        "detail_url": reverse("assets:detail", args=[asset.pk]),
        "status_url": reverse("assets:status", args=[asset.pk]),
    }


# --- Pages ------------------------------------------------------------------------------------------------------------
@partner_required
@require_GET
def library(request):
    kind, status, q = request.GET.get("kind", ""), request.GET.get("status", ""), request.GET.get("q", "").strip()
    page = Paginator(selectors.library(user=request.user, kind=kind, status=status, q=q), 24).get_page(
        request.GET.get("page")
    )
    membership = portal_selectors.membership_for_user(request.user)
    return render(
        request,
        "assets/library.html",
        {
            "page": page,
            "kind": kind,
            "status": status,
            "q": q,
            "kinds": Asset.Kind.choices,
            "statuses": [c for c in Asset.Status.choices if c[0] != Asset.Status.DELETED],
            "membership": membership,
            "window": cohort_window(membership.organization if membership else None),
            "used": selectors.storage_used(membership.organization) if membership else 0,
        },
    )


@partner_required
@require_GET
def upload_page(request):
    membership = portal_selectors.membership_for_user(request.user)
    if membership is None:
        raise Http404
    return render(
        request,
        "assets/upload.html",
        {
            "membership": membership,
            "window": cohort_window(membership.organization),
            "unfinished": selectors.unfinished_uploads(user=request.user),
            "max_bytes": settings.ASSET_MAX_BYTES,
            "used": selectors.storage_used(membership.organization),
            "mode": get_store().mode,
        },
    )


@login_required
@require_GET
def detail(request, asset_id):
    asset = _asset(request, asset_id)
    if asset.status == Asset.Status.DELETED:
        raise Http404
    if request.user.is_studio_staff:
        via = "feedback" if request.GET.get("from") == "feedback" else ""
        services.asset_staff_open_record(actor=request.user, asset=asset, request=request, via=via)
    renditions = {r.kind: r for r in asset.renditions.all()}
    return render(
        request,
        "assets/detail.html",
        {
            "asset": asset,
            "renditions": renditions,
            "usage": selectors.asset_usage(asset),
            "delete_after": selectors.retention_deadline(asset.organization),
            # The studio's own view of who read the file (not shown to staff: the log is for the studio).
            "access": None if request.user.is_studio_staff else selectors.access_entries(
                selectors.access_log(organization=asset.organization, asset=asset)[:5],
                organization=asset.organization,
            ),
        },
    )


@login_required
@require_GET
def status(request, asset_id):
    """The live part of the asset page and library cards (htmx polls it until the asset settles)."""
    asset = _asset(request, asset_id)
    template = "assets/_card.html" if request.GET.get("view") == "card" else "assets/_status.html"
    response = render(request, template, {"asset": asset, "renditions": {r.kind: r for r in asset.renditions.all()}})
    if request.headers.get("HX-Request") and template == "assets/_status.html" and asset.is_final:
        response["HX-Refresh"] = "true"  # settled: reload once so the header, download button and details update
    return response


def _send(request, asset: Asset, rendition: Rendition | None):
    target = rendition or asset
    size = target.size_bytes
    wanted = requested_range(request, size) if get_store().mode == "local" else None
    try:
        url = services.asset_download(
            actor=request.user, asset=asset, rendition=rendition, request=request,
            audit=wanted is None or (wanted is not False and wanted[0] == 0),
        )
    except PortalError as exc:
        raise Http404(str(exc)) from exc
    if url:
        return redirect(url)
    target = rendition or asset
    store = get_store()
    filename = (
        asset.original_filename if rendition is None else f"{rendition.kind}.{target.storage_key.rsplit('.', 1)[-1]}"
    )
    try:
        handle = store.open(target.storage_key)
    except (OSError, StorageError) as exc:
        raise Http404("The stored file is missing.") from exc
    content_type = target.content_type or "application/octet-stream"
    # Players seek with range requests; answering them lets the local-mode preview be scrubbed.
    response = file_response(handle, size=size, content_type=content_type, wanted=wanted)
    if response.status_code == 416:
        return response
    response["Content-Disposition"] = content_disposition("inline" if rendition else "attachment", filename)
    return response


@login_required
@require_GET
@not_for_training
def download(request, asset_id):
    return _send(request, _asset(request, asset_id), None)


@login_required
@require_GET
@not_for_training
def rendition(request, asset_id, kind):
    asset = _asset(request, asset_id)
    if kind not in Rendition.Kind.values:
        raise Http404
    found = get_object_or_404(Rendition.objects.for_user(request.user), asset=asset, kind=kind)
    return _send(request, asset, found)


@login_required
@require_POST
def delete(request, asset_id):
    asset = _asset(request, asset_id)
    try:
        receipt = services.asset_delete(actor=request.user, asset=asset, request=request)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc)) from exc
    except PortalError as exc:
        messages.error(request, str(exc))
        return redirect("assets:library")
    messages.success(
        request,
        f"Deleted: {receipt.object_count} stored objects ({receipt.bytes_deleted:,} bytes) "
        f"are gone. Receipt {receipt.uuid}.",
    )
    return redirect("assets:library")


@admin_required
@require_GET
@not_for_training
def receipt_download(request, deletionreceipt_id):
    receipt = get_object_or_404(DeletionReceipt.objects.for_user(request.user), pk=deletionreceipt_id)
    audit_record(
        action="receipt.downloaded",
        actor=request.user,
        organization=receipt.organization,
        target=receipt,
        request=request,
    )
    body = {
        "receipt": str(receipt.uuid),
        "studio": receipt.organization_name,
        "scope": receipt.scope,
        "requested_by": receipt.requested_by_email or "scheduled retention purge",
        "completed_at": receipt.completed_at.isoformat() if receipt.completed_at else None,
        "assets": receipt.asset_count,
        "renditions": receipt.rendition_count,
        "objects": receipt.object_count,
        "bytes": receipt.bytes_deleted,
        "object_key_sha256": receipt.object_key_hashes,
    }
    response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    response["Content-Disposition"] = content_disposition("attachment", f"deletion-receipt-{receipt.uuid}.json")
    return response


# --- Upload API -------------------------------------------------------------------------------------------------------
def _api(view):
    """JSON errors for the upload API: domain errors are 400 (or 403), with the message for the partner."""

    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDeniedError as exc:
            return _error(str(exc), 403)
        except (PortalError, ValueError) as exc:
            return _error(str(exc))

    wrapper.__name__, wrapper.__doc__, wrapper.__module__ = view.__name__, view.__doc__, view.__module__
    return wrapper


@partner_required
@require_POST
@_api
def upload_start(request):
    data = _json_body(request)
    membership = portal_selectors.membership_for_user(request.user)
    if membership is None:
        raise PermissionDeniedError("You are not part of a studio.")
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValueError("size must be a whole number of bytes.")
    asset = services.asset_upload_start(
        actor=request.user,
        organization=membership.organization,
        filename=str(data.get("filename", "")),
        size=size,
        content_type=str(data.get("content_type", "")),
        request=request,
    )
    return JsonResponse(_upload_state(asset), status=201)


@login_required
@require_http_methods(["GET", "POST"])
@_api
def upload_parts(request, asset_id):
    """GET: the parts already stored (to resume). POST {"part_numbers": [...]}: URLs to send parts to."""
    asset = _asset(request, asset_id)
    if request.method == "GET":
        parts = services.asset_upload_parts(asset=asset)
        return JsonResponse(
            {
                **_upload_state(asset),
                "parts": [{"part_number": p.part_number, "size": p.size, "etag": p.etag} for p in parts],
            }
        )
    numbers = _json_body(request).get("part_numbers")
    if not isinstance(numbers, list):
        raise ValueError("part_numbers must be a list.")
    urls = services.asset_upload_part_urls(asset=asset, part_numbers=numbers)
    return JsonResponse({"urls": {str(n): url for n, url in urls.items()}})


@login_required
@require_http_methods(["PUT"])
@_api
def upload_part(request, asset_id, part_number):
    """Local mode: the chunk endpoint that stands in for S3's presigned part URLs. Streams to disk."""
    asset = _asset(request, asset_id)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length <= 0:
        raise ValueError("The part is empty.")
    part = services.asset_upload_write_part(asset=asset, part_number=part_number, stream=request, length=length)
    response = JsonResponse({"part_number": part.part_number, "size": part.size, "etag": part.etag})
    response["ETag"] = f'"{part.etag}"'
    return response


@login_required
@require_POST
@_api
def upload_complete(request, asset_id):
    asset = services.asset_upload_complete(actor=request.user, asset=_asset(request, asset_id), request=request)
    return JsonResponse(_upload_state(asset))


@login_required
@require_POST
@_api
def upload_abort(request, asset_id):
    asset = services.asset_upload_abort(actor=request.user, asset=_asset(request, asset_id), request=request)
    return JsonResponse({"status": asset.status})
