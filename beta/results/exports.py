"""Exports of feedback, jobs, survey answers and comparison votes, as CSV and XLSX, streamed with flat memory.

Rows are read with `.iterator(chunk_size=...)` over `values_list` (no model instances); many-valued columns
(categories, tags) are filled one batch of rows at a time. CSV is written row by row into a
`StreamingHttpResponse`. XLSX is a zip, so it cannot go out before it is finished: xlsxwriter writes it in
`constant_memory` mode (each row flushed to a temporary file as it is written) and the finished file is streamed
from disk with a `FileResponse`; it is deleted as soon as it is opened.

The feedback export uses the inbox's own filters (`beta.feedback.selectors.feedback_inbox`), so an export from the
inbox has exactly the page's rows. `anonymise=1` replaces studio names with "Studio A", "B"... and leaves out
people's email addresses. Internal comments are never exported.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from beta.models import FeedbackCategory, FeedbackReport, Question
from beta.results.selectors import Filters, studio_labels
from portal.models import Cohort

CHUNK = 2000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "csv-excel": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_FIRST = frozenset("=+-@\t\r")
#: Excel opens a CSV as UTF-8 only when it starts with a byte-order mark (else accents and CJK text are garbled).
BOM = "\ufeff"


@dataclass
class Export:
    dataset: str
    header: list[str]
    rows: Iterable[list]


def cell(value, *, defuse: bool = True):
    """One value as both formats write it: numbers stay numbers, datetimes are UTC. In CSV (`defuse`), text that a
    spreadsheet would run as a formula is defused with a leading apostrophe (partners write the free text); XLSX
    writes text as a string cell, which no spreadsheet evaluates, so it keeps the text as written. Called once per
    cell of 100,000-row exports, so the common types are tested first."""
    kind = type(value)
    if kind is str:
        return "'" + value if defuse and value[:1] in FORMULA_FIRST else value
    if kind is int or kind is float:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    if kind is Decimal:
        return float(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if timezone.is_aware(value) else value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if defuse and text[:1] in FORMULA_FIRST else text


def _batched(iterator: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(iterator, size)):
        yield batch


# --- Datasets ---------------------------------------------------------------------------------------------------------
FEEDBACK_HEADER = [
    "report_id", "submitted_at_utc", "studio", "cohort", "tool", "tool_version", "job_id", "author", "status",
    "overall_rating", "quality_rating", "usefulness_rating", "production_fit", "hours_saved", "issue_categories",
    "tags", "assignee", "timecoded_notes", "replies", "revision", "quote_selected", "quote", "text", "parameters",
]  # fmt: skip


def _feedback_queryset(*, user, params):
    from beta.feedback.selectors import feedback_inbox

    return feedback_inbox(user=user, params=params).prefetch_related(None)


def feedback_rows(*, user, params, anonymise: bool) -> Iterator[list]:
    labels = studio_labels(anonymise=anonymise)
    reports = (
        _feedback_queryset(user=user, params=params)
        .values_list(
            "id", "submitted_at", "organization_id", "organization__cohort__name", "tool_slug", "tool_version",
            "job_id", "author__email", "status", "overall_rating", "quality_rating", "usefulness_rating",
            "production_fit", "hours_saved", "assignee__email", "note_count", "reply_count", "revision",
            "quote_selected", "quote", "text", "parameters",
        )
    )  # fmt: skip
    tag_links = FeedbackReport.tags.through.objects
    for batch in _batched(reports.iterator(chunk_size=CHUNK), CHUNK):
        ids = [row[0] for row in batch]
        categories: dict[int, list[str]] = {}
        for report_id, category in FeedbackCategory.objects.filter(report_id__in=ids).values_list(
            "report_id", "category"
        ).order_by("report_id", "category"):
            categories.setdefault(report_id, []).append(category)
        tags: dict[int, list[str]] = {}
        for report_id, name in tag_links.filter(feedbackreport_id__in=ids).values_list(
            "feedbackreport_id", "feedbacktag__name"
        ).order_by("feedbackreport_id", "feedbacktag__name"):
            tags.setdefault(report_id, []).append(name)
        for (pk, submitted, org, cohort, tool, version, job, author, status, overall, quality, usefulness, fit,
             hours, assignee, notes, replies, revision, quote_selected, quote, text, parameters) in batch:
            yield [
                pk, submitted, labels.get(org, ""), cohort, tool, version, job, "" if anonymise else author, status,
                overall, quality, usefulness, fit, hours, "; ".join(categories.get(pk, [])),
                "; ".join(tags.get(pk, [])), assignee, notes, replies, revision, quote_selected, quote, text,
                parameters,
            ]  # fmt: skip


JOBS_HEADER = [
    "job_id", "queued_at_utc", "started_at_utc", "finished_at_utc", "run_seconds", "studio", "cohort", "tool",
    "tool_version", "status", "attempts", "compute_seconds", "submitted_by", "error",
]  # fmt: skip


def _jobs_queryset(*, filters: Filters, params):
    from beta.models import Job

    jobs = filters.jobs(Job.objects.all())
    if params.get("status") in Job.Status.values:
        jobs = jobs.filter(status=params["status"])
    if str(params.get("studio", "")).isdigit():
        jobs = jobs.filter(organization_id=int(params["studio"]))
    return jobs


def job_rows(*, filters: Filters, params) -> Iterator[list]:
    labels = studio_labels(anonymise=filters.anonymise)
    jobs = _jobs_queryset(filters=filters, params=params)
    rows = jobs.order_by("-queued_at", "-id").values_list(
        "id", "queued_at", "started_at", "finished_at", "organization_id", "organization__cohort__name", "tool_slug",
        "tool_version", "status", "attempts", "compute_seconds", "submitted_by__email", "error",
    )  # fmt: skip
    for pk, queued, started, finished, org, cohort, tool, version, status, attempts, compute, by, error in (
        rows.iterator(chunk_size=CHUNK)
    ):
        seconds = round((finished - started).total_seconds(), 3) if started and finished else None
        yield [pk, queued, started, finished, seconds, labels.get(org, ""), cohort, tool, version, status, attempts,
               compute, "" if filters.anonymise else by, error]


SURVEY_HEADER = [
    "response_id", "survey", "submitted_at_utc", "studio", "cohort", "respondent", "question_position",
    "question_kind", "question", "answer", "number",
]  # fmt: skip


def _answers_queryset(*, filters: Filters, params):
    answers = filters.answers()
    if str(params.get("survey", "")).isdigit():
        answers = answers.filter(question__survey_id=int(params["survey"]))
    return answers


def survey_rows(*, filters: Filters, params) -> Iterator[list]:
    labels = studio_labels(anonymise=filters.anonymise)
    answers = _answers_queryset(filters=filters, params=params)
    rows = answers.order_by("response__survey_id", "response_id", "question__position", "question_id").values_list(
        "response_id", "question__survey__title", "response__submitted_at", "response__organization_id",
        "response__organization__cohort__name", "response__respondent__email", "question__position",
        "question__kind", "question__prompt", "value", "number",
    )  # fmt: skip
    for rid, survey, submitted, org, cohort, email, position, kind, prompt, value, number in rows.iterator(
        chunk_size=CHUNK
    ):
        if isinstance(value, list):
            answer = "; ".join(str(v) for v in value)
        elif kind in (Question.Kind.NPS, Question.Kind.RATING) and number is not None:
            answer = number
        else:
            answer = "" if value is None else str(value)
        yield [rid, survey, submitted, labels.get(org, ""), cohort, "" if filters.anonymise else email, position,
               kind, prompt, answer, number]


COMPARISON_HEADER = [
    "comparison_id", "title", "studio", "cohort", "label_a", "tool_a", "version_a", "label_b", "tool_b", "version_b",
    "voter", "order_shown", "choice", "preferred", "reason", "voted_at_utc",
]  # fmt: skip


def comparison_rows(*, filters: Filters, params) -> Iterator[list]:
    labels = studio_labels(anonymise=filters.anonymise)
    rows = filters.votes().order_by("comparison_id", "id").values_list(
        "comparison_id", "comparison__title", "comparison__organization_id", "comparison__organization__cohort__name",
        "comparison__label_a", "comparison__output_a__job__tool_slug", "comparison__output_a__job__tool_version",
        "comparison__label_b", "comparison__output_b__job__tool_slug", "comparison__output_b__job__tool_version",
        "voter__email", "order", "choice", "reason", "voted_at",
    )  # fmt: skip
    for (cid, title, org, cohort, label_a, tool_a, version_a, label_b, tool_b, version_b, email, order, choice,
         reason, voted) in rows.iterator(chunk_size=CHUNK):
        preferred = {"a": label_a, "b": label_b}.get(choice, "same")
        yield [cid, title, labels.get(org, ""), cohort, label_a, tool_a, version_a, label_b, tool_b, version_b,
               "" if filters.anonymise else email, order, choice, preferred, reason, voted]


DATASETS = {
    "feedback": "Feedback reports",
    "jobs": "Jobs",
    "survey-responses": "Survey answers",
    "comparisons": "Comparison votes",
}


def build_export(dataset: str, *, user, params) -> Export:
    """The header and a lazy iterator of rows of one dataset, filtered by `params` (a dict or QueryDict)."""
    filters = Filters.from_params(params)
    if dataset == "feedback":
        return Export(dataset, FEEDBACK_HEADER, feedback_rows(user=user, params=params, anonymise=filters.anonymise))
    if dataset == "jobs":
        return Export(dataset, JOBS_HEADER, job_rows(filters=filters, params=params))
    if dataset == "survey-responses":
        return Export(dataset, SURVEY_HEADER, survey_rows(filters=filters, params=params))
    if dataset == "comparisons":
        return Export(dataset, COMPARISON_HEADER, comparison_rows(filters=filters, params=params))
    raise KeyError(dataset)


def count_rows(dataset: str, *, user, params) -> int:
    """How many rows an export of this dataset would have (one COUNT query), to choose where an XLSX is built."""
    filters = Filters.from_params(params)
    querysets = {
        "feedback": lambda: _feedback_queryset(user=user, params=params),
        "jobs": lambda: _jobs_queryset(filters=filters, params=params),
        "survey-responses": lambda: _answers_queryset(filters=filters, params=params),
        "comparisons": filters.votes,
    }
    return querysets[dataset]().order_by().count()


def builds_in_worker(dataset: str, *, user, params) -> int | None:
    """The row count when an XLSX export is above RESULTS_XLSX_WORKER_ROWS (a worker builds it), else None."""
    from django.conf import settings

    rows = count_rows(dataset, user=user, params=params)
    return rows if rows > settings.RESULTS_XLSX_WORKER_ROWS else None


def filename_for(dataset: str, fmt: str, params) -> str:
    cohort = ""
    filters = Filters.from_params(params)
    if filters.cohort_id:
        name = Cohort.objects.filter(pk=filters.cohort_id).values_list("name", flat=True).first() or ""
        cohort = "-" + "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    if fmt == "csv-excel":
        return f"greenlight-{dataset}{cohort}-{timezone.localdate():%Y%m%d}-excel.csv"
    return f"greenlight-{dataset}{cohort}-{timezone.localdate():%Y%m%d}.{fmt}"


# --- Writers ----------------------------------------------------------------------------------------------------------
class _Line:
    """A file-like object whose write() hands back what it was given, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value):
    value = cell(value)
    return value.isoformat(sep=" ") if type(value) is datetime else value


def csv_lines(export: Export, *, bom: bool = False) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield (BOM if bom else "") + writer.writerow(export.header)
    for row in export.rows:
        yield writer.writerow(list(map(_csv_value, row)))


def csv_response(export: Export, filename: str, *, bom: bool = False) -> StreamingHttpResponse:
    """Streamed row by row; `bom` (the "for Excel" variant) starts it with a UTF-8 byte-order mark."""
    from assets.storage import content_disposition

    response = StreamingHttpResponse(csv_lines(export, bom=bom), content_type=FORMATS["csv"])
    response["Content-Disposition"] = content_disposition("attachment", filename)
    response["Cache-Control"] = "no-store"
    return response


def write_xlsx(export: Export, path: str, progress: Callable[[int], None] | None = None) -> int:
    """Write the export to an XLSX file in constant memory; returns the number of data rows. Text goes in with
    `write_string`, so "=1+1" is a string cell (never a formula) and needs no apostrophe. `progress` is called with
    the rows written so far every CHUNK rows."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "tmpdir": os.path.dirname(path),
    })  # fmt: skip
    sheet = workbook.add_worksheet(DATASETS.get(export.dataset, "Export")[:31])
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, export.header, bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(export.rows, start=1):
        for col, raw in enumerate(row):
            value = cell(raw, defuse=False)
            if isinstance(value, datetime):
                sheet.write_datetime(count, col, value, when)
            elif isinstance(value, (int, float)):
                sheet.write_number(count, col, value)
            elif value != "":
                sheet.write_string(count, col, value)
        if progress is not None and count % CHUNK == 0:
            progress(count)
    workbook.close()
    return count


def xlsx_response(export: Export, filename: str) -> FileResponse:
    """Build the workbook in a temporary file (constant memory), then stream it from disk."""
    handle = tempfile.NamedTemporaryFile(prefix="gl-export-", suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    try:
        write_xlsx(export, handle.name)
        stream = open(handle.name, "rb")  # noqa: SIM115 - FileResponse closes it when the response is done
    finally:
        os.unlink(handle.name)  # the open handle keeps the bytes until the response closes it
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=FORMATS["xlsx"])


# --- Large XLSX exports, built by a worker ----------------------------------------------------------------------------
#: Like the reports: the programme's files, never under a studio's `orgs/` prefix.
EXPORT_PREFIX = "staff/results-exports/"


def _claim_export(export_id: int):
    from django.db import transaction

    from beta.models import ResultsExport

    with transaction.atomic():
        export = ResultsExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status not in (ResultsExport.Status.QUEUED, ResultsExport.Status.RUNNING):
            return None
        export.status = ResultsExport.Status.RUNNING
        export.started_at = export.started_at or timezone.now()
        export.progress, export.stage, export.error = 2, "Reading the rows", ""
        export.save(update_fields=["status", "started_at", "progress", "stage", "error", "updated_at"])
    return export


def results_export_build(*, export_id: int) -> str:
    """Build one large XLSX export: rows → workbook (constant memory, progress every CHUNK rows) → storage. A
    missing or finished export is a no-op."""
    import secrets
    from pathlib import Path

    from assets.storage import get_store
    from beta.models import ResultsExport

    export = _claim_export(export_id)
    if export is None:
        return "skipped"
    rows = ResultsExport.objects.filter(pk=export_id)
    expected = max(export.rows_expected, 1)

    def progress(written: int) -> None:
        rows.update(rows_written=written, progress=min(95, 2 + 90 * written // expected),
                    stage=f"Writing rows ({written:,} of about {expected:,})", updated_at=timezone.now())

    try:
        built = build_export(export.dataset, user=export.requested_by, params=export.params)
        key = f"{EXPORT_PREFIX}{export.pk}-{secrets.token_hex(8)}/{export.filename}"
        with tempfile.TemporaryDirectory(prefix="gl-export-") as tmp:
            path = Path(tmp) / export.filename
            written = write_xlsx(built, str(path), progress)
            rows.update(progress=96, stage="Storing the workbook", rows_written=written, updated_at=timezone.now())
            get_store().put_file(path, key, FORMATS["xlsx"])
    except Exception as exc:
        import logging

        logging.getLogger(__name__).exception("results export %s failed", export_id)
        rows.update(status=ResultsExport.Status.FAILED, error=f"The export could not be built: {exc}"[:2000],
                    stage="Failed", finished_at=timezone.now(), updated_at=timezone.now())
        return "failed"
    rows.update(status=ResultsExport.Status.SUCCEEDED, progress=100, stage="Ready", file_key=key,
                finished_at=timezone.now(), updated_at=timezone.now())
    return "succeeded"
