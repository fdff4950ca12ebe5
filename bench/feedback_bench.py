"""Feedback and results benchmark: the staff feedback inbox and the results dashboard with 50,000 reports, and the
streamed exports' rows per second and peak memory at 100,000 rows.

    .venv/bin/python bench/feedback_bench.py [--reports 50000] [--export-rows 100000] [--requests 20]

Database and Redis as in bench/jobs_bench.py (whose helpers this reuses): with DATABASE_URL set (PostgreSQL) a
throwaway database `greenlight_bench_<pid>` is created on that server and dropped at the end; without it, a
throwaway SQLite file. REDIS_URL if set, else an embedded Redis. Nothing else is touched.

What is measured (Django's test Client in this process: middleware, views, templates; no network):
  a. `GET /staff/feedback/` (the inbox) with --reports submitted reports over 6 studios, 3 tools and 26 weeks
     (categories on half, tags, notes and comments on some): the first page, filtered pages (tool, rating, category,
     status, a full-text search) and a deep page; server time p50/p95 over --requests requests each, and queries per
     request (the same at 1,000 reports and at --reports means no N+1).
  b. `GET /staff/results/` (the dashboard) with the same data: server time and queries.
  c. Exports of feedback (`dataset=feedback`, every column, categories and tags batched per 2,000 rows) with
     --export-rows reports: CSV and XLSX rows per second (wall time of the whole response, consumed chunk by chunk
     and thrown away), and peak Python memory (tracemalloc, in a separate run so tracing does not slow the timing)
     for one studio's sixth of the rows and for all --export-rows: flat memory means about the same peak.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs_bench import pct, postgres_database, redis_server, setup_environment, sign_in

TOOLS = [("dailies", "1.0.0"), ("shot-detect", "1.0.0"), ("dailies", "0.9.0")]
CATEGORIES = ["artefacts", "consistency", "speed", "controls", "ip_concerns", "other"]
WORDS = ["banding in the sky", "soft titles", "the proxy was quick", "timecode burn-in is right",
         "the watermark moved", "cuts matched the edit", "EDL imported cleanly", "thumbnails a frame early"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def make_programme(count: int, start: int = 0, studios=None):
    """`count` submitted reports on as many finished jobs, bulk-created in batches."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from beta.models import FeedbackCategory, FeedbackComment, FeedbackNote, FeedbackReport, FeedbackTag, Job
    from portal.models import Cohort, Membership, Organization, User

    now = timezone.now()
    if studios is None:
        cohort = Cohort.objects.create(name="Bench wave", opens_at=now - timedelta(days=200),
                                       closes_at=now + timedelta(days=30))
        studios = []
        for i in range(6):
            studio = Organization.objects.create(name=f"Bench Studio {i}", slug=f"bench-{i}", cohort=cohort)
            user = User.objects.create(email=f"member{i}@bench.test", password=make_password(None))
            Membership.objects.create(user=user, organization=studio, role="member")
            studios.append((studio, user))
        FeedbackTag.objects.bulk_create([FeedbackTag(name=n) for n in ("roadmap", "quality", "bug")])
    tags = list(FeedbackTag.objects.all())
    staff = User.objects.filter(email="reviewer@bench.test").first()
    if staff is None:  # staff must have MFA set up, or every staff page sends them to set it up
        from allauth.mfa.totp.internal.auth import TOTP

        staff = User.objects.create(email="reviewer@bench.test", staff_role="reviewer", password=make_password(None))
        TOTP.activate(staff, "JBSWY3DPEHPK3PXPBENCHSECRETABCDE")
    batch = 5000
    for offset in range(start, start + count, batch):
        size = min(batch, start + count - offset)
        jobs = []
        for i in range(offset, offset + size):
            studio, _ = studios[i % len(studios)]
            tool, version = TOOLS[i % len(TOOLS)]
            finished = now - timedelta(minutes=i % (26 * 7 * 24 * 60 // 10) * 10)
            jobs.append(Job(organization=studio, tool_slug=tool, tool_version=version,
                            status="succeeded" if i % 9 else "failed",
                            started_at=finished - timedelta(seconds=20 + i % 90), finished_at=finished))
        jobs = Job.objects.bulk_create(jobs)
        reports = FeedbackReport.objects.bulk_create([
            FeedbackReport(
                organization=job.organization, job=job, author=studios[(offset + k) % len(studios)][1],
                tool_slug=job.tool_slug, tool_version=job.tool_version, revision=1,
                status=("new", "triaged", "actioned", "closed")[(offset + k) % 4],
                overall_rating=1 + (offset + k) % 5, quality_rating=1 + (offset + k * 7) % 5,
                usefulness_rating=1 + (offset + k * 3) % 5, production_fit=("yes", "with_changes", "no")[k % 3],
                hours_saved=(k % 7) / 2,
                text=f"Run {offset + k}: {WORDS[k % len(WORDS)]}; {WORDS[(k * 5) % len(WORDS)]}.",
                submitted_at=job.finished_at + timedelta(hours=1),
            )
            for k, job in enumerate(jobs)
        ])
        # Categories on every other report (odd k), cycling through all six: indexing by (offset + k) alone would
        # only ever pick the odd-numbered ones, and `?category=speed` would measure an empty page.
        FeedbackCategory.objects.bulk_create([
            FeedbackCategory(report=r, category=CATEGORIES[(offset + k) // 2 % len(CATEGORIES)])
            for k, r in enumerate(reports) if k % 2
        ])
        through = FeedbackReport.tags.through
        through.objects.bulk_create([
            through(feedbackreport_id=r.pk, feedbacktag_id=tags[k % len(tags)].pk) for k, r in enumerate(reports)
            if k % 5 == 0
        ])
        FeedbackNote.objects.bulk_create([FeedbackNote(report=r, seconds=k % 30, text="here")
                                          for k, r in enumerate(reports) if k % 10 == 0])
        FeedbackComment.objects.bulk_create([FeedbackComment(report=r, author=staff, kind="reply", body="Thanks")
                                             for k, r in enumerate(reports) if k % 20 == 0])
    return studios, staff


def inbox_rows(html: bytes) -> int:
    """How many reports an inbox page lists (one tick box per row)."""
    return html.count(b'name="report" value=')


def time_page(client, url: str, requests: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm
    assert response.status_code == 200, (url, response.status_code)
    if url.startswith("/staff/feedback/"):  # a filter that matches nothing would time an empty page
        assert inbox_rows(response.content) > 0, f"{url} lists no reports: fix the generated data"
    connection.queries_log.clear()  # a full log (9,000 entries) would hide new queries from the count
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    count = len(queries.captured_queries)  # now: the next request clears the connection's query log
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return times, count


def consume(response) -> tuple[int, int]:
    """Read a streamed response chunk by chunk, keeping nothing: (bytes, chunks)."""
    size = chunks = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        chunks += 1
    return size, chunks


def export_run(client, fmt: str, limit_params: dict, *, trace: bool) -> dict:
    params = {"dataset": "feedback", "format": fmt, **limit_params}
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/staff/results/export/", params)
    first_byte = time.perf_counter() - started
    size, chunks = consume(response)
    elapsed = time.perf_counter() - started
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"type": type(response).__name__, "seconds": elapsed, "first_byte": first_byte, "bytes": size,
            "chunks": chunks, "peak": peak}


def print_pages(results) -> None:
    print("\n| page | server time | queries |\n| --- | --- | --- |")
    for label, timing, queries in results:
        print(f"| {label} | {timing} | {queries} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pages-only", action="store_true", help="measure the pages and skip the exports")
    args = parser.parse_args()

    with ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gl-bench-feedback-")))
        if os.environ.get("DATABASE_URL"):
            database_url, db_label = postgres_database(os.environ["DATABASE_URL"], stack)
        else:
            database_url, db_label = f"sqlite:///{var_dir / 'bench.sqlite3'}", "SQLite (throwaway file)"
        redis_url, redis_label = redis_server(stack)
        setup_environment(var_dir, database_url, redis_url)

        from django.conf import settings
        from django.db import connection
        from django.test import Client

        settings.DEBUG = False  # as in production: no query log growing through the run (counts use their own)

        print(f"Database: {db_label}; {redis_label}; Python {platform.python_version()}; {os.cpu_count()} CPUs")
        results = []

        started = time.perf_counter()
        studios, staff = make_programme(1000)
        client = Client()
        sign_in(client, staff)
        small = {}
        for label, url in [("inbox", "/staff/feedback/"), ("dashboard", "/staff/results/")]:
            _, small[label] = time_page(client, url, 2)
        make_programme(args.reports - 1000, start=1000, studios=studios)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"Made {args.reports:,} reports in {time.perf_counter() - started:.0f} s")

        pages = [
            ("inbox, first page", "/staff/feedback/"),
            ("inbox, ?tool=dailies&version=1.0.0", "/staff/feedback/?tool=dailies&version=1.0.0"),
            ("inbox, ?rating=5&status=new", "/staff/feedback/?rating=5&status=new"),
            ("inbox, ?category=speed", "/staff/feedback/?category=speed"),
            ("inbox, ?q=banding (full text)", "/staff/feedback/?q=banding"),
            ("inbox, page 100", "/staff/feedback/?page=100"),
            ("results dashboard", "/staff/results/"),
            ("results dashboard, one tool and version", "/staff/results/?tool=dailies&version=1.0.0"),
        ]
        for label, url in pages:
            times, queries = time_page(client, url, args.requests)
            kind = "dashboard" if "dashboard" in label else "inbox"
            results.append((label, f"p50 {ms(statistics.median(times))}, p95 {ms(pct(times, 95))}",
                            f"{small[kind]} → {queries}" if url in ("/staff/feedback/", "/staff/results/") else
                            str(queries)))
            print(f"{label:<45} {results[-1][1]:<32} queries {results[-1][2]}")

        if args.pages_only:
            print_pages(results)
            return
        # Exports: the small run is one studio's reports (a sixth of them, filtered the inbox's way), the large one
        # every report; flat memory shows as about the same peak for both.
        if args.export_rows > args.reports:
            make_programme(args.export_rows - args.reports, start=args.reports, studios=studios)
        from beta.models import FeedbackReport

        total = FeedbackReport.objects.submitted().count()
        small_params = {"studio": studios[0][0].pk, "tool": "dailies", "version": "1.0.0"}
        small_rows = FeedbackReport.objects.submitted().filter(organization=studios[0][0], tool_slug="dailies",
                                                                tool_version="1.0.0").count()
        export_lines = []
        for fmt in ("csv", "xlsx"):
            timed = export_run(client, fmt, {}, trace=False)
            traced_small = export_run(client, fmt, small_params, trace=True)
            traced_large = export_run(client, fmt, {}, trace=True)
            line = (fmt.upper(), timed["type"], f"{total:,}", f"{total / timed['seconds']:,.0f} rows/s",
                    f"{timed['seconds']:.1f} s", f"{timed['first_byte'] * 1000:.0f} ms",
                    f"{timed['bytes'] / 1e6:.1f} MB",
                    f"{traced_small['peak'] / 1e6:.1f} MB at {small_rows:,} rows",
                    f"{traced_large['peak'] / 1e6:.1f} MB at {total:,} rows")
            export_lines.append(line)
            print(" | ".join(line))

        print_pages(results)
        print("\n| export | response | rows | rows/s | total | first byte | size | peak memory (small) "
              "| peak (large) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for line in export_lines:
            print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main()
