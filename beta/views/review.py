"""The review room's pages and endpoints: notes as JSON for the player, note threads, each note's annotated frame,
notes export (PDF, CSV), and compare. Every object is fetched through `for_user` (another studio's id is a 404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from assets.models import Asset
from beta.errors import FeedbackError
from beta.feedback import selectors as feedback_selectors
from beta.feedback import services as feedback_services
from beta.models import FeedbackReport, JobOutput
from beta.review import export, selectors
from portal.errors import PermissionDeniedError


def _report(request, report_id) -> FeedbackReport:
    reports = feedback_selectors.partner_visible(FeedbackReport.objects.for_user(request.user), request.user)
    return get_object_or_404(reports.select_related("job", "author", "organization"), pk=report_id)


def _note(request, note_id):
    return get_object_or_404(selectors.visible_notes(request.user), pk=note_id)


@login_required
@require_GET
def asset_notes(request, asset_id):
    """Every note the person may see on this media (the asset page and the job page's players)."""
    asset = get_object_or_404(Asset.objects.for_user(request.user), pk=asset_id)
    notes = selectors.visible_notes(request.user).filter(output__asset=asset)
    return JsonResponse({"notes": [selectors.note_json(n) for n in notes]})


@login_required
@require_GET
def report_notes(request, report_id):
    report = _report(request, report_id)
    notes = selectors.visible_notes(request.user).filter(report=report)
    return JsonResponse({"notes": [selectors.note_json(n) for n in notes]})


def notes_list_response(request, report, *, errors=None, editable=False):
    context = {
        "report": report,
        "notes": selectors.notes_for_page(request.user, report),
        "note_errors": errors or {},
        "editable": editable,
        "is_staff_viewer": request.user.is_studio_staff,
    }
    return render(request, "beta/feedback/_notes.html", context)


@login_required
@require_POST
def note_reply(request, feedbacknote_id):
    note = _note(request, feedbacknote_id)
    errors = None
    try:
        feedback_services.feedback_note_reply(
            user=request.user, note=note, body=request.POST.get("body", ""),
            internal=request.POST.get("internal") in ("1", "on", "true"),
        )
    except FeedbackError as exc:
        errors = exc.errors or {"body": str(exc)}
    except PermissionDeniedError as exc:
        errors = {"body": str(exc)}
    if request.headers.get("HX-Request") == "true":
        editable = note.report.author_id == request.user.pk
        return notes_list_response(request, note.report, errors=errors, editable=editable)
    return redirect("beta:feedback-detail", report_id=note.report_id)


@login_required
@require_GET
def note_frame(request, feedbacknote_id):
    """The note's frame with its drawing burnt in (PNG): the notes list's thumbnail."""
    note = _note(request, feedbacknote_id)
    png = export.note_frame_png(note)
    if png is None:
        raise Http404
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


def _export_name(report, ext: str) -> str:
    return f"notes-{slugify(report.tool_slug)}-{report.job_id}-{report.pk}.{ext}"


@login_required
@require_GET
def notes_csv(request, report_id):
    report = _report(request, report_id)
    notes = list(selectors.visible_notes(request.user).filter(report=report))
    response = HttpResponse(export.notes_csv(notes), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(report, "csv")}"'
    return response


@login_required
@require_GET
def notes_pdf(request, report_id):
    report = _report(request, report_id)
    notes = list(selectors.visible_notes(request.user).filter(report=report))
    title = f"Notes on job {report.job_id} ({report.tool_slug} {report.tool_version})"
    response = HttpResponse(export.notes_pdf(report, notes, title=title), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(report, "pdf")}"'
    return response


# --- Compare ----------------------------------------------------------------------------------------------------
def compare_side(asset: Asset, label: str = "") -> dict | None:
    """One side of a compare: a ready picture or clip the browser can play (a video's web proxy), else None. The
    caller fetched the asset through `for_user`."""
    if asset.kind not in ("video", "image") or asset.status != Asset.Status.READY:
        return None
    if asset.kind == "video":
        if "proxy" not in {r.kind for r in asset.renditions.all()}:
            return None
        src = reverse("assets:rendition", args=[asset.pk, "proxy"])
    else:
        src = reverse("assets:download", args=[asset.pk])
    return {"asset": asset, "src": src, "label": label or asset.original_filename}


def _compare_side(request, asset_id) -> dict:
    asset = get_object_or_404(Asset.objects.for_user(request.user).prefetch_related("renditions"), pk=asset_id)
    side = compare_side(asset)
    if side is None:
        raise Http404
    return side


@login_required
@require_GET
def compare(request):
    """Two media side by side, with a wipe or onion skin; play, pause, step and seek drive both."""
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", "")
    if not (a_id.isdigit() and b_id.isdigit()):
        raise Http404
    sides = [_compare_side(request, int(a_id)), _compare_side(request, int(b_id))]
    return render(request, "beta/review/compare.html", {"sides": sides, "blind": False})


def compare_links(output: JobOutput) -> list[dict]:
    """Where "Compare" can go from an output: its input, and the same tool's other outputs on the same input."""
    job = output.job
    links = []
    for job_input in job.job_inputs.select_related("asset").order_by("position"):
        if job_input.asset.kind == output.asset.kind:
            links.append({"label": f"with the input {job_input.asset.original_filename}",
                          "url": f"{reverse('beta:review-compare')}?a={job_input.asset_id}&b={output.asset_id}"})
    first_input = job.job_inputs.order_by("position").values_list("asset_id", flat=True).first()
    if first_input:
        siblings = (
            JobOutput.objects.filter(job__organization_id=job.organization_id, job__tool_slug=job.tool_slug,
                                     job__job_inputs__asset_id=first_input, asset__kind=output.asset.kind,
                                     role=output.role)
            .exclude(job_id=job.pk).select_related("job").order_by("-job__created_at")[:5]
        )
        for sibling in siblings:
            links.append({"label": f"with job {sibling.job_id} ({sibling.job.tool_version})",
                          "url": f"{reverse('beta:review-compare')}?a={output.asset_id}&b={sibling.asset_id}"})
    return links
