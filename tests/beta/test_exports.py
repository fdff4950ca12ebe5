"""Exports: CSV and XLSX of feedback, jobs, survey answers and comparison votes open, match each other, follow the
page's filters, hide names when asked, stream, defuse spreadsheet formulas, and are staff-only and audited."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from beta.models import (
    ComparisonVote,
    FeedbackCategory,
    FeedbackReport,
    FeedbackTag,
    Job,
    Question,
    SurveyAnswer,
    SurveyResponse,
)
from beta.results import exports
from portal.models import AuditEvent
from tests.factories import (
    CohortFactory,
    ComparisonFactory,
    MembershipFactory,
    OrganizationFactory,
    OwnerFactory,
    QuestionFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db
URL = "/staff/results/export/"
DATASETS = ["feedback", "jobs", "survey-responses", "comparisons"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    cohort = CohortFactory(name="Export wave")
    north = OrganizationFactory(name="Northlight Export Pictures", cohort=cohort)
    harbour = OrganizationFactory(name="Harbour Export Films", cohort=cohort)
    author = MembershipFactory(organization=north, user__email="editor@northlight-export.test").user
    other_author = MembershipFactory(organization=harbour).user
    now = timezone.now()
    tag = FeedbackTag.objects.create(name="roadmap")
    for i, (studio, person, rating, text) in enumerate([
        (north, author, 5, "Lovely proxies, “exactly” what we need."),
        (north, author, 2, "=HYPERLINK(\"http://evil.example\",\"click\")"),
        (harbour, other_author, 4, "Timecode, burnt in; very useful\nsecond line"),
    ]):
        job = Job.objects.create(organization=studio, tool_slug="dailies", tool_version="1.0.0", status="succeeded",
                                 started_at=now - timedelta(minutes=5), finished_at=now - timedelta(minutes=4))
        report = FeedbackReport.objects.create(
            organization=studio, job=job, author=person, tool_slug="dailies", tool_version="1.0.0", status="new",
            overall_rating=rating, quality_rating=rating, usefulness_rating=3, production_fit="yes",
            hours_saved=Decimal("1.25") * (i + 1), text=text, submitted_at=now - timedelta(hours=i), revision=1,
        )
        FeedbackCategory.objects.create(report=report, category="speed")
        if i == 0:
            FeedbackCategory.objects.create(report=report, category="artefacts")
            report.tags.add(tag)
    Job.objects.create(organization=harbour, tool_slug="shot-detect", tool_version="1.0.0", status="failed",
                       error="No video stream.")
    question = QuestionFactory(kind=Question.Kind.MULTIPLE, prompt="What first?", choices=["Speed", "Quality"])
    nps = QuestionFactory(survey=question.survey, kind=Question.Kind.NPS, prompt="Recommend?")
    response = SurveyResponse.objects.create(organization=north, survey=question.survey, respondent=author,
                                             submitted_at=now)
    SurveyAnswer.objects.create(response=response, question=question, value=["Speed", "Quality"])
    SurveyAnswer.objects.create(response=response, question=nps, value=9, number=9)
    comparison = ComparisonFactory(organization=north, label_a="dailies 1.0.0", label_b="dailies 1.1.0")
    ComparisonVote.objects.create(comparison=comparison, voter=author, order="ba", choice="b", reason="Sharper",
                                  voted_at=now)
    return {"north": north, "harbour": harbour, "cohort": cohort, "author": author}


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


def read_xlsx(response) -> list[list]:
    content = b"".join(response.streaming_content)  # the test client closes the response at the end
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


def same_cell(csv_value: str, xlsx_value) -> bool:
    if xlsx_value is None:
        return csv_value == ""
    if isinstance(xlsx_value, datetime):
        return csv_value == xlsx_value.isoformat(sep=" ")
    if isinstance(xlsx_value, (int, float)):
        return float(csv_value) == float(xlsx_value)
    if str(xlsx_value)[:1] in exports.FORMULA_FIRST:  # CSV defuses with an apostrophe; XLSX has a string cell
        return csv_value == "'" + str(xlsx_value)
    return csv_value == str(xlsx_value)


@pytest.mark.parametrize("dataset", DATASETS)
def test_csv_and_xlsx_open_and_match(staff_client, data, dataset):
    csv_response = staff_client.get(URL, {"dataset": dataset, "format": "csv"})
    xlsx_response = staff_client.get(URL, {"dataset": dataset, "format": "xlsx"})
    assert csv_response.status_code == xlsx_response.status_code == 200
    assert isinstance(csv_response, StreamingHttpResponse)
    assert isinstance(xlsx_response, FileResponse)
    assert xlsx_response.streaming
    assert "attachment" in csv_response["Content-Disposition"]
    assert ".csv" in csv_response["Content-Disposition"]
    for response in (csv_response, xlsx_response):  # not for training (W3C TDMRep), never cached
        assert response["tdm-reservation"] == "1"
        assert response["Cache-Control"] == "private, no-store"
    rows, sheet = read_csv(csv_response), read_xlsx(xlsx_response)
    assert len(rows) == len(sheet) > 1
    assert rows[0] == list(sheet[0])
    for csv_row, xlsx_row in zip(rows[1:], sheet[1:], strict=True):
        assert len(csv_row) == len(xlsx_row)
        for header, a, b in zip(rows[0], csv_row, xlsx_row, strict=True):
            assert same_cell(a, b), (dataset, header, a, b)


def test_feedback_export_has_the_reports_and_their_fields(staff_client, data):
    rows = read_csv(staff_client.get(URL, {"dataset": "feedback", "format": "csv"}))
    header, body = rows[0], rows[1:]
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in body}
    assert len(by_id) == FeedbackReport.objects.submitted().count() == 3
    first = by_id[min(by_id)]
    assert first["studio"] == "Northlight Export Pictures"
    assert first["author"] == "editor@northlight-export.test"
    assert first["issue_categories"] == "artefacts; speed"
    assert first["tags"] == "roadmap"
    assert first["overall_rating"] == "5"
    assert float(first["hours_saved"]) == 1.25
    assert "second line" in next(r["text"] for r in by_id.values() if r["studio"] == "Harbour Export Films")
    # A formula a partner typed is defused, in both formats.
    evil = next(r for r in by_id.values() if "HYPERLINK" in r["text"])
    assert evil["text"].startswith("'=")
    # In XLSX it is a text cell (never a formula), shown as written: no apostrophe to be seen.
    content = b"".join(staff_client.get(URL, {"dataset": "feedback", "format": "xlsx"}).streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row if isinstance(c.value, str)
             and "HYPERLINK" in c.value]
    assert [(c.value, c.data_type) for c in cells] == [('=HYPERLINK("http://evil.example","click")', "s")]
    book.close()


def test_feedback_export_applies_the_inbox_filters(staff_client, data):
    # The inbox's own filter names: rating, studio, category, q ...
    rows = read_csv(staff_client.get(URL, {"dataset": "feedback", "format": "csv", "rating": "5"}))
    assert [r[rows[0].index("overall_rating")] for r in rows[1:]] == ["5"]
    rows = read_csv(staff_client.get(URL, {"dataset": "feedback", "format": "csv", "studio": data["harbour"].pk}))
    assert {r[rows[0].index("studio")] for r in rows[1:]} == {"Harbour Export Films"}
    rows = read_csv(staff_client.get(URL, {"dataset": "feedback", "format": "csv", "category": "artefacts"}))
    assert len(rows) == 2


def test_jobs_export_filters_and_run_time(staff_client, data):
    rows = read_csv(staff_client.get(URL, {"dataset": "jobs", "format": "csv", "tool": "dailies"}))
    header = rows[0]
    assert len(rows) == 4
    assert {r[header.index("tool")] for r in rows[1:]} == {"dailies"}
    assert {float(r[header.index("run_seconds")]) for r in rows[1:]} == {60.0}
    rows = read_csv(staff_client.get(URL, {"dataset": "jobs", "format": "csv", "status": "failed"}))
    assert [r[header.index("error")] for r in rows[1:]] == ["No video stream."]


def test_anonymised_exports_have_no_studio_names_or_emails(staff_client, data):
    for dataset in DATASETS:
        for fmt in ("csv", "xlsx"):
            response = staff_client.get(URL, {"dataset": dataset, "format": fmt, "anonymise": "1"})
            content = b"".join(response.streaming_content)
            if fmt == "xlsx":
                rows = read_xlsx_bytes(content)
                content = "\n".join(",".join(str(c) for c in row) for row in rows).encode()
            for secret in (b"Northlight Export", b"Harbour Export", b"@northlight-export.test"):
                assert secret not in content, (dataset, fmt, secret)
    rows = read_csv(staff_client.get(URL, {"dataset": "survey-responses", "format": "csv", "anonymise": "1"}))
    assert {r[rows[0].index("studio")] for r in rows[1:]} <= {"Studio A", "Studio B", "Studio C", "Studio D"}


def read_xlsx_bytes(content: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


def test_survey_and_comparison_exports(staff_client, data):
    rows = read_csv(staff_client.get(URL, {"dataset": "survey-responses", "format": "csv"}))
    answers = {r[rows[0].index("question")]: r[rows[0].index("answer")] for r in rows[1:]}
    assert answers == {"What first?": "Speed; Quality", "Recommend?": "9.0"}
    rows = read_csv(staff_client.get(URL, {"dataset": "comparisons", "format": "csv"}))
    vote = dict(zip(rows[0], rows[1], strict=True))
    assert (vote["choice"], vote["preferred"], vote["order_shown"], vote["reason"]) == (
        "b", "dailies 1.1.0", "ba", "Sharper")


def test_a_large_export_streams(staff_client, data):
    organization = data["north"]
    Job.objects.bulk_create([
        Job(organization=organization, tool_slug="dailies", tool_version="1.0.0", status="succeeded")
        for _ in range(5000)
    ])
    response = staff_client.get(URL, {"dataset": "jobs", "format": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"job_id,")  # the header goes out before the rows are read
    rest = list(chunks)
    assert len(rest) == Job.objects.count() > 5000  # one chunk per row: nothing was built up in memory
    xlsx = staff_client.get(URL, {"dataset": "jobs", "format": "xlsx"})
    assert isinstance(xlsx, FileResponse)
    assert xlsx.streaming
    assert len(read_xlsx(xlsx)) == Job.objects.count() + 1


def test_exports_are_staff_only_and_audited(client, data):
    owner = OwnerFactory(organization=data["north"]).user
    client.force_login(owner)
    assert client.get(URL, {"dataset": "feedback", "format": "csv"}).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DATA_EXPORTED).exists()
    staff = StaffFactory()
    client.force_login(staff)
    assert client.get(URL, {"dataset": "nothing", "format": "csv"}).status_code == 400
    assert read_xlsx(client.get(URL, {"dataset": "jobs", "format": "xlsx", "tool": "dailies"}))
    event = AuditEvent.objects.get(action=AuditEvent.Action.DATA_EXPORTED)
    assert event.actor == staff
    assert event.detail == {"dataset": "jobs", "format": "xlsx", "filters": {"tool": "dailies"}}


def test_cells_are_typed_and_utc():
    moment = datetime(2026, 5, 4, 12, 30, 15, 123, tzinfo=UTC)
    assert exports.cell(moment) == datetime(2026, 5, 4, 12, 30, 15, tzinfo=UTC).replace(tzinfo=None)
    assert exports.cell(Decimal("1.50")) == 1.5
    assert exports.cell(True) == "yes"
    assert exports.cell(None) == ""
    assert exports.cell("+44 20 7946 0000") == "'+44 20 7946 0000"
    assert exports.cell({"height": 360}) == '{"height": 360}'


def test_csv_for_excel_is_the_same_csv_with_a_byte_order_mark(staff_client, data):
    plain = b"".join(staff_client.get(URL, {"dataset": "feedback", "format": "csv"}).streaming_content)
    response = staff_client.get(URL, {"dataset": "feedback", "format": "csv-excel"})
    excel = b"".join(response.streaming_content)
    assert excel.startswith(b"\xef\xbb\xbf")
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel[3:] == plain
    assert "-excel.csv" in response["Content-Disposition"]
    assert "\u201cexactly\u201d" in excel.decode("utf-8-sig")
    page = staff_client.get("/staff/results/").content.decode()
    assert "format=csv-excel" in page
    assert "CSV for Excel" in page


def test_small_xlsx_exports_are_built_at_once_and_large_ones_by_a_worker(staff_client, data, settings):
    from beta.models import ResultsExport

    settings.RESULTS_XLSX_WORKER_ROWS = 100
    small = staff_client.get(URL, {"dataset": "jobs", "format": "xlsx"})
    assert isinstance(small, FileResponse)
    assert len(read_xlsx(small)) == Job.objects.count() + 1
    settings.RESULTS_XLSX_WORKER_ROWS = 2
    response = staff_client.get(URL, {"dataset": "jobs", "format": "xlsx"})
    export = ResultsExport.objects.get()
    assert response.url == reverse("beta:results-export-detail", kwargs={"resultsexport_id": export.pk})
    assert (export.dataset, export.rows_expected, export.status) == ("jobs", Job.objects.count(), "queued")
    page = staff_client.get(response.url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    download = reverse("beta:results-export-download", kwargs={"resultsexport_id": export.pk})
    assert staff_client.get(download).status_code == 404  # not built yet
    # CSV stays streamed whatever the size.
    streamed = staff_client.get(URL, {"dataset": "jobs", "format": "csv"})
    assert isinstance(streamed, StreamingHttpResponse)
    assert len(read_csv(streamed)) == Job.objects.count() + 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_xlsx_is_built_by_a_real_worker_with_every_row(celery_worker_process, client, settings):
    from beta.models import ResultsExport
    from tests.conftest import wait_for

    # Given more jobs than the (lowered) threshold, one with text a spreadsheet would run ...
    settings.RESULTS_XLSX_WORKER_ROWS = 50
    studio = OrganizationFactory(name="Worker Export Films")
    Job.objects.bulk_create([
        Job(organization=studio, tool_slug="dailies", tool_version="1.0.0", status="failed",
            error="=1+1" if i == 0 else f"error {i}")
        for i in range(exports.CHUNK + 120)
    ])
    staff = StaffFactory()
    client.force_login(staff)
    # ... asking for the XLSX leads to the export's page, and a real worker builds it ...
    response = client.get(URL, {"dataset": "jobs", "format": "xlsx"})
    export = ResultsExport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("beta:results-export-detail", kwargs={"resultsexport_id": export.pk})
    wait_for(lambda: ResultsExport.objects.get(pk=export.pk).status in ("succeeded", "failed"), timeout=120,
             message="the worker to build the export")
    export.refresh_from_db()
    assert export.status == "succeeded", export.error
    assert (export.progress, export.rows_written) == (100, Job.objects.count())
    assert export.file_key.startswith("staff/results-exports/")
    live = client.get(reverse("beta:results-export-live", kwargs={"resultsexport_id": export.pk})).content.decode()
    assert "Download the XLSX" in live
    assert "hx-trigger" not in live
    # ... and the download opens in openpyxl with every row, the formula-like text as a string cell.
    download = client.get(reverse("beta:results-export-download", kwargs={"resultsexport_id": export.pk}))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(exports.JOBS_HEADER)
    assert len(rows) == Job.objects.count() + 1 == exports.CHUNK + 121
    assert {row[0] for row in rows[1:]} == set(Job.objects.values_list("id", flat=True))
    formula_like = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value == "=1+1"]
    assert [c.data_type for c in formula_like] == ["s"]
    book.close()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_EXPORTED, actor=staff).count() == 2
