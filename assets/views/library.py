"""Asset pages: the library, an asset, its files and its deletion. Every object is fetched through `for_user`:
another studio's is a 404."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from assets import selectors, services
from assets.errors import AssetError
from assets.models import Asset, DeletionReceipt, Rendition
from assets.storage import StorageError, content_disposition, get_store
from assets.streaming import file_response, requested_range
from portal import selectors as portal_selectors
from portal.cohorts import cohort_window
from portal.decorators import admin_required, partner_required
from portal.errors import PortalError
from portal.ids import parse_id
from portal.services.audit import audit_record
from portal.tdm import not_for_training


def _asset(request, asset_id) -> Asset:
    return get_object_or_404(
        Asset.objects.for_user(request.user).select_related("organization", "lineage_root", "derived_from"),
        pk=asset_id,
    )


# --- Pages ------------------------------------------------------------------------------------------------------------
@partner_required
@require_GET
def library(request):
    kind, status, q = request.GET.get("kind", ""), request.GET.get("status", ""), request.GET.get("q", "").strip()
    view = request.GET.get("view", "")
    view = view if view in selectors.LIBRARY_VIEWS else ("all" if q else "stacked")  # a search finds every file
    stack = None
    if "stack" in request.GET:  # the versions under one original: through for_user, so another studio's is a 404
        stack = _asset(request, parse_id(request.GET["stack"]) or 0)
        if stack.status == Asset.Status.DELETED:
            raise Http404
    assets = selectors.library(user=request.user, kind=kind, status=status, q=q, view=view, stack=stack)
    page = Paginator(assets, 24).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    stacks = selectors.library_stacks(page.object_list) if stack is None else {}
    for asset in page.object_list:
        asset.stack = stacks.get(asset.pk)
    membership = portal_selectors.membership_for_user(request.user)
    window = cohort_window(membership.organization if membership else None)
    return render(
        request,
        "assets/library.html",
        {
            "page": page,
            "stack": stack,
            "view": view,
            "views": selectors.LIBRARY_VIEWS.items(),
            "kind": kind,
            "status": status,
            "q": q,
            "kinds": Asset.Kind.choices,
            "statuses": [c for c in Asset.Status.choices if c[0] != Asset.Status.DELETED],
            "membership": membership,
            "window": window,
            "used": selectors.storage_used(membership.organization) if membership else 0,
            "can_run": bool(membership and membership.role != "viewer" and window.is_open),
        },
    )


def _can_run(user, asset: Asset) -> bool:
    """Whether to offer "Run a tool on this": a member (not a viewer) of its studio, while the cohort is open."""
    if user.is_studio_staff or asset.status != Asset.Status.READY:
        return False
    membership = portal_selectors.membership_for_user(user)
    return bool(membership and membership.organization_id == asset.organization_id
                and membership.role != "viewer" and cohort_window(membership.organization).is_open)


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
            "made_by": selectors.asset_origin(asset),
            "stack": selectors.library_stacks([asset]).get(asset.pk) if asset.lineage_root_id is None else None,
            "can_run": _can_run(request.user, asset),
            "delete_after": selectors.retention_deadline(asset.organization),
            # The studio's own view of who read the file (not shown to staff: the log is for the studio).
            "access": None if request.user.is_studio_staff else selectors.access_entries(
                selectors.access_log(organization=asset.organization, asset=asset)[:5],
                organization=asset.organization,
            ),
        },
    )


STATUS_TEMPLATES = {"card": "assets/_card.html", "upload": "assets/_upload_status.html"}


@login_required
@require_GET
def status(request, asset_id):
    """The live part of the asset page, library cards and upload page rows (htmx polls it until the asset settles)."""
    asset = _asset(request, asset_id)
    template = STATUS_TEMPLATES.get(request.GET.get("view", ""), "assets/_status.html")
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
    except AssetError as exc:
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
