"""The results report at professional grade: one number formatter (the same quantity prints the same on every page
of the report and on the dashboard, never "-0"), fonts for partners' text in Japanese, Chinese, Korean and French,
charts whose labels are never cut, signed values that diverge from zero, small samples marked, the period on the
cover and under every chart title, an executive summary written from the numbers, and staff's recommendations."""

import ctypes
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from django.urls import reverse
from django.utils import timezone

from beta.models import FeedbackReport, Job, ResultsReport
from beta.results import charts, narrative, numbers, selectors, services
from beta.results import report as report_builder
from tests.factories import CohortFactory, MembershipFactory, OrganizationFactory, StaffFactory

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
SVG = "{http://www.w3.org/2000/svg}"

QUOTES = {
    "ja": "東京のスタジオでは、このデイリーで半日を節約できました。",
    "zh": "这个工具在北京的后期制作中非常好用。",
    "ko": "서울 스튜디오에서 프록시가 아주 잘 작동합니다.",
    "fr": "Très réussi : l'étalonnage était déjà prêt, ça nous a économisé une journée à Montréal.",
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _job(studio, slug, version, status, days_ago=3):
    started = timezone.now() - timedelta(days=days_ago)
    job = Job.objects.create(organization=studio, tool_slug=slug, tool_version=version, status=status,
                             started_at=started, finished_at=started + timedelta(seconds=30))
    Job.objects.filter(pk=job.pk).update(queued_at=started - timedelta(seconds=5))
    return job


def _feedback(job, rating, hours, text="Fine."):
    return FeedbackReport.objects.create(
        organization=job.organization, job=job, author=MembershipFactory(organization=job.organization).user,
        tool_slug=job.tool_slug, tool_version=job.tool_version, status="new", overall_rating=rating,
        quality_rating=rating, usefulness_rating=rating, production_fit="yes", hours_saved=Decimal(hours),
        text=text, submitted_at=timezone.now(), revision=1,
    )


@pytest.fixture
def programme():
    """Dailies 0.9.0 (2 of 3 succeeded) and 1.0.0 (6 of 6, rated 4.33 with 17.5 h saved); one shot-detection run
    that lost 2.55 h (a negative, small sample). Total hours: 14.95, which a float rounds down and we round up."""
    now = timezone.now()
    cohort = CohortFactory(name="May wave", opens_at=now - timedelta(days=10), closes_at=now + timedelta(days=20))
    studio = OrganizationFactory(name="Quality Test Pictures", cohort=cohort)
    for status in ("succeeded", "succeeded", "failed"):
        _job(studio, "dailies", "0.9.0", status, days_ago=8)
    for rating, hours in zip([5, 4, 4, 5, 4, 4], ["2.5", "3.0", "4.0", "2.0", "3.5", "2.5"], strict=True):
        _feedback(_job(studio, "dailies", "1.0.0", "succeeded"), rating, hours)
    _feedback(_job(studio, "shot-detect", "1.0.0", "succeeded"), 2, "-2.55", text="Slower than our own cut list.")
    return {"cohort": cohort, "studio": studio}


def _report(programme, **extra) -> ResultsReport:
    return services.results_report_request(actor=StaffFactory(), filters=selectors.Filters(
        cohort_id=programme["cohort"].pk), **extra)


# --- Numbers -----------------------------------------------------------------------------------------------------
def test_numbers_round_half_away_from_zero_and_never_print_minus_zero():
    assert numbers.hours(24.45) == "24.5 h"  # a float's f-string says 24.4
    assert numbers.hours(Decimal("14.95")) == "15.0 h"
    assert numbers.number(-2.5) == "\u22123"
    assert numbers.hours(-2.5) == "\u22122.5 h"
    assert numbers.hours(-0.04) == "0.0 h"
    assert numbers.nps(-0.4) == "0"
    assert numbers.nps(12.5) == "+13"
    assert numbers.percent(2 / 3) == "67%"
    assert numbers.percent(0.125) == "13%"
    assert numbers.rating(4.25) == "4.3"
    assert numbers.count(12345) == "12,345"
    assert numbers.seconds(5.55) == "5.6 s"
    assert numbers.hours(None) == numbers.percent(None) == "\u2013"


def test_the_same_quantity_prints_the_same_in_the_report_and_on_the_dashboard(client, programme):
    # Given the totals, computed once ...
    data = selectors.dashboard(selectors.Filters(cohort_id=programme["cohort"].pk))
    total = data["total"]
    assert total.hours_sum == pytest.approx(14.95)
    shot = next(r for r in data["tools"] if r.key[0] == "shot-detect")
    # ... the report's HTML and the dashboard's page ...
    html = report_builder.render_report_html(_report(programme))
    client.force_login(StaffFactory())
    page = client.get(reverse("beta:results-dashboard"), {"cohort": programme["cohort"].pk}).content.decode()
    for text in (html, page):
        # ... print the total hours as 15.0 h wherever they appear (never 14.9, 15 or 14.95) ...
        total_hours = re.findall(r"(?<![\d.])1[45](?:\.\d+)? h\b", text)
        assert total_hours, "the total hours are shown"
        assert set(total_hours) == {numbers.hours(total.hours_sum)} == {"15.0 h"}
        # ... the shot detector's lost hours as -2.6 h (with a minus sign) (never -2 h, -2.5 h or -3 h) ...
        lost = re.findall(r"[\u2212-]2(?:\.\d+)? h\b", text)
        assert set(lost) == {numbers.hours(shot.hours_sum)} == {"\u22122.6 h"}
        # ... the success rate as 90% and the mean rating as 4.0, and nothing as minus zero.
        assert numbers.percent(total.success_rate) == "90%"
        assert "90%" in text
        assert not re.search(r"[\u2212-]0(?:\.0+)?(?![\d.])", re.sub(r"<[^>]+>", " ", text))
    assert f"{numbers.rating(total.avg_overall)}/5" in html


# --- Charts ------------------------------------------------------------------------------------------------------
def _texts(svg) -> list[str]:
    root = ET.fromstring(str(svg))  # noqa: S314 - our own markup
    return [" ".join(t.strip() for t in text.itertext() if t.strip()) for text in root.iter(f"{SVG}text")]


def test_chart_labels_wrap_and_are_never_cut():
    long = "Shot detection with a very long descriptive tool name 1.0.0"
    svg = charts.bar_chart(chart_id="t", title="Run time", axis_label="Seconds", bars=[
        charts.Bar(f"{long} \u00b7 p50 (median)", 10, 9), charts.Bar(f"{long} \u00b7 p95", 20, 9)])
    texts = _texts(svg)
    assert f"{long} \u00b7 p50 (median)" in texts
    assert f"{long} \u00b7 p95" in texts
    runtime = charts.bar_chart(chart_id="r", title="Run time", axis_label="Seconds", bars=[
        charts.Bar("Shot detection and cut list 1.0.0\np50 (median)", 10, 9), charts.Bar("Shot detection\np95", 20, 9)])
    assert "Shot detection and cut list 1.0.0 p50 (median)" in _texts(runtime)
    assert "\u2026" not in str(svg)
    assert charts.wrap("a" * 70, 30) == ["a" * 30, "a" * 30, "a" * 10]


def test_negative_values_are_drawn_left_of_the_zero_line():
    svg = charts.bar_chart(chart_id="h", title="Hours saved per run", axis_label="Hours", bars=[
        charts.Bar("Dailies 1.0.0", 2.0, 6), charts.Bar("Shot detection 1.0.0", -2.5, 6)])
    root = ET.fromstring(str(svg))  # noqa: S314
    zero = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "zero-line")
    zero_x = float(zero.get("x1"))
    bars = {rect.get("data-value"): rect for rect in root.iter(f"{SVG}rect") if rect.get("data-value")}
    negative, positive = bars["-2.5"], bars["2"]
    assert float(negative.get("width")) > 0
    assert float(negative.get("x")) < zero_x
    assert float(negative.get("x")) + float(negative.get("width")) == pytest.approx(zero_x, abs=0.1)
    assert float(positive.get("x")) == pytest.approx(zero_x, abs=0.1)
    assert float(positive.get("width")) > 0


def test_small_samples_are_hatched_and_labelled():
    svg = charts.bar_chart(chart_id="s", title="Success", axis_label="%", maximum=100, bars=[
        charts.Bar("One run", 100, 1), charts.Bar("Five runs", 80, 5)])
    root = ET.fromstring(str(svg))  # noqa: S314
    bars = {rect.get("data-value"): rect for rect in root.iter(f"{SVG}rect") if rect.get("data-value")}
    assert bars["100"].get("fill") == "url(#s-hatch)"
    assert bars["80"].get("fill") != "url(#s-hatch)"
    assert root.find(f".//{SVG}pattern[@id='s-hatch']") is not None
    assert _texts(svg).count(charts.SMALL_SAMPLE_TEXT) == 1
    stacked = charts.stacked_bar_chart(chart_id="r", title="Ratings", segments=list("12345"), rows=[
        charts.StackedRow("Few", [0, 0, 0, 1, 1]), charts.StackedRow("Many", [1, 1, 1, 1, 1])])
    assert _texts(stacked).count(charts.SMALL_SAMPLE_TEXT) == 1


def test_every_chart_title_states_the_period(programme):
    data = selectors.dashboard(selectors.Filters(cohort_id=programme["cohort"].pk))
    period = selectors.period_text(timezone.localdate() - timedelta(days=10), timezone.localdate())
    for name, svg in charts.dashboard_charts(data, prefix="p", period=period).items():
        root = ET.fromstring(str(svg))  # noqa: S314
        assert root.find(f"{SVG}title").text.endswith(period), name
        assert period in _texts(svg), name


def test_period_text():
    from datetime import date

    assert selectors.period_text(date(2025, 5, 1), date(2025, 5, 31)) == "1\u201331 May 2025"
    assert selectors.period_text(date(2025, 4, 7), date(2025, 5, 12)) == "7 April to 12 May 2025"
    assert selectors.period_text(date(2024, 12, 28), date(2025, 1, 3)) == "28 December 2024 to 3 January 2025"
    assert selectors.period_text(None, None) == "All dates"


# --- Period, summary and recommendations ---------------------------------------------------------------------------
def test_the_period_defaults_to_the_cohort_windows_and_staff_change_it_before_the_build(client, programme):
    cohort = programme["cohort"]
    client.force_login(StaffFactory())
    response = client.post(reverse("beta:results-report-create"), {"cohort": cohort.pk, "title": "May results"})
    report = ResultsReport.objects.get()
    assert report.status == "draft"
    assert (report.period_start, report.period_end) == (timezone.localdate(cohort.opens_at),
                                                        timezone.localdate(cohort.closes_at))
    page = client.get(response.url).content.decode()
    assert 'name="period_start"' in page
    assert "Build the report" in page
    edit = reverse("beta:results-report-edit", kwargs={"resultsreport_id": report.pk})

    # A period that ends before it starts is refused, next to the form, and nothing is queued.
    refused = client.post(edit, {"title": "May results", "period_start": "2025-05-31", "period_end": "2025-05-01",
                                 "recommendations": "", "action": "build"})
    assert refused.status_code == 400
    assert "must end on or after" in refused.content.decode()
    report.refresh_from_db()
    assert report.status == "draft"

    # Staff set the period and write recommendations, then build: the row is queued with them.
    start = timezone.localdate() - timedelta(days=5)
    client.post(edit, {"title": "May results", "period_start": start.isoformat(),
                       "period_end": timezone.localdate().isoformat(),
                       "recommendations": "Ship Dailies 1.0 to every studio.\n\n- Retrain shot detection",
                       "action": "build"})
    report.refresh_from_db()
    assert report.status == "queued"
    assert report.period_start == start
    assert "Ship Dailies 1.0" in report.recommendations
    # Once queued, the draft's fields are no longer editable.
    client.post(edit, {"title": "Changed", "recommendations": "", "period_start": "", "period_end": ""})
    report.refresh_from_db()
    assert report.title == "May results"

    # The report's numbers cover its period: the 0.9.0 runs (8 days ago) fall outside it.
    html = report_builder.render_report_html(report)
    period = selectors.period_text(start, timezone.localdate())
    assert f'<p class="period">{period}</p>' in html
    assert html.count(period) >= 1 + 7  # the cover and every chart title (and more)
    assert "Dailies and proxies 0.9.0" not in html
    assert "<li>Retrain shot detection</li>" in html
    assert "<p>Ship Dailies 1.0 to every studio.</p>" in html


def test_the_executive_summary_says_what_the_numbers_say(programme):
    report = _report(programme)
    data = selectors.dashboard(report_builder.report_filters(report))
    rows = {row.key: row for row in data["tools"]}
    new, old = rows[("dailies", "1.0.0")], rows[("dailies", "0.9.0")]
    # The numbers, directly: 6 of 6 against 2 of 3, ratings 26 / 6, hours 17.5.
    assert (new.succeeded, new.finished, old.succeeded, old.finished) == (6, 6, 2, 3)
    assert new.avg_overall == pytest.approx(26 / 6)
    assert new.hours_sum == pytest.approx(17.5)
    assert data["total"].avg_overall == pytest.approx(28 / 7)
    summary = narrative.executive_summary(data)
    assert summary["tools"] == [
        "Dailies and proxies 1.0.0 succeeded in 100% of 6 finished runs, up from 67% in 0.9.0; partners rated it "
        "4.3/5 (n = 6) and reported 17.5 hours saved.",
        "Shot detection and cut list 1.0.0 succeeded in 100% of 1 finished run (a small sample); partners rated it "
        "2.0/5 (n = 1, a small sample) and reported \u22122.6 hours saved (time lost).",
    ]
    assert summary["overview"] == [
        "1 studio ran the tools 10 times; 90% of 10 runs that finished succeeded, and 7 feedback reports gave a "
        "mean overall rating of 4.0/5, with 15.0 hours saved in all by partners' estimates."
    ]
    html = report_builder.render_report_html(report)
    for sentence in summary["overview"] + summary["tools"]:
        assert sentence.replace("'", "&#x27;") in html
    assert "Executive summary" in html
    assert "No recommendations were written for this report." in html


def test_version_order_is_numeric():
    assert sorted(["0.10.0", "0.9.0", "1.0.0"], key=narrative.version_key) == ["0.9.0", "0.10.0", "1.0.0"]


# --- Fonts ---------------------------------------------------------------------------------------------------------
def _font_names(page) -> list[tuple[str, str]]:
    """(character, name of the font it is drawn with) for every character of a PDF page."""
    textpage = page.get_textpage()
    out = []
    buffer = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    try:
        for index in range(textpage.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
            pdfium_c.FPDFText_GetFontInfo(textpage.raw, index, buffer, 256, ctypes.byref(flags))
            out.append((char, buffer.value.decode("latin-1")))
    finally:
        textpage.close()
    return out


def test_quotes_in_japanese_chinese_korean_and_french_print_with_real_glyphs(programme):
    import weasyprint

    # Given chosen quotes in four languages ...
    job = Job.objects.filter(tool_slug="dailies", tool_version="1.0.0").first()
    for text in QUOTES.values():
        _feedback(job, 5, "1.0", text=text).__class__.objects.filter(text=text).update(quote_selected=True,
                                                                                       quote=text)
    # ... the report prints to PDF ...
    html = report_builder.render_report_html(_report(programme))
    pdf = weasyprint.HTML(string=html).write_pdf()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "results-report-quotes.pdf").write_bytes(pdf)  # for a person to look at
    document = pdfium.PdfDocument(pdf)
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        fonts = [pair for i in range(len(document)) for pair in _font_names(document[i])]
    finally:
        document.close()
    # ... with every quote's characters in its text (nothing lost or replaced) ...
    squashed = re.sub(r"\s+", "", text)
    for language, quote in QUOTES.items():
        assert re.sub(r"\s+", "", quote) in squashed, language
    # ... and every Chinese, Japanese and Korean character drawn with a CJK font (not a Latin font's empty box).
    def is_cjk(c):
        return "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"

    cjk = [(c, font) for c, font in fonts if is_cjk(c)]
    assert len(cjk) == sum(1 for q in QUOTES.values() for c in q if is_cjk(c))
    assert all("CJK" in font for _, font in cjk), {font for _, font in cjk}
    latin = {font for c, font in fonts if c in "éèàç"}
    assert latin
    assert all("Source-Sans" in font for font in latin), latin  # the Latin face, not a fallback
