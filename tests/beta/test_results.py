"""The results dashboard: its numbers against a direct computation, its query count, staff only, names hidden,
links to the feedback behind each number, quotes for the report, and well-formed accessible charts."""

import math
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beta.models import (
    ComparisonVote,
    FeedbackCategory,
    FeedbackReport,
    Job,
    Question,
    SurveyAnswer,
    SurveyResponse,
)
from beta.results import charts, selectors
from tests.factories import (
    AdminFactory,
    CohortFactory,
    ComparisonFactory,
    MembershipFactory,
    OrganizationFactory,
    OwnerFactory,
    QuestionFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

URL = "/staff/results/"
DAILIES_SECONDS = [12.0, 30.0, 7.5, 44.0, 21.0, 19.0, 95.0, 33.0, 28.0, 15.0, 61.0]
SHOT_SECONDS = [3.0, 9.0, 4.5]
NPS_SCORES = [10, 9, 9, 8, 7, 6, 3, 10]
VOTES = ["a", "a", "b", "same"]


def nearest_rank(values, p):
    """Textbook nearest rank, written out independently of the app's helper."""
    ordered = sorted(values)
    n = len(ordered)
    for rank in range(1, n + 1):
        if rank / n * 100 >= p:
            return ordered[rank - 1]
    return ordered[-1]


def wilson_direct(p, n, z=1.959963984540054):
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def make_job(studio, tool, version, status, seconds=None, days_ago=3):
    started = timezone.now() - timedelta(days=days_ago)
    return Job.objects.create(
        organization=studio, tool_slug=tool, tool_version=version, status=status,
        started_at=started if seconds is not None else None,
        finished_at=started + timedelta(seconds=seconds) if seconds is not None else None,
    )


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need a password hash, not a slow one: the fixtures below make a few dozen people."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def programme():
    """Two studios in one cohort, a third in another; runs with known times, feedback, NPS answers and votes."""
    cohort = CohortFactory(name="Results wave")
    north = OrganizationFactory(name="Northlight Test Pictures", cohort=cohort)
    harbour = OrganizationFactory(name="Harbour Test Films", cohort=cohort)
    other = OrganizationFactory(name="Elsewhere Studio", cohort=CohortFactory(name="Later wave"))
    jobs = [make_job(north if i % 2 else harbour, "dailies", "1.0.0", "succeeded", s)
            for i, s in enumerate(DAILIES_SECONDS)]
    make_job(north, "dailies", "1.0.0", "failed", 2.0)
    make_job(harbour, "dailies", "1.0.0", "failed")
    make_job(north, "dailies", "1.0.0", "canceled")
    jobs += [make_job(harbour, "shot-detect", "1.0.0", "succeeded", s) for s in SHOT_SECONDS]
    make_job(other, "dailies", "0.9.0", "succeeded", 500.0)  # another cohort and version
    ratings = [5, 4, 4, 3, 2, 5, 4]
    hours = [Decimal("2.0"), Decimal("1.5"), None, Decimal("-0.5"), Decimal("3.0"), Decimal("1.0"), Decimal("0.5")]
    for i, (rating, saved) in enumerate(zip(ratings, hours, strict=True)):
        job = jobs[i]
        report = FeedbackReport.objects.create(
            organization=job.organization, job=job, author=MembershipFactory(organization=job.organization).user,
            tool_slug=job.tool_slug, tool_version=job.tool_version, status="new", overall_rating=rating,
            quality_rating=rating, usefulness_rating=3, production_fit="yes" if rating >= 4 else "no",
            hours_saved=saved, text=f"Report {i}: the proxies were fine.", submitted_at=timezone.now(), revision=1,
        )
        FeedbackCategory.objects.create(report=report, category="speed" if i % 2 else "artefacts")
    FeedbackReport.objects.create(  # a draft counts nowhere
        organization=north, job=jobs[1], author=MembershipFactory(organization=north).user, tool_slug="dailies",
        tool_version="1.0.0", status="draft", overall_rating=1,
    )
    question = QuestionFactory(kind=Question.Kind.NPS, prompt="Would you recommend the tools?")
    for score in NPS_SCORES:
        member = MembershipFactory(organization=north)
        response = SurveyResponse.objects.create(organization=north, survey=question.survey,
                                                 respondent=member.user, submitted_at=timezone.now())
        SurveyAnswer.objects.create(response=response, question=question, value=score, number=score)
    comparison = ComparisonFactory(organization=north)
    for choice in VOTES:
        ComparisonVote.objects.create(comparison=comparison, voter=MembershipFactory(organization=north).user,
                                      order="ab", choice=choice, voted_at=timezone.now())
    return {"cohort": cohort, "north": north, "harbour": harbour, "other": other, "comparison": comparison}


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_dashboard_numbers_equal_a_direct_computation(staff_client, programme):
    response = staff_client.get(URL, {"cohort": programme["cohort"].pk})
    assert response.status_code == 200
    data = response.context["data"]
    rows = {(r.key[0], r.key[1]): r for r in data["tools"]}
    # The other cohort's 0.9.0 run is filtered out (the noop runs are the comparison's outputs).
    assert set(rows) == {("dailies", "1.0.0"), ("shot-detect", "1.0.0"), ("noop", "1.0.0"), ("noop", "1.1.0")}

    dailies = rows[("dailies", "1.0.0")]
    assert dailies.jobs == 14
    assert dailies.success_rate == pytest.approx(11 / 13)  # canceled left out
    assert dailies.p50 == nearest_rank(DAILIES_SECONDS, 50) == 28.0
    assert dailies.p95 == nearest_rank(DAILIES_SECONDS, 95) == 95.0
    shots = rows[("shot-detect", "1.0.0")]
    assert (shots.p50, shots.p95) == (4.5, 9.0)
    assert shots.success_rate == 1.0

    # Ratings and hours of the seven submitted reports (the draft is left out).
    ratings = [5, 4, 4, 3, 2, 5, 4]
    assert dailies.reports == 7
    assert data["total"].reports == 7
    assert dailies.ratings["overall"] == [ratings.count(v) for v in range(1, 6)]
    assert dailies.avg_overall == pytest.approx(sum(ratings) / 7)
    assert dailies.hours_sum == pytest.approx(2.0 + 1.5 - 0.5 + 3.0 + 1.0 + 0.5)
    assert dailies.hours_per_job == pytest.approx(7.5 / 6)
    assert {c["value"]: c["n"] for c in data["categories"]} == {"speed": 3, "artefacts": 4}

    # NPS: 4 promoters, 2 passives, 2 detractors of 8.
    nps = data["nps"][0]
    promoters = sum(s >= 9 for s in NPS_SCORES) / len(NPS_SCORES)
    detractors = sum(s <= 6 for s in NPS_SCORES) / len(NPS_SCORES)
    expected = 100 * (promoters - detractors)
    margin = 1.959963984540054 * 100 * math.sqrt((promoters + detractors - (promoters - detractors) ** 2) / 8)
    assert (nps.promoters, nps.passives, nps.detractors) == (4, 2, 2)
    assert nps.score == pytest.approx(expected) == pytest.approx(25.0)
    assert (nps.low, nps.high) == (pytest.approx(expected - margin), pytest.approx(expected + margin))

    # Win rates: a tie is half a win for each side.
    result = data["comparisons"][0]
    assert (result.a, result.b, result.same, result.n) == (2, 1, 1, 4)
    p_a, low, high = result.rate_a
    assert p_a == pytest.approx(2.5 / 4)
    assert (low, high) == tuple(pytest.approx(v) for v in wilson_direct(2.5 / 4, 4))
    assert result.rate_b[0] == pytest.approx(1.5 / 4)

    html = response.content.decode()
    assert dailies.success_text == "85%"
    assert "85%" in html
    assert "<svg" in html
    assert "Net Promoter Score" in html


def test_filters_by_tool_version_and_dates(staff_client, programme):
    data = staff_client.get(URL, {"tool": "dailies", "version": "0.9.0"}).context["data"]
    assert [(r.key, r.jobs, r.p50) for r in data["tools"]] == [(("dailies", "0.9.0"), 1, 500.0)]
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    data = staff_client.get(URL, {"date_from": future}).context["data"]
    assert data["tools"] == []
    assert data["total"].reports == 0


def test_query_count_does_not_grow_with_the_number_of_reports(client, django_assert_num_queries, settings):
    settings.RESULTS_DASHBOARD_CACHE_SECONDS = 0  # the computation's own queries, every time
    # Given 10 reports over two tools, two studios and a few weeks ...
    client.force_login(StaffFactory())
    cohort = CohortFactory()
    studios = [OrganizationFactory(cohort=cohort) for _ in range(2)]
    author = MembershipFactory(organization=studios[0]).user

    def add_reports(count):
        now = timezone.now()
        jobs = Job.objects.bulk_create([
            Job(organization=studios[i % 2], tool_slug=("dailies", "shot-detect")[i % 2], tool_version="1.0.0",
                status="succeeded", started_at=now - timedelta(days=i % 20, seconds=30), finished_at=now)
            for i in range(count)
        ])
        reports = FeedbackReport.objects.bulk_create([
            FeedbackReport(organization=job.organization, job=job, author=author, tool_slug=job.tool_slug,
                           tool_version="1.0.0", status="new", overall_rating=1 + i % 5, hours_saved=Decimal("1.0"),
                           text="words", submitted_at=now - timedelta(days=i % 20), revision=1)
            for i, job in enumerate(jobs)
        ])
        FeedbackCategory.objects.bulk_create([FeedbackCategory(report=r, category="speed") for r in reports])

    add_reports(10)
    client.get(URL)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    # ... when there are 1,000, the page makes exactly as many queries.
    add_reports(990)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert response.context["data"]["total"].reports == 1000


def test_a_cached_page_reads_only_its_live_parts(staff_client, programme, settings):
    settings.RESULTS_DASHBOARD_CACHE_SECONDS = 60
    first = staff_client.get(URL)  # computes the numbers and caches them with their HTML
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(URL)
    sql = [q["sql"] for q in queries.captured_queries]
    assert response.context["numbers"] == first.context["numbers"]
    assert response.context["data"]["total"].reports == first.context["data"]["total"].reports > 0
    assert not any(table in s for s in sql for table in ("beta_job", "beta_survey", "beta_comparison", "beta_question"))
    assert sum("beta_feedbackreport" in s for s in sql) == 2, sql  # the quotes: chosen, and candidates to choose
    # session, user, second factor, tool switches, cohorts, recent reports, the two quotes' lists
    assert len(sql) == 8, sql


def test_the_dashboard_is_staff_only(client, programme):
    assert client.get(URL).status_code == 302  # sign in first
    owner = OwnerFactory(organization=programme["north"]).user
    client.force_login(owner)
    assert client.get(URL).status_code == 404
    assert client.post(reverse("beta:results-quote"), {"report": FeedbackReport.objects.first().pk}).status_code == 404
    client.force_login(AdminFactory())
    assert client.get(URL).status_code == 200


def test_hiding_names_shows_stable_studio_letters_and_no_name(staff_client, programme):
    html = staff_client.get(URL, {"anonymise": "1"}).content.decode()
    for name in ("Northlight Test Pictures", "Harbour Test Films", "Elsewhere Studio"):
        assert name not in html
    labels = selectors.studio_labels(anonymise=True)
    # Letters follow the order studios joined, whatever the filter.
    assert [labels[programme[k].pk] for k in ("north", "harbour", "other")] == ["Studio A", "Studio B", "Studio C"]
    assert "Studio A" in html
    assert "Studio B" in html
    filtered = staff_client.get(URL, {"anonymise": "1", "tool": "dailies", "version": "0.9.0"}).context["data"]
    assert [r.label for r in filtered["studios"]] == ["Studio C"]
    shown = staff_client.get(URL).content.decode()
    assert "Northlight Test Pictures" in shown


def test_each_number_links_to_the_feedback_behind_it(staff_client, programme):
    response = staff_client.get(URL, {"cohort": programme["cohort"].pk})
    row = next(r for r in response.context["data"]["tools"] if r.key[0] == "dailies")
    inbox = reverse("beta:feedback-inbox")
    assert row.link == f"{inbox}?cohort={programme['cohort'].pk}&tool=dailies&version=1.0.0"
    assert f"{inbox}?cohort={programme['cohort'].pk}&amp;tool=dailies&amp;version=1.0.0&amp;rating=5" in (
        response.content.decode()
    )
    # The link really selects those reports in the inbox.
    from beta.feedback.selectors import feedback_inbox

    staff = StaffFactory()
    behind = feedback_inbox(user=staff, params={"cohort": programme["cohort"].pk, "tool": "dailies",
                                                "version": "1.0.0", "rating": 5})
    assert behind.count() == row.ratings["overall"][4] == 2
    category = next(c for c in response.context["data"]["categories"] if c["value"] == "speed")
    assert "category=speed" in category["link"]


def test_staff_choose_a_quote_for_the_report(staff_client, programme):
    report = FeedbackReport.objects.submitted().first()
    response = staff_client.post(reverse("beta:results-quote"),
                                 {"report": report.pk, "selected": "1", "quote": "  The proxies were fine.  "},
                                 HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.quote_selected
    assert report.quote == "The proxies were fine."
    assert "Leave out of the report" in response.content.decode()
    staff_client.post(reverse("beta:results-quote"), {"report": report.pk, "selected": "0"})
    report.refresh_from_db()
    assert not report.quote_selected


def test_charts_are_well_formed_accessible_svg(staff_client, programme):
    response = staff_client.get(URL, {"cohort": programme["cohort"].pk})
    rendered = charts.dashboard_charts(response.context["data"], prefix="t")
    for name, svg in rendered.items():
        root = ET.fromstring(str(svg))  # noqa: S314 - our own markup
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img", name
        title, desc = root.find(f"{ns}title"), root.find(f"{ns}desc")
        assert title is not None, name
        assert title.text, name
        assert desc is not None, name
        assert desc.text, name
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    # Sample sizes and axis labels are drawn, not only described.
    assert "n = 13" in str(rendered["success"])
    assert "Succeeded runs among finished runs" in str(rendered["success"])
    assert "n = 8" in str(rendered["nps"])
    assert "Week starting" in str(rendered["weekly_counts"])
    empty = charts.bar_chart(chart_id="e", title="Nothing", bars=[], axis_label="x")
    assert "No data yet" in str(empty)
