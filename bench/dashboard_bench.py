"""Results dashboard and asset library benchmark at size: the dashboard with 50,000 reports and 100,000 jobs
(uncached and cached), and the asset library with 50,000 assets of one studio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/dashboard_bench.py \
        [--reports 50000] [--jobs 100000] [--assets 50000] [--requests 20] [--no-vacuum]

A throwaway PostgreSQL database (or SQLite file without DATABASE_URL) and Redis as in bench/jobs_bench.py, whose
helpers this reuses; the programme's data is made by bench/feedback_bench.py's `make_programme` (each report on its own
run), and the runs beyond the reports are added without feedback. Pages through Django's test Client in this process
(middleware, view, template; no network), server time p50/p95 over --requests requests (query counts are
asserted in tests/beta/test_results*.py, not here).

  a. `GET /staff/results/` uncached: the dashboard's cache is invalidated before every request (as after a finished
     job), so every request recomputes every number and redraws the tables and charts.
  b. `GET /staff/results/` cached: the same page, its numbers and their HTML from the cache
     (RESULTS_DASHBOARD_CACHE_SECONDS); quotes, recent reports and filter choices are read live.
  c. `GET /assets/` (the library's first page), `?page=500` and `?kind=image`, as a member of a studio with --assets
     assets (a tenth of them deleted).
The machine's load average is printed with the results: the numbers move with it. To compare two versions of the code
on a shared machine, run this script from each checkout in turn, alternating (A, B, A, B), and compare runs next to
each other.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback_bench import make_programme, ms
from jobs_bench import pct, postgres_database, redis_server, setup_environment, sign_in


def add_jobs(studios, count: int) -> None:
    from django.utils import timezone

    from beta.models import Job

    now = timezone.now()
    for offset in range(0, count, 5000):
        Job.objects.bulk_create([
            Job(organization=studios[i % len(studios)][0], tool_slug=("dailies", "shot-detect")[i % 2],
                tool_version="1.0.0", status=("succeeded", "succeeded", "failed", "canceled")[i % 4],
                started_at=now - timedelta(minutes=i % 30000, seconds=40 + i % 50),
                finished_at=now - timedelta(minutes=i % 30000))
            for i in range(offset, min(count, offset + 5000))
        ])


def add_assets(organization, user, count: int) -> None:
    from assets.models import Asset

    for offset in range(0, count, 5000):
        Asset.objects.bulk_create([
            Asset(organization=organization, uploaded_by=user, kind=("video", "image", "audio")[i % 3],
                  original_filename=f"A{i:06d}_plate.mov", size_bytes=1024,
                  status="deleted" if i % 10 == 0 else "ready",
                  previews="none", storage_key=f"orgs/{organization.uuid}/assets/{i}/original")
            for i in range(offset, min(count, offset + 5000))
        ])


def timed(client, url: str, requests: int, before=None) -> list[float]:
    """Server time of `requests` requests after a warm one (query counts are asserted in the tests instead)."""
    assert client.get(url).status_code == 200, url  # warm
    times = []
    for _ in range(requests):
        if before:
            before()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--assets", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--no-vacuum", dest="vacuum", action="store_false",
                        help="ANALYZE only after loading (no VACUUM): tables as a bulk load leaves them")
    args = parser.parse_args()

    with ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gl-bench-dashboard-")))
        if os.environ.get("DATABASE_URL"):
            database_url, db_label = postgres_database(os.environ["DATABASE_URL"], stack)
        else:
            database_url, db_label = f"sqlite:///{var_dir / 'bench.sqlite3'}", "SQLite (throwaway file)"
        redis_url, redis_label = redis_server(stack)
        setup_environment(var_dir, database_url, redis_url)

        from django.conf import settings
        from django.db import connection
        from django.test import Client

        from beta.results import cache as results_cache

        settings.DEBUG = False
        print(f"Database: {db_label}; {redis_label}; Python {platform.python_version()}; {os.cpu_count()} CPUs")
        started = time.perf_counter()
        studios, staff = make_programme(args.reports)
        add_jobs(studios, max(0, args.jobs - args.reports))
        studio, member = studios[0]
        add_assets(studio, member, args.assets)
        if connection.vendor == "postgresql":
            # VACUUM ANALYZE, as autovacuum would soon after a bulk load in production (it is on by default there;
            # the bench must not depend on whether this server runs it): statistics for the planner, and the
            # visibility map that lets index-only scans skip the table.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE" if args.vacuum else "ANALYZE")
        print(f"Made {args.reports:,} reports, {args.jobs:,} jobs, {args.assets:,} assets in "
              f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()}")

        staff_client, member_client = Client(), Client()
        sign_in(staff_client, staff)
        sign_in(member_client, member)
        pages = [
            ("dashboard, uncached", staff_client, "/staff/results/", results_cache.invalidate),
            ("dashboard, cached", staff_client, "/staff/results/", None),
            ("dashboard, one tool version, uncached", staff_client, "/staff/results/?tool=dailies&version=1.0.0",
             results_cache.invalidate),
            ("asset library, first page", member_client, "/assets/", None),
            ("asset library, page 500", member_client, "/assets/?page=500", None),
            ("asset library, ?kind=image", member_client, "/assets/?kind=image", None),
        ]
        print("\n| page | server time | load average (1 min) |\n| --- | --- | --- |")
        for label, client, url, before in pages:
            times = timed(client, url, args.requests, before)
            print(f"| {label} | p50 {ms(statistics.median(times))}, p95 {ms(pct(times, 95))} "
                  f"| {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
