"""The May results report: a real worker builds the HTML and PDF for the demo data, anonymised; the first page is
rendered to PNG under tests/browser/artifacts/ for a person to look at. Progress polling, names only by an admin's
choice, failures recorded, staff only."""

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.urls import reverse

from beta.models import ResultsReport
from beta.results import report as report_builder
from beta.results import selectors, services
from beta.results.selectors import Filters
from portal.models import AuditEvent, Organization, User
from tests.conftest import wait_for
from tests.factories import AdminFactory, OwnerFactory, StaffFactory

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_pdf_report_is_built_by_a_worker_for_the_demo_data(celery_worker_process, client):
    # Given the demo programme (feedback, a survey, a blind comparison) ...
    call_command("seed_demo", stdout=io.StringIO(), i_know_this_is_not_production=True)
    names = list(Organization.objects.values_list("name", flat=True))
    assert set(names) == {"Northlight Pictures", "Harbour Lane Films"}
    client.force_login(User.objects.get(email="reviewer@greenlight.test"))

    # ... a reviewer starts a report (a draft with the cohort's window as its period), writes recommendations and
    # asks for the build; its page follows the worker's progress.
    response = client.post(reverse("beta:results-report-create"), {"title": "May results (demo)"})
    report = ResultsReport.objects.get()
    assert response.url == reverse("beta:results-report", kwargs={"resultsreport_id": report.pk})
    assert report.anonymise
    assert report.status == "draft"
    assert report.period_start is not None
    assert report.period_end is not None
    page = client.get(response.url).content.decode()
    assert "May results (demo)" in page
    client.post(reverse("beta:results-report-edit", kwargs={"resultsreport_id": report.pk}), {
        "title": "May results (demo)", "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(), "action": "build",
        "recommendations": "Roll Dailies 1.0 out to every studio.\n\n- Add a sensitivity control to shot detection",
    })
    wait_for(lambda: ResultsReport.objects.get(pk=report.pk).status in ("succeeded", "failed"), timeout=120,
             message="the worker to build the report")
    report.refresh_from_db()
    assert report.status == "succeeded", report.error
    assert (report.progress, report.stage) == (100, "Ready")
    # Stored under the staff prefix, never under a studio's.
    assert report.pdf_key.startswith("staff/results-reports/")
    assert report.html_key.startswith("staff/results-reports/")

    live = client.get(reverse("beta:results-report-live", kwargs={"resultsreport_id": report.pk})).content.decode()
    assert "Download the PDF" in live
    assert "hx-trigger" not in live  # finished: the polling stops

    pdf_response = client.get(reverse("beta:results-report-pdf", kwargs={"resultsreport_id": report.pk}))
    pdf = b"".join(pdf_response.streaming_content)
    assert pdf.startswith(b"%PDF")
    html = b"".join(
        client.get(reverse("beta:results-report-html", kwargs={"resultsreport_id": report.pk})).streaming_content
    ).decode()
    text = pdf_text(pdf)

    # Anonymised: no studio name anywhere; studios are letters. The numbers and the chosen quote are there.
    for name in ("Northlight", "Harbour Lane", "northlight", "harbourlane"):
        assert name not in html
        assert name not in text
    assert "Studio A" in html
    assert "Studio B" in html
    assert "Net Promoter Score" in text
    assert "Dailies and proxies" in text
    assert "This is the dailies workflow we have wanted for years" in text.replace("\r\n", " ").replace("\n", " ")
    assert "nearest-rank" in html
    flat = " ".join(text.split())
    period = selectors.period_text(report.period_start, report.period_end)
    assert period in flat  # on the cover and in the chart titles
    assert "Executive summary" in flat
    assert "Roll Dailies 1.0 out to every studio." in flat
    assert "Dailies and proxies 1.0.0 succeeded in" in flat
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_EXPORTED, target_id=str(report.pk)).count() == 2

    # The first two pages as PNG, for a person to look at (and the PDF itself).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "results-report.pdf").write_bytes(pdf)
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) >= 3
        for index in (0, 1):
            image = document[index].render(scale=1.5).to_pil()
            image.save(ARTIFACTS / f"results-report-page-{index + 1}.png")
            low, high = image.convert("L").getextrema()
            assert low < 100 < high  # ink on paper, not a blank page
    finally:
        document.close()


@pytest.mark.django_db
def test_only_an_admin_can_show_studio_names():
    reviewer, admin = StaffFactory(), AdminFactory()
    assert services.results_report_request(actor=reviewer, filters=Filters(), show_names=True).anonymise
    shown = services.results_report_request(actor=admin, filters=Filters(cohort_id=7), show_names=True)
    assert not shown.anonymise
    assert shown.options == {"cohort": 7}
    assert services.results_report_request(actor=admin, filters=Filters()).anonymise


@pytest.mark.django_db
def test_the_report_page_polls_while_the_worker_builds(client):
    client.force_login(StaffFactory())
    report = ResultsReport.objects.create(status="running", progress=45, stage="Printing the PDF")
    live = client.get(reverse("beta:results-report-live", kwargs={"resultsreport_id": report.pk})).content.decode()
    assert 'hx-trigger="every 1s"' in live
    assert "Printing the PDF" in live
    assert "45%" in live
    pdf_url = reverse("beta:results-report-pdf", kwargs={"resultsreport_id": report.pk})
    assert client.get(pdf_url).status_code == 404  # not ready yet


@pytest.mark.django_db
def test_a_failed_build_is_recorded_with_its_reason(monkeypatch):
    import weasyprint

    def broken(*args, **kwargs):
        raise RuntimeError("no fonts on this machine")

    monkeypatch.setattr(weasyprint, "HTML", broken)
    report = ResultsReport.objects.create()
    assert report_builder.results_report_build(report_id=report.pk) == "failed"
    report.refresh_from_db()
    assert report.status == "failed"
    assert "no fonts on this machine" in report.error
    # A finished report is not built again (a second delivery of the task is a no-op).
    assert report_builder.results_report_build(report_id=report.pk) == "skipped"
    assert report_builder.results_report_build(report_id=report.pk + 1000) == "skipped"


@pytest.mark.django_db
def test_report_pages_are_staff_only(client):
    report = ResultsReport.objects.create(status="succeeded", pdf_key="staff/results-reports/x/report.pdf")
    client.force_login(OwnerFactory().user)
    for name in ("beta:results-report", "beta:results-report-live", "beta:results-report-pdf",
                 "beta:results-report-html"):
        assert client.get(reverse(name, kwargs={"resultsreport_id": report.pk})).status_code == 404
    assert client.post(reverse("beta:results-report-create")).status_code == 404
    assert not ResultsReport.objects.exclude(pk=report.pk).exists()


@pytest.mark.django_db
def test_the_live_status_updates_the_list_and_banner_and_stops_when_the_build_ends(client):
    client.force_login(StaffFactory())
    report = ResultsReport.objects.create(status="running", progress=45, stage="Printing the PDF", title="May")
    live_url = reverse("beta:results-report-live", kwargs={"resultsreport_id": report.pk})
    running = client.get(live_url).content.decode()
    assert "being built" in running
    assert f'id="report-pill-{report.pk}" hx-swap-oob="true">Running<' in running
    page = client.get(reverse("beta:results-report", kwargs={"resultsreport_id": report.pk})).content.decode()
    assert f'id="report-pill-{report.pk}"' in page  # the list's pill is the one the live response replaces

    ResultsReport.objects.filter(pk=report.pk).update(status="succeeded", progress=100, stage="Ready")
    done = client.get(live_url).content.decode()
    assert "hx-trigger" not in done  # polling stops
    assert "being built" not in done
    assert f'id="report-pill-{report.pk}" hx-swap-oob="true">Succeeded<' in done
