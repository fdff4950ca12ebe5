"""The May results report: a worker renders the dashboard's numbers and charts, staff's chosen quotes, and the
method into one HTML page, prints it to PDF with WeasyPrint, and stores both under a staff-only key prefix.

Progress and stage are written on the `ResultsReport` row as it goes; the report page polls them.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from assets.storage import get_store
from beta.models import ResultsReport
from beta.results import charts
from beta.results.narrative import executive_summary
from beta.results.selectors import Filters, dashboard, period_text, quotes
from beta.results.services import results_report_progress

logger = logging.getLogger(__name__)
for _noisy in ("weasyprint", "fontTools"):  # their INFO lines are one per layout step and font subset
    logging.getLogger(_noisy).setLevel(logging.WARNING)

#: Reports are the programme's, not a studio's: never under a studio's `orgs/` prefix.
REPORT_PREFIX = "staff/results-reports/"


def report_prefix(report: ResultsReport) -> str:
    return f"{REPORT_PREFIX}{report.pk}-{secrets.token_hex(8)}/"


def _font_faces() -> list[dict]:
    """Source Sans Pro from its PyPI package, so the PDF looks the same on any machine (no system fonts needed)."""
    try:
        import font_source_sans_pro
    except ImportError:  # pragma: no cover - it is a pinned requirement
        return []
    files = Path(font_source_sans_pro.font_directory)
    faces = [("Regular", 400, "normal"), ("Semibold", 600, "normal"), ("Bold", 700, "normal"), ("It", 400, "italic")]
    return [
        {"url": (files / f"SourceSansPro-{name}.ttf").as_uri(), "weight": weight, "style": style}
        for name, weight, style in faces
        if (files / f"SourceSansPro-{name}.ttf").exists()
    ]


def scope_text(filters: Filters) -> str:
    """The selection in words, for the cover."""
    from portal.models import Cohort

    parts = []
    if filters.cohort_id:
        parts.append(f"Cohort: {Cohort.objects.filter(pk=filters.cohort_id).values_list('name', flat=True).first()}")
    if filters.tool:
        parts.append(f"Tool: {filters.tool}{' ' + filters.version if filters.version else ''}")
    elif filters.version:
        parts.append(f"Version: {filters.version}")
    return " · ".join(parts) or "Every cohort and tool of the beta."


def _drop_links(data: dict) -> None:
    """The report is read away from the portal: its numbers and charts do not link to the inbox."""
    for key in ("tools", "cohorts", "studios", "weeks"):
        for row in data[key]:
            row.link, row.links = "", {}
            for category in row.categories:
                category["link"] = ""
    data["total"].link = ""
    for category in data["categories"]:
        category["link"] = ""


def report_filters(report: ResultsReport) -> Filters:
    """The dashboard's filters saved with the report, with the report's period as their dates."""
    params = {**report.options, "anonymise": "1" if report.anonymise else ""}
    params["date_from"] = report.period_start.isoformat() if report.period_start else ""
    params["date_to"] = report.period_end.isoformat() if report.period_end else ""
    return Filters.from_params(params)


def recommendation_blocks(text: str) -> list[dict]:
    """Staff's recommendations as paragraphs and bulleted lists: a blank line starts a paragraph, a line starting
    with "- " or "* " is a bullet. Plain text only (the template escapes it)."""
    blocks: list[dict] = []
    for chunk in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        bullets = [line[2:].strip() for line in lines if line[:2] in ("- ", "* ")]
        if lines and len(bullets) == len(lines):
            blocks.append({"list": bullets})
        elif lines:
            blocks.append({"text": " ".join(lines)})
    return blocks


def report_context(report: ResultsReport) -> dict:
    """Everything the report template needs, from the report's options (the dashboard's filters) and period."""
    filters = report_filters(report)
    data = dashboard(filters)
    _drop_links(data)
    period = period_text(filters.date_from, filters.date_to)
    chosen = quotes(filters, data["labels"])["chosen"]
    tools = [{"row": row, "charts": charts.tool_charts(row, f"tool-{i}", period=period)}
             for i, row in enumerate(data["tools"])]
    return {
        "report": report,
        "filters": filters,
        "period": period,
        "scope_text": scope_text(filters),
        "comparison_votes": sum(c.n for c in data["comparisons"]),
        "data": data,
        "summary": executive_summary(data),
        "recommendations": recommendation_blocks(report.recommendations),
        "charts": charts.dashboard_charts(data, prefix="report", period=period),
        "tool_sections": tools,
        "quotes": chosen,
        "generated_at": timezone.now(),
        "font_faces": _font_faces(),
        "for_pdf": True,
    }


def render_report_html(report: ResultsReport) -> str:
    return render_to_string("beta/results_dashboard/report.html", report_context(report))


def _claim(report_id: int) -> ResultsReport | None:
    with transaction.atomic():
        report = ResultsReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status not in (ResultsReport.Status.QUEUED, ResultsReport.Status.RUNNING):
            return None
        report.status = ResultsReport.Status.RUNNING
        report.started_at = report.started_at or timezone.now()
        report.progress, report.stage, report.error = 5, "Collecting the numbers", ""
        report.save(update_fields=["status", "started_at", "progress", "stage", "error", "updated_at"])
    return report


def results_report_build(*, report_id: int) -> str:
    """Build one report: numbers → charts → HTML → PDF → storage. A missing or finished report is a no-op."""
    report = _claim(report_id)
    if report is None:
        return "skipped"
    try:
        html = render_report_html(report)
        results_report_progress(report.pk, 45, "Printing the PDF")
        import weasyprint

        store = get_store()
        prefix = report_prefix(report)
        with tempfile.TemporaryDirectory(prefix="gl-report-") as tmp:
            html_path, pdf_path = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
            html_path.write_text(html, encoding="utf-8")
            weasyprint.HTML(string=html, base_url=tmp).write_pdf(pdf_path)
            results_report_progress(report.pk, 85, "Storing the HTML and the PDF")
            store.put_file(html_path, f"{prefix}report.html", "text/html; charset=utf-8")
            store.put_file(pdf_path, f"{prefix}report.pdf", "application/pdf")
    except Exception as exc:
        logger.exception("results report %s failed", report_id)
        ResultsReport.objects.filter(pk=report_id).update(
            status=ResultsReport.Status.FAILED, error=f"The report could not be built: {exc}"[:2000],
            stage="Failed", finished_at=timezone.now(), updated_at=timezone.now(),
        )
        return "failed"
    ResultsReport.objects.filter(pk=report_id).update(
        status=ResultsReport.Status.SUCCEEDED, progress=100, stage="Ready", html_key=f"{prefix}report.html",
        pdf_key=f"{prefix}report.pdf", finished_at=timezone.now(), updated_at=timezone.now(),
    )
    return "succeeded"
