"""Blind comparison pages. Partners: the list and the side-by-side vote. Staff: set up, and unblinded results.

The partner's page names no tool, version, job, output or file: its media come from
`/comparisons/<id>/left/` and `/right/`, which resolve the side through the person's stored order after the
tenancy check (`Comparison.objects.for_user`), so another studio's comparison is a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets.models import Asset, Rendition
from assets.storage import StorageError, content_disposition, get_store
from assets.streaming import file_response, requested_range
from beta.comparisons import selectors, services
from beta.comparisons.errors import ComparisonClosedError, ComparisonError
from beta.comparisons.forms import ComparisonForm, StudioPickForm, VoteForm
from beta.models import Comparison
from beta.surveys.services import when
from portal.decorators import partner_required, staff_required
from portal.errors import PermissionDeniedError
from portal.models import AuditEvent
from portal.services.audit import audit_record
from portal.tdm import not_for_training

MEDIA_KINDS = {"video", "image", "audio"}


def _comparison(request, comparison_id) -> Comparison:
    return get_object_or_404(Comparison.objects.for_user(request.user), pk=comparison_id)


# --- Partners ---------------------------------------------------------------------------------------------------------
@partner_required
@require_GET
def comparison_list(request):
    comparisons = list(selectors.comparisons_for_user(request.user))
    for comparison in comparisons:
        comparison.is_open = services.is_open(comparison)
    return render(request, "beta/comparisons/list.html", {"comparisons": comparisons})


def _side(comparison: Comparison, vote, side: str, name: str) -> dict:
    """One side as the page shows it: its media kind, and the asset for the player's frame rate and timecode only
    (the player is told `blind`, so no id or file name reaches the page)."""
    asset = services.output_for_side(comparison, vote, side).asset
    kind = asset.kind if asset.kind in MEDIA_KINDS else "file"
    src = reverse(f"beta:comparison-side-{side}", args=[comparison.pk])
    return {"side": side, "name": name, "kind": kind, "asset": asset, "src": src}


@partner_required
@require_http_methods(["GET", "HEAD", "POST"])
def comparison_vote(request, comparison_id):
    comparison = _comparison(request, comparison_id)
    try:
        vote = services.vote_for_viewer(actor=request.user, comparison=comparison)
    except PermissionDeniedError as exc:
        raise Http404 from exc
    is_open = services.is_open(comparison)
    if request.method == "POST":
        form = VoteForm(request.POST)
        if form.is_valid():
            try:
                services.vote_submit(actor=request.user, comparison=comparison, **form.cleaned_data)
            except ComparisonClosedError as exc:
                messages.error(request, str(exc))
                return redirect("beta:comparison-vote", comparison_id=comparison.pk)
            except ComparisonError as exc:
                form.add_error("reason", str(exc))
            else:
                messages.success(
                    request, "Thank you: your pick is saved. You can change it while the comparison is open."
                )
                return redirect("beta:comparison-vote", comparison_id=comparison.pk)
    else:
        initial = {"pick": services.screen_pick(vote.order, vote.choice), "reason": vote.reason} if vote.choice else {}
        form = VoteForm(initial=initial)
    if not is_open:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "beta/comparisons/vote.html",
        {
            "comparison": comparison,
            "form": form,
            "is_open": is_open,
            "voted": bool(vote.choice),
            "due": when(comparison.due_at) if comparison.due_at else "",
            "sides": [
                _side(comparison, vote, "left", "A"),
                _side(comparison, vote, "right", "B"),
            ],
        },
        status=400 if form.errors else 200,
    )


@partner_required
@require_GET
@not_for_training
def comparison_side(request, comparison_id, side):
    """The media of one side for this person, by their stored order: the URL says left or right, never which output.

    Video plays from its web proxy when there is one. Local storage streams here (answering range requests so the
    player can seek); S3 redirects to a short-lived presigned URL whose download name is only the side.
    """
    comparison = _comparison(request, comparison_id)
    try:
        vote = services.vote_for_viewer(actor=request.user, comparison=comparison)
    except PermissionDeniedError as exc:
        raise Http404 from exc
    output = services.output_for_side(comparison, vote, side)
    asset = output.asset
    if asset.status != Asset.Status.READY:
        raise Http404("This output is no longer available.")
    rendition = None
    if asset.kind == "video":
        rendition = Rendition.objects.filter(asset=asset, kind=Rendition.Kind.PROXY).first()
    target = rendition or asset
    content_type = target.content_type or asset.content_type or "application/octet-stream"
    extension = ".mp4" if rendition else ("." + asset.original_filename.rsplit(".", 1)[-1].lower()
                                          if "." in asset.original_filename else "")
    filename = f"{side}{extension}"
    store = get_store()
    wanted = requested_range(request, target.size_bytes) if store.mode == "local" else None
    if wanted is None or (wanted is not False and wanted[0] == 0):  # one playback is one audit line
        audit_record(
            action=AuditEvent.Action.ASSET_VIEWED, actor=request.user, organization=comparison.organization,
            target=asset, request=request, detail={"comparison": comparison.pk, "side": side},
        )
    url = store.download_url(target.storage_key, filename=filename, content_type=content_type, inline=True,
                             expires=settings.AWS_PRESIGNED_EXPIRY_SECONDS)
    if url:
        return redirect(url)
    try:
        handle = store.open(target.storage_key)
    except (OSError, StorageError) as exc:
        raise Http404("The stored file is missing.") from exc
    response = file_response(handle, size=target.size_bytes, content_type=content_type, wanted=wanted)
    if response.status_code == 416:
        return response
    response["Content-Disposition"] = content_disposition("inline", filename)
    return response


# --- Staff ------------------------------------------------------------------------------------------------------------
@staff_required
@require_GET
def staff_comparison_list(request):
    return render(request, "beta/comparisons/staff_list.html", {"comparisons": selectors.comparisons_for_staff()})


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_comparison_new(request):
    """Two steps on one page: pick the studio (GET ?studio=), then two outputs of its jobs on the same input."""
    pick = StudioPickForm(request.GET if "studio" in request.GET else None)
    organization = pick.cleaned_data["studio"] if pick.is_bound and pick.is_valid() else None
    form = None
    if organization is not None:
        form = ComparisonForm(request.POST if request.method == "POST" else None, organization=organization)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                comparison = services.comparison_create(
                    actor=request.user, organization=organization, output_a=data["output_a_obj"],
                    output_b=data["output_b_obj"], title=data["title"], question=data["question"],
                    label_a=data["label_a"], label_b=data["label_b"], due_at=data["due_at"],
                )
            except ComparisonError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Comparison “{comparison.title}” is open to {organization.name}.")
                return redirect("beta:staff-comparison", comparison_id=comparison.pk)
    elif request.method == "POST":
        raise Http404
    return render(
        request,
        "beta/comparisons/staff_new.html",
        {"pick": pick, "organization": organization, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@staff_required
@require_GET
def staff_comparison(request, comparison_id):
    comparison = get_object_or_404(
        Comparison.objects.select_related("organization", "output_a__job", "output_a__asset", "output_b__job",
                                          "output_b__asset"),
        pk=comparison_id,
    )
    results = selectors.comparison_results(comparison)
    for variant in results["variants"]:
        p, low, high = variant["rate"]
        if p is not None:
            variant["pct"] = {"p": round(100 * p), "low": round(100 * low), "high": round(100 * high),
                              "width": max(round(100 * (high - low)), 1)}
    return render(
        request,
        "beta/comparisons/staff_detail.html",
        {"comparison": comparison, "results": results, "is_open": services.is_open(comparison)},
    )


@staff_required
@require_POST
def staff_comparison_status(request, comparison_id):
    comparison = get_object_or_404(Comparison, pk=comparison_id)
    try:
        services.comparison_set_status(actor=request.user, comparison=comparison, status=request.POST.get("status", ""))
    except ComparisonError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Comparison {comparison.get_status_display().lower()}.")
    return redirect("beta:staff-comparison", comparison_id=comparison.pk)

