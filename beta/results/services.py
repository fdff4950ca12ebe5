"""Writes of the results area: staff's choice of quotes for the report, and asking a worker for a report."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from beta.errors import ResultsReportError
from beta.models import FeedbackReport, ResultsExport, ResultsReport
from beta.results.selectors import Filters, default_period
from portal.errors import PermissionDeniedError
from portal.models import User

QUOTE_MAX = 600
RECOMMENDATIONS_MAX = 8000


@transaction.atomic
def feedback_quote_set(*, actor: User, report_id: int, selected: bool, quote: str = "") -> FeedbackReport:
    """Choose (or drop) a report's words as a notable quote for the results report. Staff only.

    The quote defaults to the report's free text; staff may shorten it to the sentence that matters."""
    if actor is None or not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff choose quotes.")
    report = FeedbackReport.objects.select_for_update().submitted().get(pk=report_id)
    report.quote_selected = selected
    if selected:
        report.quote = (quote.strip() or report.quote or report.text).strip()[:QUOTE_MAX]
    report.save(update_fields=["quote_selected", "quote", "updated_at"])
    return report


def results_report_request(
    *, actor: User, filters: Filters, title: str = "", show_names: bool = False
) -> ResultsReport:
    """Start a results report for these filters, as a draft: staff then check its period and write the
    recommendations on the report's page, and ask a worker to build it (`results_report_submit`).

    The period defaults to the filters' dates, else the cohort windows (earliest opening to latest closing of the
    selected cohort, or of every cohort). Reports are anonymised (Studio A, B, ...) unless a programme admin chooses
    to show studio names."""
    if actor is None or not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff build results reports.")
    anonymise = not (show_names and actor.is_programme_admin)
    start, end = default_period(filters)
    return ResultsReport.objects.create(
        title=(title or "").strip()[:200] or ResultsReport._meta.get_field("title").default,
        requested_by=actor,
        options=filters.as_params(anonymise=anonymise),
        anonymise=anonymise,
        status=ResultsReport.Status.DRAFT,
        period_start=start,
        period_end=end,
        stage="Draft: check the period and write the recommendations, then build",
    )


def results_report_update(
    *, actor: User, report_id: int, title: str, period_start: date | None, period_end: date | None,
    recommendations: str,
) -> ResultsReport:
    """Change a draft's title, period and recommendations. A report already sent to a worker is not changed."""
    if actor is None or not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff edit results reports.")
    if period_start and period_end and period_end < period_start:
        raise ResultsReportError("The period must end on or after the day it starts.")
    with transaction.atomic():
        report = ResultsReport.objects.select_for_update().get(pk=report_id)
        if not report.is_draft:
            raise ResultsReportError("This report has already been built; start a new one from the results page.")
        report.title = (title or "").strip()[:200] or report.title
        report.period_start, report.period_end = period_start, period_end
        report.recommendations = (recommendations or "").strip()[:RECOMMENDATIONS_MAX]
        report.save(update_fields=["title", "period_start", "period_end", "recommendations", "updated_at"])
    return report


def results_report_submit(*, actor: User, report_id: int) -> ResultsReport:
    """Ask a worker to build a draft (HTML and PDF); enqueued after commit. Submitting twice queues it once."""
    if actor is None or not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff build results reports.")
    with transaction.atomic():
        report = ResultsReport.objects.select_for_update().get(pk=report_id)
        if not report.is_draft:
            return report
        report.status, report.stage, report.progress = ResultsReport.Status.QUEUED, "Waiting for a worker", 0
        report.save(update_fields=["status", "stage", "progress", "updated_at"])
        transaction.on_commit(lambda: _enqueue(report.pk))
    return report


def _enqueue(report_id: int) -> None:
    from beta.results.tasks import build_results_report

    build_results_report.apply_async(args=(report_id,), queue="default")


def results_report_progress(report_id: int, progress: int, stage: str) -> None:
    ResultsReport.objects.filter(pk=report_id).update(progress=progress, stage=stage[:200], updated_at=timezone.now())


def results_export_request(*, actor: User, dataset: str, params: dict, filename: str, rows: int) -> ResultsExport:
    """Ask a worker to build a large XLSX export (above RESULTS_XLSX_WORKER_ROWS rows); enqueued after commit."""
    if actor is None or not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff export results.")
    with transaction.atomic():
        export = ResultsExport.objects.create(
            requested_by=actor, dataset=dataset, params=params, filename=filename[:200], rows_expected=rows,
            stage="Waiting for a worker",
        )
        transaction.on_commit(lambda: _enqueue_export(export.pk))
    return export


def _enqueue_export(export_id: int) -> None:
    from beta.results.tasks import build_results_export

    build_results_export.apply_async(args=(export_id,), queue="default")
