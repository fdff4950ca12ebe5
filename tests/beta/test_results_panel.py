"""The dashboard's jobs-and-feedback panel (one pass per table on PostgreSQL, percentiles in SQL; the Python fallback
on SQLite) against a direct computation over the rows written out here, uncached, cached and after invalidation;
its query count."""

import math
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from beta.models import FeedbackReport, Job
from beta.results import cache as results_cache
from beta.results import selectors
from tests.factories import CohortFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

STATUSES = ["succeeded", "succeeded", "failed", "succeeded", "canceled", "succeeded", "queued"]
TOOLS = [("dailies", "1.0.0"), ("dailies", "0.9.0"), ("shot-detect", "1.0.0")]


def nearest_rank(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded():
    """Five studios in two cohorts and none, runs over five weeks, two people's reports on some runs (in different
    weeks, with hours estimates on both: a run with an estimate counts once)."""
    first, second = CohortFactory(name="First wave"), CohortFactory(name="Second wave")
    studios = [OrganizationFactory(cohort=c) for c in (first, first, second, second, None)]
    people = {s.pk: [MembershipFactory(organization=s).user for _ in range(2)] for s in studios}
    now = timezone.now()
    for i in range(70):
        studio, (tool, version), status = studios[i % 5], TOOLS[i % 3], STATUSES[i % 7]
        started = now - timedelta(days=i % 33, hours=i % 5)
        job = Job.objects.create(organization=studio, tool_slug=tool, tool_version=version, status=status,
                                 started_at=started if status != "queued" else None,
                                 finished_at=started + timedelta(seconds=3 + (i * 37) % 101)
                                 if status in ("succeeded", "failed") else None)
        Job.objects.filter(pk=job.pk).update(queued_at=started - timedelta(seconds=5))
        for k in range(i % 3):  # 0, 1 or 2 reports
            FeedbackReport.objects.create(
                organization=studio, job=job, author=people[studio.pk][k], tool_slug=tool, tool_version=version,
                status="new", overall_rating=1 + (i + k) % 5, quality_rating=None if i % 4 == 0 else 1 + i % 5,
                usefulness_rating=1 + (i * 3 + k) % 5, production_fit=("yes", "with_changes", "no", "")[(i + k) % 4],
                hours_saved=None if (i + k) % 5 == 0 else Decimal(i % 7) / 2 - 1, revision=1,
                submitted_at=started + timedelta(days=9 * k, hours=1), text="ok",
            )
    return studios


def week_of(moment):
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def direct(key_of_job, key_of_report):
    """Every number of a table, computed from the rows one by one."""
    table = defaultdict(lambda: {"jobs": 0, "succeeded": 0, "failed": 0, "canceled": 0, "durations": [],
                                 "reports": 0, "overall": [], "quality": [], "usefulness": [], "fit": defaultdict(int),
                                 "hours": [], "hours_jobs": set()})
    for job in Job.objects.all():
        row = table[key_of_job(job)]
        row["jobs"] += 1
        if job.status in ("succeeded", "failed", "canceled"):
            row[job.status] += 1
        if job.status == "succeeded":
            row["durations"].append((job.finished_at - job.started_at).total_seconds())
    for report in FeedbackReport.objects.submitted().select_related("job"):
        row = table[key_of_report(report)]
        row["reports"] += 1
        for name in ("overall", "quality", "usefulness"):
            if getattr(report, f"{name}_rating") is not None:
                row[name].append(getattr(report, f"{name}_rating"))
        if report.production_fit:
            row["fit"][report.production_fit] += 1
        if report.hours_saved is not None:
            row["hours"].append(float(report.hours_saved))
            row["hours_jobs"].add(report.job_id)
    return table


def assert_row(row, expected, *, percentiles):
    assert (row.jobs, row.succeeded, row.failed, row.canceled) == (
        expected["jobs"], expected["succeeded"], expected["failed"], expected["canceled"]), row.label
    assert row.reports == expected["reports"], row.label
    for name in ("overall", "quality", "usefulness"):
        values = expected[name]
        assert getattr(row, f"avg_{name}") == (pytest.approx(sum(values) / len(values)) if values else None)
    if expected["reports"]:
        assert row.ratings["overall"] == [expected["overall"].count(v) for v in range(1, 6)], row.label
        assert {k: v for k, v in row.fit.items() if v} == dict(expected["fit"]), row.label
    assert row.hours_sum == pytest.approx(sum(expected["hours"]))
    assert row.hours_reports == len(expected["hours"])
    assert row.hours_jobs == len(expected["hours_jobs"]), row.label
    if percentiles:
        assert row.timed_runs == len(expected["durations"])
        assert row.p50 == nearest_rank(expected["durations"], 50), row.label
        assert row.p95 == nearest_rank(expected["durations"], 95), row.label


def assert_panel(data):
    tools = direct(lambda j: (j.tool_slug, j.tool_version), lambda r: (r.tool_slug, r.tool_version))
    assert [row.key for row in data["tools"]] == sorted(tools)
    for row in data["tools"]:
        assert_row(row, tools[row.key], percentiles=True)
    studios = direct(lambda j: (j.organization_id,), lambda r: (r.organization_id,))
    assert {row.key for row in data["studios"]} == set(studios)
    for row in data["studios"]:
        assert_row(row, studios[row.key], percentiles=False)
    cohorts = direct(lambda j: (j.organization.cohort_id,), lambda r: (r.organization.cohort_id,))
    assert {row.key for row in data["cohorts"]} == set(cohorts)
    for row in data["cohorts"]:
        assert_row(row, cohorts[row.key], percentiles=False)
    weeks = direct(lambda j: (week_of(j.queued_at),), lambda r: (week_of(r.submitted_at),))
    assert [row.key for row in data["weeks"]] == sorted(weeks)
    for row in data["weeks"]:
        assert_row(row, weeks[row.key], percentiles=False)
    assert_row(data["total"], direct(lambda j: (), lambda r: ())[()], percentiles=True)


def test_panel_numbers_equal_a_direct_computation_uncached_cached_and_after_a_new_report(seeded, settings):
    settings.RESULTS_DASHBOARD_CACHE_SECONDS = 60
    filters = selectors.Filters()
    with CaptureQueriesContext(connection) as uncached:
        assert_panel(selectors.dashboard(filters, cached=True))
    with CaptureQueriesContext(connection) as cached:
        assert_panel(selectors.dashboard(filters, cached=True))
    assert len(cached.captured_queries) < len(uncached.captured_queries)

    # A report submitted elsewhere: the cache still shows the old total until it is invalidated.
    job = Job.objects.filter(status="succeeded", feedback_reports__isnull=True).first()
    FeedbackReport.objects.create(organization=job.organization, job=job,
                                  author=MembershipFactory(organization=job.organization).user,
                                  tool_slug=job.tool_slug, tool_version=job.tool_version, status="new",
                                  overall_rating=5, hours_saved=Decimal("4.5"), revision=1,
                                  submitted_at=timezone.now(), text="new")
    stale = selectors.dashboard(filters, cached=True)["total"].reports
    results_cache.invalidate()
    fresh = selectors.dashboard(filters, cached=True)
    assert fresh["total"].reports == stale + 1
    assert_panel(fresh)


def test_a_filtered_panel_matches_too(seeded):
    filters = selectors.Filters(tool="dailies", version="1.0.0")
    data = selectors.dashboard(filters)
    assert [row.key for row in data["tools"]] == [("dailies", "1.0.0")]
    expected = direct(lambda j: (j.tool_slug, j.tool_version), lambda r: (r.tool_slug, r.tool_version))
    assert_row(data["tools"][0], expected[("dailies", "1.0.0")], percentiles=True)
    assert data["total"].jobs == expected[("dailies", "1.0.0")]["jobs"]


@pytest.mark.parametrize("by", ["cohort", "dates"])
def test_a_cohort_or_date_filtered_panel_matches_and_sorts_its_runs_on_postgresql(seeded, by):
    """The run-time indexes order runs by tool and version only: with a cohort or a date filter the percentiles are
    percentile_disc over the filtered runs (on PostgreSQL), and the same nearest-rank values."""
    cohort_id = seeded[0].cohort_id
    start = timezone.localdate() - timedelta(days=20)
    if by == "cohort":
        filters = selectors.Filters(cohort_id=cohort_id)
        keep_job = lambda j: j.organization.cohort_id == cohort_id  # noqa: E731
    else:
        filters = selectors.Filters(date_from=start)
        keep_job = lambda j: timezone.localtime(j.queued_at).date() >= start  # noqa: E731
    with CaptureQueriesContext(connection) as queries:
        data = selectors.dashboard(filters)
    expected = direct(lambda j: (j.tool_slug, j.tool_version) if keep_job(j) else None, lambda r: None)
    for row in data["tools"]:
        assert_row_runs(row, expected[row.key])
    if connection.vendor == "postgresql":
        assert any("percentile_disc" in q["sql"] for q in queries.captured_queries)


def assert_row_runs(row, expected):
    assert (row.jobs, row.timed_runs) == (expected["jobs"], len(expected["durations"])), row.label
    assert row.p50 == nearest_rank(expected["durations"], 50)
    assert row.p95 == nearest_rank(expected["durations"], 95)


def test_on_postgresql_one_statement_per_table_and_the_query_count_is_flat(postgres_only, seeded):
    filters = selectors.Filters()
    labels = selectors.studio_labels(anonymise=False)
    with CaptureQueriesContext(connection) as small:
        selectors.run_panel(filters, labels)
    sql = [q["sql"] for q in small.captured_queries]
    assert sum('FROM "beta_job"' in s for s in sql) == 1, sql  # runs: one statement
    assert sum('FROM "beta_feedbackreport"' in s and "GROUPING SETS" in s for s in sql) == 1, sql
    assert not any("COUNT(DISTINCT" in s and "GROUPING SETS" not in s for s in sql)
    # Unfiltered, the run-time percentiles are read from the run-time indexes (ranks from the counts), not sorted.
    assert not any("percentile_disc" in s for s in sql)
    assert any("rank_95" in s and "OFFSET" in s for s in sql)
    for studio in seeded:  # ten times the runs: the same queries
        Job.objects.bulk_create([Job(organization=studio, tool_slug="dailies", tool_version="1.0.0",
                                     status="succeeded", started_at=timezone.now(), finished_at=timezone.now())
                                 for _ in range(140)])
    with CaptureQueriesContext(connection) as large:
        selectors.run_panel(filters, labels)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_filter_choices_read_no_jobs(seeded, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as queries:
        choices = selectors.filter_choices(selectors.Filters(version="0.9.0"))
    assert not any("beta_job" in q["sql"] for q in queries.captured_queries)
    assert "0.9.0" in choices["versions"]
    assert "dailies" in dict(choices["tools"])


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_runs_and_reports_either_side_of_midnight_sunday_count_in_their_own_weeks(settings, zone):
    """Weeks start on Monday 00:00 in the deployment's time zone (PostgreSQL bins UTC weeks with date_bin, other
    zones truncate local time): a run and a report a second either side of that midnight land in different weeks."""
    import zoneinfo
    from datetime import datetime

    settings.TIME_ZONE = zone
    tz = zoneinfo.ZoneInfo(zone)
    with timezone.override(tz):
        monday = datetime(2026, 11, 30, tzinfo=tz)  # a Monday, 00:00 local
        studio = OrganizationFactory()
        author = MembershipFactory(organization=studio).user
        for moment in (monday - timedelta(seconds=1), monday, monday + timedelta(days=7) - timedelta(seconds=1)):
            job = Job.objects.create(organization=studio, tool_slug="dailies", tool_version="1.0.0",
                                     status="succeeded", started_at=moment, finished_at=moment + timedelta(seconds=4))
            Job.objects.filter(pk=job.pk).update(queued_at=moment)
            FeedbackReport.objects.create(organization=studio, job=job, author=author, tool_slug="dailies",
                                          tool_version="1.0.0", status="new", overall_rating=4, revision=1,
                                          submitted_at=moment, text="ok")
        results_cache.invalidate()
        weeks = {row.key: (row.jobs, row.reports) for row in selectors.dashboard(selectors.Filters())["weeks"]}
    assert weeks == {(monday.date() - timedelta(days=7),): (1, 1), (monday.date(),): (2, 2)}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_jobs_statement_runs_on_a_second_connection_beside_the_feedback_one(
    postgres_only, seeded, monkeypatch
):
    """A request is not in a transaction: the jobs statement runs in the side thread, on its own connection, while the
    request's thread runs the feedback statement; the numbers are the same as a direct computation."""
    import threading

    from beta.results import aggregates

    ran_on = []
    real = aggregates._tuned_fetch

    def spy(sql, params):
        ran_on.append((threading.current_thread().name, connection.in_atomic_block))
        return real(sql, params)

    monkeypatch.setattr(aggregates, "_tuned_fetch", spy)
    assert not connection.in_atomic_block
    results_cache.invalidate()
    assert_panel(selectors.dashboard(selectors.Filters()))
    threads = sorted(name.split("_")[0] for name, _ in ran_on)
    assert threads == ["MainThread", "results-side"]
    aggregates.side_connection_close()
    results_cache.invalidate()
    assert_panel(selectors.dashboard(selectors.Filters()))  # the closed connection is opened again
    assert len(ran_on) == 4
