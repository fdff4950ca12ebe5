"""Uploading: the upload page and the upload API (JSON). Every object is fetched through `for_user`: another
studio's is a 404."""


from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets import selectors, services
from assets.models import Asset
from assets.storage import get_store
from assets.views.library import _asset
from portal import selectors as portal_selectors
from portal.cohorts import cohort_window
from portal.decorators import partner_required
from portal.errors import PermissionDeniedError, PortalError
from portal.safejson import loads_limited

MAX_JSON_BYTES = 64 * 1024


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
    if asset.verify_queued is False:  # committed, but the broker was down: the verify sweep queues it later
        return JsonResponse({**_upload_state(asset), "message": services.VERIFY_DEFERRED_MESSAGE}, status=202)
    return JsonResponse(_upload_state(asset))


@login_required
@require_POST
@_api
def upload_abort(request, asset_id):
    asset = services.asset_upload_abort(actor=request.user, asset=_asset(request, asset_id), request=request)
    return JsonResponse({"status": asset.status})
