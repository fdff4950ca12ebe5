"""The dashboard's jobs-and-feedback numbers on PostgreSQL: one statement per table.

Jobs and feedback are each counted per (tool, version, studio, week) cell with a hash aggregate, and the few cells
rolled up by GROUPING SETS ((tool, version), (studio), (week), ()), with conditional aggregates
(`COUNT(*) FILTER (WHERE ...)`) for the statuses, ratings and fit; cohorts are summed from their studios here (every
count is additive over studios: a run, and so its reports, belongs to one studio). Run-time percentiles are
`percentile_disc` in the database, over the succeeded runs only: the smallest value whose cumulative share is at least
p, which is the nearest-rank definition (`selectors.percentile`), so no run time is read into Python. Runs with an
hours estimate are the reports with one less the repeats of runs with several reports (see `_feedback_sql`), so no
`COUNT(DISTINCT job)` runs over every report.

Before (until this module was reworked for issue 15) one sort-based GroupAggregate per table did everything, and the
percentiles and `COUNT(DISTINCT job)` forbade hashing: 2-3 times slower at 100,000 runs (docs/benchmarks.md). The
sorts that remain (the percentiles, the repeats) get RESULTS_DASHBOARD_WORK_MEM for their transaction, so they stay
in memory.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import DateTimeField, F, Func
from django.db.models.functions import TruncWeek
from django.utils import timezone

from beta.models import FeedbackReport, Job
from beta.models.jobs import TIMED_RUN
from portal.models import Organization

SETS = "GROUPING SETS ((tool_slug, tool_version), (organization_id), (week), ())"
GROUPING = "GROUPING(tool_slug, tool_version, organization_id, week)"
# GROUPING() sets a bit for each column *not* grouped on (first column = highest bit).
BY_TOOL, BY_STUDIO, BY_WEEK, ALL = 0b0011, 0b1101, 0b1110, 0b1111

# Constants only: the filtered rows come from the ORM, with parameters (the base subquery appears twice in each
# statement, so its parameters are passed twice).
#
# Counts: first per (tool, version, studio, week) cell, hashed, then the few cells rolled up by GROUPING SETS (a
# sort-based GroupAggregate over every row was the slow part). Run times: percentile_disc over the succeeded runs only,
# ordered by the interval itself (EXTRACT(EPOCH ...) is numeric, and slower to sort); joined to the counts' tool and
# total rows.
JOBS_SQL = f"""
SELECT counts.*, COALESCE(runs.timed_runs, 0) AS timed_runs, runs.run_percentiles
FROM (SELECT {GROUPING} AS grouping, tool_slug, tool_version, organization_id, week,
             COALESCE(SUM(jobs), 0)::bigint AS jobs, COALESCE(SUM(succeeded), 0)::bigint AS succeeded,
             COALESCE(SUM(failed), 0)::bigint AS failed,
             COALESCE(SUM(canceled), 0)::bigint AS canceled
      FROM (SELECT tool_slug, tool_version, organization_id, week, COUNT(*) AS jobs,
                   COUNT(*) FILTER (WHERE status = %s) AS succeeded,
                   COUNT(*) FILTER (WHERE status = %s) AS failed,
                   COUNT(*) FILTER (WHERE status = %s) AS canceled
            FROM ({{base}}) AS base GROUP BY tool_slug, tool_version, organization_id, week) AS cells
      GROUP BY {SETS}) AS counts
LEFT JOIN (SELECT GROUPING(tool_slug, tool_version) AS whole, tool_slug, tool_version,
                  COUNT(finished_at - started_at) AS timed_runs,
                  percentile_disc(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY finished_at - started_at) AS run_percentiles
           FROM ({{base}}) AS base WHERE status = %s
           GROUP BY GROUPING SETS ((tool_slug, tool_version), ())) AS runs
  ON (counts.grouping = {BY_TOOL} AND runs.whole = 0 AND runs.tool_slug = counts.tool_slug
      AND runs.tool_version = counts.tool_version)
  OR (counts.grouping = {ALL} AND runs.whole = 3)
"""  # noqa: S608

# The same counts, and the run-time percentiles from index order instead of a sort (when only the tool and version
# are filtered on: the partial indexes `beta_job_run_time_by_tool` and `beta_job_run_time` order the succeeded runs
# with both timestamps by tool, version and run time, and by run time alone). The counts give each row its number of
# timed runs n; the nearest rank of p is ceil(p * n) in float8, as percentile_disc computes it; the value at that rank
# is read by walking the index from the nearer end (OFFSET rank - 1 ascending, or n - rank descending), so no run is
# sorted. Same values as JOBS_SQL (tests/beta/test_results_panel.py checks both against a direct computation).
INDEXED_JOBS_SQL = f"""
SELECT counts.*, CASE
    WHEN counts.timed_runs = 0 OR counts.grouping NOT IN ({BY_TOOL}, {ALL}) THEN NULL
    WHEN counts.grouping = {BY_TOOL} THEN ARRAY[
      (SELECT run_time FROM ({{runs}}) AS r
       WHERE r.tool_slug = counts.tool_slug AND r.tool_version = counts.tool_version
       ORDER BY run_time OFFSET counts.rank_50 - 1 LIMIT 1),
      (SELECT run_time FROM ({{runs}}) AS r
       WHERE r.tool_slug = counts.tool_slug AND r.tool_version = counts.tool_version
       ORDER BY run_time DESC OFFSET counts.timed_runs - counts.rank_95 LIMIT 1)]
    ELSE ARRAY[
      (SELECT run_time FROM ({{runs}}) AS r ORDER BY run_time OFFSET counts.rank_50 - 1 LIMIT 1),
      (SELECT run_time FROM ({{runs}}) AS r ORDER BY run_time DESC OFFSET counts.timed_runs - counts.rank_95 LIMIT 1)]
  END AS run_percentiles
FROM (SELECT *, CEIL(0.5::float8 * timed_runs)::bigint AS rank_50, CEIL(0.95::float8 * timed_runs)::bigint AS rank_95
      FROM (SELECT {GROUPING} AS grouping, tool_slug, tool_version, organization_id, week,
                   COALESCE(SUM(jobs), 0)::bigint AS jobs, COALESCE(SUM(succeeded), 0)::bigint AS succeeded,
                   COALESCE(SUM(failed), 0)::bigint AS failed, COALESCE(SUM(canceled), 0)::bigint AS canceled,
                   COALESCE(SUM(timed), 0)::bigint AS timed_runs
            FROM (SELECT tool_slug, tool_version, organization_id, week, COUNT(*) AS jobs,
                         COUNT(*) FILTER (WHERE status = %s) AS succeeded,
                         COUNT(*) FILTER (WHERE status = %s) AS failed,
                         COUNT(*) FILTER (WHERE status = %s) AS canceled,
                         COUNT(finished_at - started_at) FILTER (WHERE status = %s) AS timed
                  FROM ({{base}}) AS base GROUP BY tool_slug, tool_version, organization_id, week) AS cells
            GROUP BY {SETS}) AS rolled) AS counts
"""  # noqa: S608

KEYS = "tool_slug, tool_version, organization_id, week"


def _feedback_sql() -> str:
    """Reports per cell (hashed), rolled up by GROUPING SETS. Runs with an hours estimate are counted as reports with
    one, less the repeats: the extra reports of a run that has several (two people on one run), found among the runs
    with more than one report, which are few, so their COUNT(DISTINCT job) sorts little."""
    from beta.results.selectors import FIT_LABELS, RATING_FIELDS, RATINGS

    cells = ["COUNT(*) AS reports", "SUM(hours_saved) AS hours_sum", "COUNT(hours_saved) AS hours_reports"]
    totals = ["COALESCE(SUM(reports), 0)::bigint AS reports", "SUM(hours_sum) AS hours_sum",
              "COALESCE(SUM(hours_reports), 0)::bigint AS hours_reports"]
    for name, column in RATING_FIELDS.items():
        cells += [f"SUM({column}) AS {name}_sum", f"COUNT({column}) AS {name}_n"]
        totals += [f"COALESCE(SUM({name}_sum), 0)::bigint AS {name}_sum",
                   f"COALESCE(SUM({name}_n), 0)::bigint AS {name}_n"]
        cells += [f"COUNT(*) FILTER (WHERE {column} = {value}) AS {name}_{value}" for value in RATINGS]
        totals += [f"COALESCE(SUM({name}_{value}), 0)::bigint AS {name}_{value}" for value in RATINGS]
    # The fit values are the model's own choices (fixed identifiers), never user input.
    cells += [f"COUNT(*) FILTER (WHERE production_fit = '{value}') AS fit_{value}" for value in FIT_LABELS]
    totals += [f"COALESCE(SUM(fit_{value}), 0)::bigint AS fit_{value}" for value in FIT_LABELS]
    same = " AND ".join(f"repeats.{key} IS NOT DISTINCT FROM totals.{key}" for key in KEYS.split(", "))
    # Constants and the model's choices only, never user input.
    return (
        f"SELECT totals.*, totals.hours_reports - COALESCE(repeats.n, 0) AS hours_jobs FROM ("  # noqa: S608
        f"SELECT {GROUPING} AS grouping, {KEYS}, {', '.join(totals)} FROM ("
        f"SELECT {KEYS}, {', '.join(cells)} FROM ({{base}}) AS base GROUP BY {KEYS}) AS cells GROUP BY {SETS}"
        f") AS totals LEFT JOIN ("
        f"SELECT {GROUPING} AS grouping, {KEYS}, COUNT(*) - COUNT(DISTINCT job_id) AS n FROM ({{base}}) AS base "
        f"WHERE hours_saved IS NOT NULL AND job_id IN "
        f"(SELECT job_id FROM beta_feedbackreport GROUP BY job_id HAVING COUNT(*) > 1) GROUP BY {SETS}"
        f") AS repeats ON repeats.grouping = totals.grouping AND {same}"
    )


def supported() -> bool:
    return connection.vendor == "postgresql"


class _UtcWeek(Func):
    """The Monday 00:00 UTC that starts a moment's week, by PostgreSQL's `date_bin` (14+) on 7-day bins from a
    Monday: the value `TruncWeek` gives when the time zone is UTC, without making each timestamp local and truncating
    it (about a quarter of the jobs statement's time at 100,000 runs)."""

    template = "date_bin('7 days', %(expressions)s, TIMESTAMPTZ '2001-01-01 00:00:00+00')"
    output_field = DateTimeField()


def _week(date_field: str) -> Func:
    """The week a row counts in: `TruncWeek` in the current time zone (its cheaper equal when that is UTC)."""
    return _UtcWeek(date_field) if timezone.get_current_timezone_name() == "UTC" else TruncWeek(date_field)


def _base(queryset, date_field: str, *fields: str) -> tuple[str, tuple]:
    """The filtered rows (the selectors' own filters, so both paths count the same rows), only the columns needed."""
    query = queryset.annotate(week=_week(date_field)).values(*fields, "week").order_by()
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


def _runs_indexed(filters) -> bool:
    """Whether the run-time percentiles can come from the run-time indexes: they order runs by tool and version
    only, so not with a cohort or a date filter (those take percentile_disc over the filtered runs, JOBS_SQL)."""
    return not (filters.cohort_id or filters.date_from or filters.date_to)


def _runs(filters) -> tuple[str, tuple]:
    """The filtered timed runs (the index's own condition, TIMED_RUN) with their run time, as the index orders it."""
    query = (filters.jobs().filter(TIMED_RUN).annotate(run_time=F("finished_at") - F("started_at"))
             .values("tool_slug", "tool_version", "run_time").order_by())
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


def _fetch(sql: str, params: tuple) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _tuned_fetch(sql: str, params: tuple) -> list[dict]:
    """One statement in a transaction of its own with the dashboard's settings: RESULTS_DASHBOARD_WORK_MEM, so the
    sorts that remain stay in memory, and no JIT compilation (the run-time subqueries' estimated cost, counted for
    every rolled-up row, would pass jit_above_cost, and compiling takes longer than the statements run: 250 ms
    against 50)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)",
                       [settings.RESULTS_DASHBOARD_WORK_MEM])
        return _fetch(sql, params)


# --- The jobs statement beside the feedback one -----------------------------------------------------------------------
# The two statements read different tables and take about the same time, so outside a transaction the jobs one runs
# on a second connection, in one long-lived thread per process, while the request's thread runs the feedback one
# (docs/benchmarks.md). That thread keeps its connection as a request does (CONN_MAX_AGE and health checks:
# `close_old_connections` around each statement). Inside a transaction (a caller's, or a test's) both run on the
# caller's connection, which alone sees the transaction's writes.
_side: tuple[int, ThreadPoolExecutor] | None = None
_side_lock = threading.Lock()


def _side_thread() -> ThreadPoolExecutor:
    global _side
    with _side_lock:
        if _side is None or _side[0] != os.getpid():  # a forked process has no copy of its parent's thread
            _side = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="results-side"))
        return _side[1]


def _in_side_thread(sql: str, params: tuple) -> list[dict]:
    close_old_connections()
    try:
        return _tuned_fetch(sql, params)
    finally:
        close_old_connections()


def side_connection_close() -> None:
    """Close the side thread's database connection, if it has one (before the test database is dropped)."""
    if _side is not None and _side[0] == os.getpid():
        _side[1].submit(lambda: connection.close()).result()  # the side thread's own connection, looked up there


def _both(jobs: tuple[str, tuple], feedback: tuple[str, tuple]) -> tuple[list[dict], list[dict]]:
    """(jobs rows, feedback rows): side by side outside a transaction, one after the other inside one."""
    if connection.in_atomic_block:
        return _tuned_fetch(*jobs), _tuned_fetch(*feedback)
    running = _side_thread().submit(_in_side_thread, *jobs)
    feedback_rows = _tuned_fetch(*feedback)
    return running.result(), feedback_rows


def _grouped(filters) -> tuple[list[dict], list[dict]]:
    status = Job.Status
    jobs_base, jobs_params = _base(filters.jobs(), "queued_at", "tool_slug", "tool_version", "organization_id",
                                   "status", "started_at", "finished_at")
    reports_base, reports_params = _base(
        filters.feedback(FeedbackReport.objects.submitted()), "submitted_at", "tool_slug", "tool_version",
        "organization_id", "job_id", "hours_saved", "overall_rating", "quality_rating", "usefulness_rating",
        "production_fit",
    )
    if _runs_indexed(filters):
        runs, runs_params = _runs(filters)
        # The run subqueries come first in the text (the SELECT list), then the counts' constants and rows.
        jobs = (INDEXED_JOBS_SQL.format(base=jobs_base, runs=runs),
                (*runs_params * 4, status.SUCCEEDED, status.FAILED, status.CANCELED, status.SUCCEEDED, *jobs_params))
    else:
        jobs = (JOBS_SQL.format(base=jobs_base),
                (status.SUCCEEDED, status.FAILED, status.CANCELED, *jobs_params, *jobs_params, status.SUCCEEDED))
    return _both(jobs, (_feedback_sql().format(base=reports_base), reports_params * 2))


def _feedback_values(values: dict) -> dict:
    from beta.results.selectors import RATING_FIELDS

    for name in RATING_FIELDS:
        n = values[f"{name}_n"]
        values[f"avg_{name}"] = values[f"{name}_sum"] / n if n else None
    return values


def _run_times(row, values: dict) -> None:
    p50, p95 = values["run_percentiles"] or (None, None)  # intervals (timedelta), or none without timed runs
    row.set_run_times(values["timed_runs"], None if p50 is None else p50.total_seconds(),
                      None if p95 is None else p95.total_seconds())


def _cohorts(studio_rows: dict, rating_sums: dict, names: dict) -> dict:
    """Cohort rows as sums of their studios' rows (additive: a run and its reports belong to one studio); the mean
    ratings from the studios' rating sums and counts."""
    from beta.results.selectors import RATING_FIELDS, Row

    cohort_of = dict(Organization.objects.values_list("id", "cohort_id"))
    rows: dict[tuple, Row] = {}
    sums: dict[tuple, dict[str, list]] = {}
    for (studio_id,), studio in studio_rows.items():
        key = (cohort_of.get(studio_id),)
        row = rows.setdefault(key, Row(key=key, label=names.get(key[0], "No cohort")))
        for attr in ("jobs", "succeeded", "failed", "canceled", "reports", "hours_sum", "hours_reports",
                     "hours_jobs"):
            setattr(row, attr, getattr(row, attr) + getattr(studio, attr))
        for name, counts in studio.ratings.items():
            row.ratings[name] = [a + b for a, b in zip(row.ratings.get(name, [0] * 5), counts, strict=True)]
        for value, n in studio.fit.items():
            row.fit[value] = row.fit.get(value, 0) + n
        cohort_sums = sums.setdefault(key, {name: [0, 0] for name in RATING_FIELDS})
        for name, (total, n) in rating_sums.get(studio_id, {}).items():
            cohort_sums[name][0] += total
            cohort_sums[name][1] += n
    for key, row in rows.items():
        for name, (total, n) in sums[key].items():
            setattr(row, f"avg_{name}", total / n if n else None)
    return rows


def run_panel(filters, labels: dict[int, str]) -> dict:
    """Tools, cohorts, studios, weeks and the total from two grouped queries, plus the categories' one."""
    from beta import tools as catalogue
    from beta.results import selectors
    from beta.results.selectors import RATING_FIELDS, Row
    from portal.models import Cohort

    tool_names = {tool.slug: tool.name for tool in catalogue.all_tools()}
    jobs, feedback = _grouped(filters)
    tables: dict[int, dict[tuple, Row]] = {BY_TOOL: {}, BY_STUDIO: {}, BY_WEEK: {}, ALL: {}}

    def row_for(values: dict) -> Row:
        grouping, table = values["grouping"], tables[values["grouping"]]
        key: tuple[Any, ...]
        if grouping == BY_TOOL:
            key = (values["tool_slug"], values["tool_version"])
            label = f"{tool_names.get(key[0], key[0])} {key[1]}"
        elif grouping == BY_STUDIO:
            key = (values["organization_id"],)
            label = labels.get(key[0], "Studio")
        elif grouping == BY_WEEK:
            return selectors.week_row(table, values["week"])
        else:
            key, label = (), "All"
        return table.setdefault(key, Row(key=key, label=label))

    for values in jobs:
        row = row_for(values)
        row.add_jobs(values)
        if values["grouping"] in (BY_TOOL, ALL):
            _run_times(row, values)
    rating_sums: dict[int, dict[str, tuple]] = {}
    for values in feedback:
        row_for(values).add_feedback(_feedback_values(values))
        if values["grouping"] == BY_STUDIO:
            rating_sums[values["organization_id"]] = {
                name: (values[f"{name}_sum"] or 0, values[f"{name}_n"]) for name in RATING_FIELDS
            }
    cohorts = _cohorts(tables[BY_STUDIO], rating_sums, dict(Cohort.objects.values_list("id", "name")))
    total = tables[ALL].get((), Row(key=(), label="All"))
    if not total.ratings:
        total.ratings = {name: [0] * 5 for name in RATING_FIELDS}
    selectors.add_categories(filters, tables[BY_TOOL])
    selectors.add_tool_links(filters, tables[BY_TOOL])
    return {
        "total": total,
        "tools": [tables[BY_TOOL][key] for key in sorted(tables[BY_TOOL])],
        "cohorts": selectors.cohort_links(filters, cohorts),
        "studios": selectors.studio_links(filters, tables[BY_STUDIO]),
        "weeks": selectors.week_links(filters, tables[BY_WEEK]),
    }
