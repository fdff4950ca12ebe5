"""Greenlight's job pipeline against bare Celery, side by side in one run: what the pipeline costs on top of Celery.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/pipeline_vs_celery.py \
        [--rounds 2] [--idle 60] [--drain 200]

Database and Redis as in bench/jobs_bench.py (whose helpers this uses): a throwaway PostgreSQL database on the
server DATABASE_URL names (required here), created, migrated and dropped; Redis from REDIS_URL (a redis:// URL; give
the bench a db number of its own: nothing is flushed there but the bench's own keys, and the cache uses the next db).

Both sides run real worker processes on the same Redis, the same way: prefork, 2 processes, acks_late, prefetch 1,
JSON, results ignored. Bare Celery is `bench/bare_celery.py` (one no-op task that records its start and end times in
a Redis list) on queue `bare`; Greenlight is `celery -A config worker -Q cpu` running `beta.tasks.run_job`. The two
alternate, A then B, `--rounds` times (at least 2), and each round measures, for each side:
  - submit: one at a time, each after the previous has finished, with the worker idle: the wall time of
    `noop.apply_async(...)` (bare) and of `job_submit(...)` for a `ping` job outside any transaction (Greenlight:
    checks, quota counter, insert, and the on_commit broker send);
  - queue-to-start, the same jobs: task start minus the moment before the send (bare), `started_at - queued_at`
    (Greenlight: from the row's insert to the claim);
  - drain: --drain jobs queued with no worker, then a worker started: jobs/s from the first start to the last finish,
    for bare no-ops and for Greenlight `ping` (no input, no output: the pipeline alone) and `noop` (fetch the input,
    write, sign and store one output);
  - worker overhead per job: Celery's own "succeeded in" time of each task in the drain (the whole task body:
    for Greenlight the claim, the run, the finish and its after-commit work).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from jobs_bench import ROOT, Worker, make_studio, pct, throwaway_services  # noqa: E402 - the shared helpers

EVENTS_KEY = f"bare-bench:{os.getpid()}:events"
SUCCEEDED = re.compile(rb"Task (?:bare\.noop|beta\.tasks\.run_job)\[[^\]]+\] succeeded in ([0-9.e-]+)s")
TARGETS = {"submit": 5.0, "start": 3.0, "drain": 0.5, "overhead_ms": 8.0}


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__().replace("'", "")


# --- Workers ---------------------------------------------------------------------------------------------------------
class BareWorker:
    """The bare Celery app's worker: the same pool, concurrency and options as Greenlight's."""

    def __init__(self, name: str, log_dir: Path, broker_url: str):
        self.log = log_dir / f"{name}.log"
        env = {**os.environ, "BARE_BROKER_URL": broker_url, "BARE_EVENTS_KEY": EVENTS_KEY}
        env.pop("DJANGO_SETTINGS_MODULE", None)  # bare: no Django (Celery's Django fix-up would load it)
        command = [
            sys.executable, "-m", "celery", "-A", "bare_celery", "worker", "-Q", "bare", "--pool", "prefork",
            "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"{name}-{os.getpid()}@%h",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command, cwd=BENCH_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while b"ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the bare worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def task_seconds(log: Path) -> list[float]:
    """Celery's "succeeded in" time of every task the worker ran."""
    return [float(m.group(1)) for m in SUCCEEDED.finditer(log.read_bytes())]


# --- Bare Celery -----------------------------------------------------------------------------------------------------
def bare_idle(client, log_dir: Path, broker_url: str, label: str, count: int, warmup: int = 5) -> dict:
    from bare_celery import noop

    worker = BareWorker(f"bare-idle-{label}", log_dir, broker_url)
    submits, starts = [], []
    try:
        for index in range(warmup + count):
            client.delete(EVENTS_KEY)
            sent_at = time.time()
            started = time.perf_counter()
            noop.apply_async(args=(f"{label}-{index}",), queue="bare")
            elapsed = time.perf_counter() - started
            popped = client.blpop([EVENTS_KEY], timeout=30)
            if popped is None:
                raise SystemExit("a bare task did not run within 30 s")
            _, task_started, _ = json.loads(popped[1])
            if index >= warmup:
                submits.append(elapsed)
                starts.append(task_started - sent_at)
            time.sleep(0.05)  # the worker acknowledges and is idle again, as on the Greenlight side
    finally:
        worker.stop()
    return {"submit": submits, "start": starts}


def bare_drain(client, log_dir: Path, broker_url: str, label: str, count: int) -> dict:
    from bare_celery import noop

    client.delete(EVENTS_KEY)
    for index in range(count):
        noop.apply_async(args=(f"{label}-{index}",), queue="bare")
    worker = BareWorker(f"bare-drain-{label}", log_dir, broker_url)
    try:
        deadline = time.monotonic() + 60 + count
        while client.llen(EVENTS_KEY) < count:
            if time.monotonic() > deadline:
                raise SystemExit("the bare drain did not finish")
            time.sleep(0.02)
    finally:
        worker.stop()
    events = [json.loads(raw) for raw in client.lrange(EVENTS_KEY, 0, -1)]
    span = max(e[2] for e in events) - min(e[1] for e in events)
    return {"per_second": count / span, "task": task_seconds(worker.log)}


# --- Greenlight ------------------------------------------------------------------------------------------------------
def submit(user, asset, tool: str):
    from beta.jobs.submit import job_submit

    return job_submit(actor=user, tool_slug=tool, asset_ids=[asset.pk] if tool == "noop" else [])


def wait_finished(job_ids: list[int], timeout: float, interval: float) -> None:
    from beta.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk__in=job_ids, status__in=Job.FINISHED).count() < len(job_ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"jobs did not finish within {timeout:.0f} s")
        time.sleep(interval)
    bad = Job.objects.filter(pk__in=job_ids).exclude(status=Job.Status.SUCCEEDED).first()
    if bad is not None:
        raise SystemExit(f"job {bad.pk} ({bad.tool_slug}) {bad.status}: {bad.error}\n{bad.log}")


def greenlight_idle(user, asset, log_dir: Path, label: str, count: int, warmup: int = 5) -> dict:
    from beta.models import Job

    worker = Worker(f"gl-idle-{label}", 2, log_dir)
    submits, job_ids = [], []
    try:
        for index in range(warmup + count):
            started = time.perf_counter()
            job = submit(user, asset, "ping")
            elapsed = time.perf_counter() - started
            wait_finished([job.pk], timeout=30, interval=0.002)
            if index >= warmup:
                submits.append(elapsed)
                job_ids.append(job.pk)
            time.sleep(0.05)
    finally:
        worker.stop()
    jobs = Job.objects.filter(pk__in=job_ids)
    return {"submit": submits, "start": [(j.started_at - j.queued_at).total_seconds() for j in jobs]}


def greenlight_drain(user, asset, log_dir: Path, label: str, tool: str, count: int) -> dict:
    from django.db.models import Max, Min

    from beta.models import Job

    job_ids = [submit(user, asset, tool).pk for _ in range(count)]
    worker = Worker(f"gl-drain-{tool}-{label}", 2, log_dir)
    try:
        wait_finished(job_ids, timeout=60 + count * 2, interval=0.05)
    finally:
        worker.stop()
    span = Job.objects.filter(pk__in=job_ids).aggregate(first=Min("started_at"), last=Max("finished_at"))
    return {"per_second": count / (span["last"] - span["first"]).total_seconds(), "task": task_seconds(worker.log)}


# --- The run ---------------------------------------------------------------------------------------------------------
def run(args, var_dir: Path) -> dict:
    import redis
    from django.conf import settings

    broker_url = settings.CELERY_BROKER_URL
    if not broker_url.startswith("redis://"):
        raise SystemExit("set REDIS_URL to a redis:// URL (the bare app's task writes to it)")
    os.environ.update({"BARE_BROKER_URL": broker_url, "BARE_EVENTS_KEY": EVENTS_KEY})  # for bare_celery here too
    client = redis.Redis.from_url(broker_url)
    _studio, user, asset = make_studio(var_dir)
    log_dir = var_dir / "logs"
    log_dir.mkdir()
    results: dict = {"bare": [], "greenlight": []}
    try:
        for round_number in range(1, args.rounds + 1):
            label = f"r{round_number}"
            print(f"round {round_number}: bare Celery (load {loadavg()})", flush=True)
            results["bare"].append({
                **bare_idle(client, log_dir, broker_url, label, args.idle),
                "drain": bare_drain(client, log_dir, broker_url, label, args.drain),
            })
            print(f"round {round_number}: Greenlight (load {loadavg()})", flush=True)
            results["greenlight"].append({
                **greenlight_idle(user, asset, log_dir, label, args.idle),
                "drain": greenlight_drain(user, asset, log_dir, label, "ping", args.drain),
                "drain_noop": greenlight_drain(user, asset, log_dir, label, "noop", args.drain),
            })
    finally:
        client.delete(EVENTS_KEY)
        client.close()
    return results


def pooled(rounds: list[dict], key: str, sub: str | None = None) -> list[float]:
    return [v for r in rounds for v in (r[key][sub] if sub else r[key])]


def report(results: dict) -> list[tuple[str, str, str, str, str]]:
    bare, gl = results["bare"], results["greenlight"]
    ms = lambda s: f"{s * 1000:.2f} ms"  # noqa: E731
    rates = lambda rounds, key: [r[key]["per_second"] for r in rounds]  # noqa: E731
    rows = []
    b, g = pct(pooled(bare, "submit"), 95), pct(pooled(gl, "submit"), 95)
    rows.append(("submit p95", ms(b), ms(g), f"{g / b:.1f}x", f"≤ {TARGETS['submit']:g}x"))
    b, g = statistics.median(pooled(bare, "start")), statistics.median(pooled(gl, "start"))
    rows.append(("queue-to-start p50", ms(b), ms(g), f"{g / b:.1f}x", f"≤ {TARGETS['start']:g}x"))
    b, g = pct(pooled(bare, "start"), 95), pct(pooled(gl, "start"), 95)
    rows.append(("queue-to-start p95", ms(b), ms(g), f"{g / b:.1f}x", "—"))
    b, g = statistics.mean(rates(bare, "drain")), statistics.mean(rates(gl, "drain"))
    each = lambda values: " / ".join(f"{v:.0f}" for v in values)  # noqa: E731
    rows.append(("drain, ping (jobs/s; each round)", f"{b:.0f} ({each(rates(bare, 'drain'))})",
                 f"{g:.0f} ({each(rates(gl, 'drain'))})", f"{g / b:.0%}", f"≥ {TARGETS['drain']:.0%}"))
    n = statistics.mean(rates(gl, "drain_noop"))
    rows.append(("drain, noop (jobs/s; each round)", f"{b:.0f} (bare no-op)",
                 f"{n:.0f} ({each(rates(gl, 'drain_noop'))})", f"{n / b:.0%}", "—"))
    b, g = statistics.median(pooled(bare, "drain", "task")), statistics.median(pooled(gl, "drain", "task"))
    rows.append(("worker time per job, p50 (ping)", ms(b), ms(g), f"+{(g - b) * 1000:.2f} ms",
                 f"≤ {TARGETS['overhead_ms']:g} ms"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds, at least 2 (2)")
    parser.add_argument("--idle", type=int, default=60, help="jobs submitted one at a time per side and round (60)")
    parser.add_argument("--drain", type=int, default=200, help="jobs per drain (200)")
    args = parser.parse_args()
    if args.rounds < 2:
        raise SystemExit("--rounds must be at least 2: the sides alternate")
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a throwaway database is made on it)")
    load_before = loadavg()
    with ExitStack() as stack:
        var_dir, database, redis_label = throwaway_services(stack, "gl-pipe-bench-")
        started = time.monotonic()
        rows = report(run(args, var_dir))
        took = time.monotonic() - started

    import django
    from celery import __version__ as celery_version

    print()
    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; load before {load_before}, after {loadavg()}; "
          f"Python {platform.python_version()}, Django {django.get_version()}, Celery {celery_version}; "
          f"{database}; {redis_label}; took {took:.0f} s")
    print(f"`.venv/bin/python bench/pipeline_vs_celery.py --rounds {args.rounds} --idle {args.idle} "
          f"--drain {args.drain}`")
    print()
    print("| measurement | bare Celery | Greenlight | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
