"""What one deployment holds: gunicorn (4 workers) and 2 Celery worker processes under Locust, stepping users up.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/load/run.py [--steps 5,10,20,40] [--step-seconds 30]

Everything on loopback: a throwaway PostgreSQL database (bench/jobs_bench.py's helpers; SQLite without
DATABASE_URL), Redis from REDIS_URL (else an embedded one), local file storage. Seeds a studio (an owner with a
session and an API key, ready documents, 60 finished and queued `noop` jobs) and a reviewer with MFA, starts the
portal under gunicorn (DEBUG off) and two `celery worker --concurrency 1` processes on every queue, then runs
`locust --headless` (bench/load/locustfile.py) once per step for --step-seconds each. Per step: requests/s, p50
and p95 over all requests, failures, the slowest request kind, CPU of gunicorn, the Celery workers, PostgreSQL and
Locust itself, and the 1-minute load average. Stops everything at the end (or on Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import psutil

LOAD_DIR = Path(__file__).resolve().parent
ROOT = LOAD_DIR.parent.parent
sys.path.insert(0, str(LOAD_DIR.parent))

from api_bench import Gunicorn  # noqa: E402
from jobs_bench import make_studio, sign_in, throwaway_services  # noqa: E402


def seed(var_dir: Path) -> dict:
    from allauth.mfa.totp.internal.auth import TOTP
    from django.test import Client

    from api.services import api_key_create
    from beta.jobs.submit import job_submit
    from portal.models import User

    studio, owner, asset = make_studio(var_dir)
    reviewer = User.objects.create_user("reviewer@bench.example", "x" * 20, full_name="Bench Reviewer",
                                        staff_role=User.StaffRole.REVIEWER)
    TOTP.activate(reviewer, "JBSWY3DPEHPK3PXP")
    sessions = {}
    for name, user in (("partner", owner), ("reviewer", reviewer)):
        client = Client()
        sign_in(client, user)
        sessions[name] = client.cookies["sessionid"].value
    key = api_key_create(actor=owner, organization=studio, name="load", scopes=["read", "write"]).raw_key
    jobs = [job_submit(actor=owner, tool_slug="noop", asset_ids=[asset.pk]).pk for _ in range(60)]
    return {"LOAD_PARTNER_SESSION": sessions["partner"], "LOAD_REVIEWER_SESSION": sessions["reviewer"],
            "LOAD_API_KEY": key, "LOAD_ASSET_IDS": json.dumps([asset.pk]), "LOAD_JOB_IDS": json.dumps(jobs)}


def start_workers(var_dir: Path, stack: ExitStack) -> list[subprocess.Popen]:
    workers = []
    for number in (1, 2):
        log = (var_dir / f"worker{number}.log").open("wb")
        stack.callback(log.close)
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,cpu,gpu,external",
             "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
             "--hostname", f"load{number}@%h"],
            cwd=ROOT, env={**os.environ, "DATABASE_CONN_MAX_AGE": "60"}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(stop, proc)
        workers.append(proc)
    return workers


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tree(proc_pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(proc_pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds per process id (compared per pid: PostgreSQL backends come and go)."""
    found = {}
    for p in processes:
        try:
            times = p.cpu_times()
            found[p.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]


def run_step(users: int, seconds: int, url: str, env: dict, out_dir: Path, groups: dict) -> dict:
    prefix = out_dir / f"step{users}"
    before = {name: cpu_seconds(get()) for name, get in groups.items()}
    locust = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOAD_DIR / "locustfile.py"), "--headless", "--host", url,
         "-u", str(users), "-r", str(max(users // 5, 1)), "-t", f"{seconds}s", "--csv", str(prefix),
         "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=(out_dir / f"locust{users}.log").open("wb"),
    )
    locust_cpu, started = 0.0, time.monotonic()
    while locust.poll() is None:
        locust_cpu = max(locust_cpu, sum(cpu_seconds(tree(locust.pid)).values()))
        time.sleep(1)
    elapsed = time.monotonic() - started
    load = os.getloadavg()[0]
    cpu = {name: cpu_delta(before[name], cpu_seconds(get())) / elapsed * 100 for name, get in groups.items()}
    cpu["locust"] = locust_cpu / elapsed * 100
    with open(f"{prefix}_stats.csv") as fh:
        rows = list(csv.DictReader(fh))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    kinds = [r for r in rows if r["Name"] != "Aggregated"]
    slowest = max(kinds, key=lambda r: float(r["95%"] or 0))
    return {"users": users, "rps": float(total["Requests/s"]), "p50": float(total["50%"]),
            "p95": float(total["95%"]), "requests": int(total["Request Count"]),
            "failures": int(total["Failure Count"]), "slowest": f"{slowest['Name']} p95 {slowest['95%']} ms",
            "cpu": cpu, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="5,10,20,40", help="users per step (5,10,20,40)")
    parser.add_argument("--step-seconds", type=int, default=30, help="seconds per step (30)")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    results = []
    with ExitStack() as stack:
        var_dir, database, redis = throwaway_services(stack, "gl-load-")
        os.environ.update({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                           "API_THROTTLE_KEY_RATE": "1000000/min", "API_THROTTLE_USER_RATE": "1000000/min"})
        env = seed(var_dir)
        server = Gunicorn(workers=4, log_dir=var_dir)
        stack.callback(server.stop)
        workers = start_workers(var_dir, stack)
        time.sleep(5)
        groups = {"gunicorn": lambda: tree(server.proc.pid),
                  "celery": lambda: [p for w in workers for p in tree(w.pid)],
                  "postgres": postgres_processes}
        for users in steps:
            results.append(run_step(users, args.step_seconds, server.url, env, var_dir, groups))
            r = results[-1]
            print(f"{users} users: {r['rps']:.1f} req/s, p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
                  f"{r['failures']} failures; slowest {r['slowest']}; CPU % "
                  + ", ".join(f"{k} {v:.0f}" for k, v in r["cpu"].items()) + f"; load {r['load']:.2f}", flush=True)
        from beta.models import Job

        finished = Job.objects.filter(status="succeeded").count()
    held = [r for r in results if r["p95"] < 300 and r["failures"] == 0]
    print()
    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; {database}; {redis}; "
          f"steps {args.steps} x {args.step_seconds} s; {finished} noop jobs succeeded")
    print("| users | req/s | p50 ms | p95 ms | failures | slowest "
          "| CPU % (gunicorn / celery / postgres / locust) | load 1m |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        c = r["cpu"]
        print(f"| {r['users']} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['failures']} | {r['slowest']} | "
              f"{c['gunicorn']:.0f} / {c['celery']:.0f} / {c['postgres']:.0f} / {c['locust']:.0f} | {r['load']:.2f} |")
    print(f"\nHighest step with p95 < 300 ms and no errors: {held[-1]['users'] if held else 'none'} users")


if __name__ == "__main__":
    main()
