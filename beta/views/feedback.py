"""Feedback pages: the partner's form (drafts saved as they type, notes at a timecode, attachments), their list and
report pages (status and replies, never internal comments), and the staff inbox and report page.

Reports are fetched only through `FeedbackReport.objects.for_user` (another studio's report is a 404); staff pages
are `staff_required`. Writes go through `beta.feedback.services`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets.models import Asset
from beta import tools as catalogue
from beta.errors import FeedbackError
from beta.feedback import selectors, services
from beta.feedback.forms import (
    CATEGORY_CHOICES,
    FIT_CHOICES,
    RATING_QUESTIONS,
    RATING_WORDS,
    BulkForm,
    TriageForm,
    staff_people,
    tag_names,
)
from beta.models import FeedbackAttachment, FeedbackNote, FeedbackReport, FeedbackTag, Job
from beta.review import selectors as review_selectors
from portal import selectors as portal_selectors
from portal.cohorts import cohort_window
from portal.decorators import partner_required, staff_required
from portal.errors import PermissionDeniedError
from portal.models import Cohort, Organization

INBOX_PER_PAGE = 25
LIST_PER_PAGE = 25


def _tool_name(slug: str) -> str:
    tool = catalogue.get_tool(slug)
    return tool.name if tool else slug


def _report(request, report_id) -> FeedbackReport:
    """A report the person may see: their studio's (staff: any studio's), and a draft only by its author."""
    reports = selectors.partner_visible(FeedbackReport.objects.for_user(request.user), request.user)
    return get_object_or_404(
        reports.select_related("job", "author", "organization__cohort", "assignee"),
        pk=report_id,
    )


def _own_report(request, report_id) -> FeedbackReport:
    """The signed-in partner's own report (a teammate's report can be read, not edited: 404 here)."""
    report = _report(request, report_id)
    if report.author_id != request.user.pk:
        raise Http404
    return report


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _ratings(values: dict, errors: dict | None = None) -> list[dict]:
    errors = errors or {}
    return [
        {"name": name, "label": label, "help": help_text, "value": values.get(name), "error": errors.get(name, "")}
        for name, label, help_text in RATING_QUESTIONS
    ]


def _answers(report: FeedbackReport, content: dict | None = None) -> dict:
    """A report's answers as its pages show them."""
    content = content or services.report_content(report)
    labels = dict(CATEGORY_CHOICES)
    return {
        "ratings": _ratings(content),
        "fit": dict(FIT_CHOICES).get(content.get("production_fit") or "", ""),
        "hours_saved": content.get("hours_saved"),
        "categories": [labels.get(c, c) for c in content.get("categories") or []],
        "text": content.get("text") or "",
    }


def _player_context(request, report: FeedbackReport) -> dict:
    outputs = []
    for output in selectors.video_outputs(report.job):
        kinds = {r.kind for r in output.asset.renditions.all()}
        src = (
            reverse("assets:rendition", args=[output.asset_id, "proxy"])
            if "proxy" in kinds
            else reverse("assets:download", args=[output.asset_id])
        )
        poster = reverse("assets:rendition", args=[output.asset_id, "poster"]) if "poster" in kinds else ""
        outputs.append({"output": output, "src": src, "poster": poster})
    return {
        "video_outputs": outputs,
        "notes": review_selectors.notes_for_page(request.user, report),
        "is_staff_viewer": request.user.is_studio_staff,
    }


def _run_context(report: FeedbackReport) -> dict:
    params = [{"name": k, "value": v} for k, v in (report.parameters or {}).items()]
    return {"tool_name": _tool_name(report.tool_slug), "run_parameters": params}


# --- Starting from the job page ---------------------------------------------------------------------------------------
@partner_required
@require_POST
def feedback_start(request, job_id):
    job = get_object_or_404(Job.objects.for_user(request.user), pk=job_id)
    try:
        report = services.feedback_start(user=request.user, job=job)
    except FeedbackError as exc:
        messages.error(request, str(exc))
        return redirect("beta:job-detail", job_id=job.pk)
    return redirect("beta:feedback-edit", report_id=report.pk)


# --- The partner's form -----------------------------------------------------------------------------------------------
def _form_context(request, report: FeedbackReport, *, values: dict, errors: dict) -> dict:
    return {
        "report": report,
        "values": values,
        "errors": errors,
        "ratings": _ratings(values, errors),
        "rating_words": sorted(RATING_WORDS.items()),
        "fit_choices": FIT_CHOICES,
        "category_choices": CATEGORY_CHOICES,
        "attachments": selectors.report_attachments(report),
        "editing_submitted": not report.is_draft,
        "next_revision": report.revision + 1,
        "membership": portal_selectors.membership_for_user(request.user),
        **_run_context(report),
        **_player_context(request, report),
    }


@partner_required
@require_http_methods(["GET", "POST"])
def feedback_edit(request, report_id):
    report = _own_report(request, report_id)
    errors: dict = {}
    if request.method == "POST":
        try:
            report = services.feedback_submit(user=request.user, report=report, data=request.POST)
        except FeedbackError as exc:
            errors = exc.errors
            if "" in errors:
                messages.error(request, str(exc))
                return redirect("beta:feedback-detail", report_id=report.pk)
            values = {**services.working_content(report), **services.plain_data(request.POST)}
            context = _form_context(request, report, values=values, errors=errors)
            return render(request, "beta/feedback/edit.html", context, status=400)
        if report.revision == 1:
            messages.success(request, "Thank you: your feedback is with the AI Studio. You'll see its status here.")
        else:
            messages.success(request, f"Your changes are submitted as revision {report.revision}.")
        return redirect("beta:feedback-detail", report_id=report.pk)
    if cohort_window(report.organization).read_only:
        messages.info(request, "Your studio's beta window is closed: feedback is read-only.")
        return redirect("beta:feedback-detail", report_id=report.pk)
    context = _form_context(request, report, values=services.working_content(report), errors=errors)
    return render(request, "beta/feedback/edit.html", context)


@partner_required
@require_POST
def feedback_draft(request, report_id):
    """htmx: save what is typed so far and answer the "Draft saved" line."""
    report = _own_report(request, report_id)
    try:
        report = services.feedback_save_draft(user=request.user, report=report, data=request.POST)
    except FeedbackError as exc:
        return render(request, "beta/feedback/_draft_status.html", {"failed": str(exc)})
    if not _is_htmx(request):
        messages.success(request, "Draft saved.")
        return redirect("beta:feedback-edit", report_id=report.pk)
    return render(request, "beta/feedback/_draft_status.html", {"report": report, "draft_errors": report.draft_errors})


def _notes_response(request, report: FeedbackReport, *, errors: dict | None = None):
    """The notes list for htmx (errors are answered with 200 too: htmx swaps only successful answers)."""
    context = {
        "report": report,
        "notes": review_selectors.notes_for_page(request.user, report),
        "note_errors": errors or {},
        "editable": True,
    }
    return render(request, "beta/feedback/_notes.html", context)


@partner_required
@require_POST
def feedback_note_add(request, report_id):
    report = _own_report(request, report_id)
    try:
        services.feedback_note_add(
            user=request.user,
            report=report,
            seconds=request.POST.get("seconds"),
            text=request.POST.get("text", ""),
            output=request.POST.get("output") or None,
            frame=request.POST.get("frame") or None,
            frame_out=request.POST.get("frame_out") or None,
            drawing=request.POST.get("drawing") or None,
        )
    except FeedbackError as exc:
        if _is_htmx(request):
            return _notes_response(request, report, errors=exc.errors or {"text": str(exc)})
        messages.error(request, " ".join(exc.errors.values()) or str(exc))
        return redirect("beta:feedback-edit", report_id=report.pk)
    if _is_htmx(request):
        return _notes_response(request, report)
    return redirect("beta:feedback-edit", report_id=report.pk)


@partner_required
@require_POST
def feedback_note_delete(request, feedbacknote_id):
    note = get_object_or_404(FeedbackNote.objects.for_user(request.user).select_related("report"), pk=feedbacknote_id)
    report = note.report
    if report.author_id != request.user.pk:
        raise Http404
    try:
        services.feedback_note_delete(user=request.user, note=note)
    except FeedbackError as exc:
        messages.error(request, str(exc))
    if _is_htmx(request):
        return _notes_response(request, report)
    return redirect("beta:feedback-edit", report_id=report.pk)


def _attachments_response(request, report, *, error: str = ""):
    context = {
        "report": report,
        "attachments": selectors.report_attachments(report),
        "attach_error": error,
        "editable": True,
    }
    return render(request, "beta/feedback/_attachments.html", context)


@partner_required
@require_POST
def feedback_attach(request, report_id):
    """After the assets upload finishes (static/js/feedback.js), attach the new asset to the report."""
    report = _own_report(request, report_id)
    asset_id = str(request.POST.get("asset_id", ""))
    asset = Asset.objects.for_user(request.user).filter(pk=int(asset_id)).first() if asset_id.isdigit() else None
    if asset is None:
        return _attachments_response(request, report, error="That file was not found.")
    try:
        services.feedback_attachment_add(user=request.user, report=report, asset=asset)
    except FeedbackError as exc:
        return _attachments_response(request, report, error=str(exc))
    return _attachments_response(request, report)


@partner_required
@require_POST
def feedback_attachment_remove(request, feedbackattachment_id):
    attachment = get_object_or_404(
        FeedbackAttachment.objects.for_user(request.user).select_related("report"), pk=feedbackattachment_id
    )
    report = attachment.report
    if report.author_id != request.user.pk:
        raise Http404
    try:
        services.feedback_attachment_remove(user=request.user, attachment=attachment)
    except FeedbackError as exc:
        messages.error(request, str(exc))
    if _is_htmx(request):
        return _attachments_response(request, report)
    return redirect("beta:feedback-edit", report_id=report.pk)


# --- The partner's list and report page -------------------------------------------------------------------------------
@partner_required
@require_GET
def feedback_list(request):
    page = Paginator(selectors.feedback_for_user(request.user), LIST_PER_PAGE).get_page(request.GET.get("page"))
    for report in page.object_list:
        report.tool_name = _tool_name(report.tool_slug)
    return render(request, "beta/feedback/list.html", {"page": page})


@login_required
@require_GET
def feedback_detail(request, report_id):
    report = _report(request, report_id)
    if request.user.is_studio_staff:
        return _staff_detail(request, report)
    services.feedback_replies_mark_read(user=request.user, report=report)
    context = {
        "report": report,
        "answers": _answers(report),
        "pending_edits": bool(report.draft_content),
        "attachments": selectors.report_attachments(report),
        "replies": selectors.report_replies(report),
        "revisions": selectors.report_revisions(report),
        "is_author": report.author_id == request.user.pk,
        "read_only": cohort_window(report.organization).read_only,
        **_run_context(report),
        **_player_context(request, report),
    }
    return render(request, "beta/feedback/detail.html", context)


# --- Staff ------------------------------------------------------------------------------------------------------------
def _staff_detail(request, report: FeedbackReport, *, triage_form=None, body_errors=None, status=200):
    tags = list(report.tags.order_by("name"))
    if triage_form is None:
        triage_form = TriageForm(
            initial={
                "status": report.status if report.status != FeedbackReport.Status.DRAFT else "new",
                "assignee": report.assignee_id,
                "tags": ", ".join(t.name for t in tags),
            }
        )
    revisions = selectors.report_revisions(report)
    for revision in revisions:
        revision.answers = _answers(report, revision.content)
    context = {
        "report": report,
        "answers": _answers(report),
        "attachments": selectors.report_attachments(report),
        "comments": selectors.report_comments_for_staff(report),
        "revisions": revisions,
        "tags": tags,
        "triage_form": triage_form,
        "body_errors": body_errors or {},
        "inbox_url": reverse("beta:feedback-inbox"),
        **_run_context(report),
        **_player_context(request, report),
    }
    return render(request, "beta/feedback/staff_detail.html", context, status=status)


@staff_required
@require_GET
def feedback_inbox(request):
    filters = selectors.inbox_filters(request.GET)
    reports = selectors.feedback_inbox(user=request.user, params=filters)
    page = Paginator(reports, INBOX_PER_PAGE).get_page(request.GET.get("page"))
    for report in page.object_list:
        report.tool_name = _tool_name(report.tool_slug)
    query = urlencode(filters.given)
    tools = sorted({(t.slug, t.name) for t in catalogue.all_tools()}, key=lambda item: item[1])
    return render(
        request,
        "beta/feedback/inbox.html",
        {
            "page": page,
            "f": filters,
            "query": query,
            "here": request.get_full_path(),
            "tools": tools,
            "versions": sorted({v for _, v in selectors.inbox_versions()}),
            "studios": list(Organization.objects.order_by("name").only("pk", "name")),
            "cohorts": _cohorts(),
            "statuses": [(s.value, s.label) for s in services.TRIAGE_STATUSES],
            "categories": CATEGORY_CHOICES,
            "ratings": range(1, 6),
            "tags": list(FeedbackTag.objects.order_by("name")),
            "staff_people": list(staff_people()),
        },
    )


def _cohorts():
    return list(Cohort.objects.order_by("opens_at", "name").only("pk", "name"))


def _back_to_inbox(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("beta:feedback-inbox")


@staff_required
@require_POST
def feedback_bulk(request):
    form = BulkForm(request.POST)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems))
        return _back_to_inbox(request)
    data = form.cleaned_data
    action = data["action"]
    try:
        count = services.feedback_triage(
            user=request.user,
            reports=data["report"],
            status=data["status"] if action == "status" else None,
            assignee=data["assignee"] if action == "assign" else None,
            unassign=action == "unassign",
            add_tags=tag_names(data["tags"]) if action == "tag" else (),
        )
    except (FeedbackError, PermissionDeniedError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Updated {count} report{'s' if count != 1 else ''}.")
    return _back_to_inbox(request)


@staff_required
@require_POST
def feedback_triage(request, report_id):
    report = _report(request, report_id)
    form = TriageForm(request.POST)
    if not form.is_valid():
        return _staff_detail(request, report, triage_form=form, status=400)
    wanted = set(tag_names(form.cleaned_data["tags"]))
    have = set(report.tags.values_list("name", flat=True))
    try:
        services.feedback_triage(
            user=request.user,
            reports=[report],
            status=form.cleaned_data["status"],
            assignee=form.cleaned_data["assignee"],
            unassign=form.cleaned_data["assignee"] is None,
            add_tags=wanted - have,
            remove_tags=have - wanted,
        )
    except FeedbackError as exc:
        for name, message in exc.errors.items():
            form.add_error(name if name in form.fields else None, message)
        return _staff_detail(request, report, triage_form=form, status=400)
    messages.success(request, "Triage saved.")
    return redirect("beta:feedback-detail", report_id=report.pk)


@staff_required
@require_POST
def feedback_comment(request, report_id):
    """A reply to the studio (emailed) or an internal comment, by the button pressed."""
    report = _report(request, report_id)
    kind = "reply" if request.POST.get("kind") == "reply" else "internal"  # only the reply form sends to the studio
    body = request.POST.get("body", "")
    try:
        if kind == "reply":
            services.feedback_reply(user=request.user, report=report, body=body)
            message = "Reply sent: the studio sees it on the report and by email."
        else:
            services.feedback_comment_add(user=request.user, report=report, body=body)
            message = "Internal comment added (staff only)."
    except FeedbackError as exc:
        return _staff_detail(
            request, report, body_errors={kind: exc.errors.get("body", str(exc))}, status=400
        )
    messages.success(request, message)
    return redirect(reverse("beta:feedback-detail", args=[report.pk]) + "#conversation")
