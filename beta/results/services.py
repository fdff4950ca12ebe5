"""Writes of the results area: staff's choice of quotes for the report, and asking a worker for a report."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from beta.models import FeedbackReport, ResultsReport
from beta.results.selectors import Filters
from portal.errors import PermissionDeniedError
from portal.models import User

QUOTE_MAX = 600


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
    """Ask a worker to build the results report (HTML and PDF) for these filters.

    Reports are anonymised (Studio A, B, ...) unless a programme admin chooses to show studio names."""
    if actor is None or not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff build results reports.")
    anonymise = not (show_names and actor.is_programme_admin)
    with transaction.atomic():
        report = ResultsReport.objects.create(
            title=(title or "").strip()[:200] or ResultsReport._meta.get_field("title").default,
            requested_by=actor,
            options=filters.as_params(anonymise=anonymise),
            anonymise=anonymise,
            stage="Waiting for a worker",
        )
        transaction.on_commit(lambda: _enqueue(report.pk))
    return report


def _enqueue(report_id: int) -> None:
    from beta.results.tasks import build_results_report

    build_results_report.apply_async(args=(report_id,), queue="default")


def results_report_progress(report_id: int, progress: int, stage: str) -> None:
    ResultsReport.objects.filter(pk=report_id).update(progress=progress, stage=stage[:200], updated_at=timezone.now())
