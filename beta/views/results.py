"""Staff pages of the May results: the dashboard, its exports, quotes for the report, and the report itself.

Every view here is staff-only (`staff_required`: anyone else gets a 404). Exports and report downloads are audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from assets.storage import content_disposition, get_store
from beta.errors import ResultsReportError
from beta.models import FeedbackReport, ResultsExport, ResultsReport
from beta.results import cache as results_cache
from beta.results import charts, exports, selectors, services
from portal.decorators import staff_required
from portal.models import AuditEvent
from portal.services.audit import audit_record
from portal.tdm import mark_not_for_training, not_for_training

RECENT_REPORTS = 5


def _export_links(filters: selectors.Filters) -> list[dict]:
    base = reverse("beta:results-export")
    query = filters.query()
    links = []
    for dataset, label in exports.DATASETS.items():
        links.append({
            "label": label,
            "csv": f"{base}?dataset={dataset}&format=csv" + (f"&{query}" if query else ""),
            "csv_excel": f"{base}?dataset={dataset}&format=csv-excel" + (f"&{query}" if query else ""),
            "xlsx": f"{base}?dataset={dataset}&format=xlsx" + (f"&{query}" if query else ""),
        })
    return links


def _quotes_context(request, filters: selectors.Filters, labels: dict | None = None) -> dict:
    labels = labels if labels is not None else selectors.studio_labels(anonymise=filters.anonymise)
    return {"quotes": selectors.quotes(filters, labels), "filters": filters, "query": filters.query()}


def _numbers(filters: selectors.Filters, data: dict, period: str) -> str:
    """The page's numbers, tables and SVG charts as HTML: drawn only from the data and the filters, so cached for
    that computation of the data (a cached page then renders only its live parts: quotes, reports, the filter form)."""
    return render_to_string("beta/results_dashboard/_numbers.html", {
        "filters": filters, "data": data, "total": data["total"],
        "charts": charts.dashboard_charts(data, prefix="dash", period=period),
    })


@staff_required
@require_GET
def dashboard(request):
    filters = selectors.Filters.from_params(request.GET)
    period = selectors.period_text(filters.date_from, filters.date_to)
    data = selectors.dashboard(filters, cached=True)
    data["total"].links = {
        f"overall_{v}": selectors.inbox_url(filters, rating=v) for v in selectors.RATINGS
    }
    context = {
        "filters": filters,
        "data": data,
        "period": period,
        "numbers": results_cache.cached("numbers", filters, lambda: _numbers(filters, data, period),
                                        version=data["computed_at"].isoformat()),
        "choices": selectors.filter_choices(filters),
        "exports": _export_links(filters),
        "query": filters.query(),
        "names_query": filters.query(anonymise=not filters.anonymise),
        "reports": list(ResultsReport.objects.select_related("requested_by")[:RECENT_REPORTS]),
        "inbox_url": selectors.inbox_url(filters),
        **_quotes_context(request, filters, data["labels"]),
    }
    return render(request, "beta/results_dashboard/dashboard.html", context)


@staff_required
@require_POST
def quote_toggle(request):
    """Choose or drop a report's quote for the results report (htmx swaps the quotes list; plain POST redirects)."""
    report_id = request.POST.get("report", "")
    if not report_id.isdigit() or not FeedbackReport.objects.submitted().filter(pk=int(report_id)).exists():
        raise Http404
    services.feedback_quote_set(
        actor=request.user, report_id=int(report_id), selected=request.POST.get("selected") == "1",
        quote=request.POST.get("quote", ""),
    )
    filters = selectors.Filters.from_params(request.POST)
    if request.headers.get("HX-Request"):
        return render(request, "beta/results_dashboard/_quotes.html", _quotes_context(request, filters))
    messages.success(request, "Quotes for the report updated.")
    query = filters.query()
    return redirect(reverse("beta:results-dashboard") + (f"?{query}" if query else "") + "#quotes")


@staff_required
@require_GET
@not_for_training
def export(request):
    dataset, fmt = request.GET.get("dataset", ""), request.GET.get("format", "csv")
    if dataset not in exports.DATASETS or fmt not in exports.FORMATS:
        return HttpResponseBadRequest("Unknown export: choose a dataset and csv, csv-excel or xlsx.")
    params = request.GET.copy()
    filename = exports.filename_for(dataset, fmt, params)
    rows = exports.builds_in_worker(dataset, user=request.user, params=params) if fmt == "xlsx" else None
    built = None if rows is not None else exports.build_export(dataset, user=request.user, params=params)
    audit_record(
        action=AuditEvent.Action.DATA_EXPORTED, request=request,
        detail={"dataset": dataset, "format": fmt, "filters": {k: v for k, v in params.items()
                                                                if k not in ("dataset", "format")}},
    )
    if rows is not None:  # too large to build while the browser waits: a worker builds it, its page follows
        job = services.results_export_request(
            actor=request.user, dataset=dataset, filename=filename, rows=rows,
            params={k: v for k, v in params.items() if k != "format"},
        )
        return redirect("beta:results-export-detail", resultsexport_id=job.pk)
    if fmt in ("csv", "csv-excel"):
        return exports.csv_response(built, filename, bom=fmt == "csv-excel")
    return exports.xlsx_response(built, filename)


@staff_required
@require_POST
def report_create(request):
    filters = selectors.Filters.from_params(request.POST)
    report = services.results_report_request(
        actor=request.user, filters=filters, title=request.POST.get("title", ""),
        show_names=request.POST.get("show_names") == "1",
    )
    messages.success(request, "Check the period and write the recommendations, then build the report.")
    return redirect("beta:results-report", resultsreport_id=report.pk)


def _report(resultsreport_id) -> ResultsReport:
    return get_object_or_404(ResultsReport.objects.select_related("requested_by"), pk=resultsreport_id)


def _report_page(request, report: ResultsReport, *, form_values: dict | None = None, error: str = "", status=200):
    back = reverse("beta:results-dashboard")
    filters = selectors.Filters.from_params(report.options)
    query = filters.query()
    window = selectors.cohort_window(filters.cohort_id)
    return render(request, "beta/results_dashboard/report_detail.html", {
        "report": report, "back_url": f"{back}?{query}" if query else back,
        "reports": list(ResultsReport.objects.select_related("requested_by")[:20]),
        "period": selectors.period_text(report.period_start, report.period_end),
        "cohort_window": selectors.period_text(*window) if any(window) else "",
        "values": form_values or {
            "title": report.title, "recommendations": report.recommendations,
            "period_start": report.period_start.isoformat() if report.period_start else "",
            "period_end": report.period_end.isoformat() if report.period_end else "",
        },
        "error": error,
    }, status=status)


@staff_required
@require_GET
def report_detail(request, resultsreport_id):
    return _report_page(request, _report(resultsreport_id))


@staff_required
@require_POST
def report_update(request, resultsreport_id):
    """Save a draft's title, period and recommendations; with `action=build`, then ask a worker to build it."""
    report = _report(resultsreport_id)
    values = {key: request.POST.get(key, "") for key in ("title", "period_start", "period_end", "recommendations")}
    dates = {key: selectors.parse_date(values[key]) for key in ("period_start", "period_end")}
    try:
        for key, parsed in dates.items():
            if values[key] and parsed is None:
                raise ResultsReportError("Enter the period's dates as YYYY-MM-DD.")
        services.results_report_update(
            actor=request.user, report_id=report.pk, title=values["title"], period_start=dates["period_start"],
            period_end=dates["period_end"], recommendations=values["recommendations"],
        )
    except ResultsReportError as exc:
        return _report_page(request, report, form_values=values, error=str(exc), status=400)
    if request.POST.get("action") == "build":
        services.results_report_submit(actor=request.user, report_id=report.pk)
        messages.success(request, "Build requested: the status card below follows the worker.")
    else:
        messages.success(request, "Draft saved.")
    return redirect("beta:results-report", resultsreport_id=report.pk)


@staff_required
@require_GET
def report_live(request, resultsreport_id):
    return render(request, "beta/results_dashboard/_report_live.html", {"report": _report(resultsreport_id)})


def _download(request, report: ResultsReport, key: str, filename: str, content_type: str):
    if report.status != ResultsReport.Status.SUCCEEDED or not key:
        raise Http404
    store = get_store()
    url = store.download_url(key, filename=filename, content_type=content_type)
    if url:  # S3: a short-lived presigned link
        response = redirect(url)
    else:
        try:
            stream = store.open(key)
        except OSError as exc:  # the row outlived its file (storage wiped, or a restore without media)
            raise Http404 from exc
        response = FileResponse(stream, content_type=content_type)
        response["Content-Disposition"] = content_disposition("attachment", filename)
    mark_not_for_training(response)
    audit_record(
        action=AuditEvent.Action.DATA_EXPORTED, request=request, target=report,
        detail={"dataset": "results-report", "format": filename.rsplit(".", 1)[-1], "anonymise": report.anonymise},
    )
    return response


@staff_required
@require_GET
def report_pdf(request, resultsreport_id):
    report = _report(resultsreport_id)
    return _download(request, report, report.pdf_key, f"greenlight-results-{report.pk}.pdf", "application/pdf")


@staff_required
@require_GET
def report_html(request, resultsreport_id):
    report = _report(resultsreport_id)
    return _download(request, report, report.html_key, f"greenlight-results-{report.pk}.html", "text/html")


def _export(resultsexport_id) -> ResultsExport:
    return get_object_or_404(ResultsExport.objects.select_related("requested_by"), pk=resultsexport_id)


@staff_required
@require_GET
def export_detail(request, resultsexport_id):
    export_job = _export(resultsexport_id)
    back = reverse("beta:results-dashboard")
    query = selectors.Filters.from_params(export_job.params).query()
    return render(request, "beta/results_dashboard/export_detail.html", {
        "export": export_job, "label": exports.DATASETS.get(export_job.dataset, export_job.dataset),
        "back_url": f"{back}?{query}" if query else back,
    })


@staff_required
@require_GET
def export_live(request, resultsexport_id):
    return render(request, "beta/results_dashboard/_export_status.html", {"export": _export(resultsexport_id)})


@staff_required
@require_GET
def export_download(request, resultsexport_id):
    export_job = _export(resultsexport_id)
    if export_job.status != ResultsExport.Status.SUCCEEDED or not export_job.file_key:
        raise Http404
    store = get_store()
    url = store.download_url(export_job.file_key, filename=export_job.filename, content_type=exports.FORMATS["xlsx"])
    if url:
        response = redirect(url)
    else:
        try:
            stream = store.open(export_job.file_key)
        except OSError as exc:
            raise Http404 from exc
        response = FileResponse(stream, content_type=exports.FORMATS["xlsx"])
        response["Content-Disposition"] = content_disposition("attachment", export_job.filename)
        response["Cache-Control"] = "no-store"
    audit_record(
        action=AuditEvent.Action.DATA_EXPORTED, request=request, target=export_job,
        detail={"dataset": export_job.dataset, "format": "xlsx", "built_by": "worker"},
    )
    return response
