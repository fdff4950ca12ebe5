"""Pipeline API benchmark: job creation through the API with 4 concurrent clients, and the job list with 10,000 jobs.

    .venv/bin/python bench/api_bench.py [--jobs 400] [--clients 4] [--page-jobs 10000] [--page-requests 30]

Database and Redis as in bench/jobs_bench.py (whose helpers this uses): with DATABASE_URL (PostgreSQL) a throwaway
database on that server, created, migrated and dropped here; otherwise a throwaway SQLite file. REDIS_URL if set,
else an embedded Redis. Local file storage in a temporary folder. No worker runs: the jobs' broker messages and the
jobs are removed after the run.

  a. create: `POST /api/v1/jobs/` with a read-and-write API key, the `noop` tool on one ready document, over real
     HTTP to gunicorn (4 sync workers, DEBUG off, as in production) from --clients threads, each with its own
     keep-alive connection, --jobs requests in all (after a warm-up). Each request authenticates the key (hash
     lookup), checks scope and both rate limits (Redis), submits (quota under the studio's row lock, the job, its
     input, the dispatch to the broker after commit) and answers the job. Latency per request (p50/p95/max) and
     requests per second from the first send to the last answer. Measured without and with an Idempotency-Key (a
     new key per request: the API then also locks the studio row while it looks the key up).
     The same request is then timed from one client in this process (Django's test Client: server time, no HTTP).
  b. list: `GET /api/v1/jobs/` (first page of 25, cursor pagination) with --page-jobs finished jobs of the studio in
     the database, in this process through Django's test Client (server time: middleware, authentication, view,
     serializers; no network): queries per request (the same at 300 jobs and at 10,000 means no N+1) and p50/p95;
     also a filtered list (status and tool) and the page after following three `next` cursors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from jobs_bench import (  # noqa: E402 - the shared helpers of the jobs benchmark
    add_history,
    make_studio,
    print_rows,
    remove_unrun,
    spread,
    throwaway_services,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The portal under gunicorn, as in production (DEBUG off), on a free loopback port."""

    def __init__(self, workers: int, log_dir: Path):
        self.port = free_port()
        self.log = log_dir / "gunicorn.log"
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "API_THROTTLE_KEY_RATE": "1000000/min",
            "API_THROTTLE_USER_RATE": "1000000/min",
        }
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(workers), "--bind",
                   f"127.0.0.1:{self.port}", "--worker-class", "sync", "--keep-alive", "30"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def measure_create(base_url: str, raw_key: str, asset_id: int, *, total: int, clients: int, idempotent: bool) -> dict:
    """`total` job creations from `clients` threads, each on its own keep-alive connection (http.client)."""
    body = json.dumps({"tool": "noop", "inputs": [asset_id]}).encode()
    host, port = base_url.removeprefix("http://").split(":")
    per_client = total // clients
    latencies: list[float] = []
    job_ids: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, ids = [], []

        def post() -> None:
            headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
            if idempotent:
                headers["Idempotency-Key"] = secrets.token_hex(16)
            started = time.perf_counter()
            connection.request("POST", "/api/v1/jobs/", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 201:
                errors.append(f"{response.status} {data[:300]!r}")
            else:
                ids.append(json.loads(data)["id"])

        for _ in range(3):  # warm this connection and the worker behind it
            post()
        mine.clear()
        barrier.wait()
        for _ in range(per_client):
            post()
        connection.close()
        with lock:
            latencies.extend(mine)
            job_ids.extend(ids)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return {"latencies": latencies, "rps": len(latencies) / elapsed, "count": len(latencies)}


def measure_list(raw_key: str, path: str, requests: int) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    for _ in range(2):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.content[:300]!r}")
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return {"queries": len(captured), "times": times, "json": response.json(),
            "sql": [q["sql"] for q in captured.captured_queries]}


def run(args, var_dir: Path, stack: ExitStack) -> list[tuple[str, str, str]]:
    from django.conf import settings

    from api.services import api_key_create
    from beta.models import Job

    settings.API_THROTTLE_KEY_RATE = settings.API_THROTTLE_USER_RATE = "1000000/min"
    studio, user, asset = make_studio(var_dir)
    raw_key = api_key_create(actor=user, organization=studio, name="bench", scopes=["read", "write"]).raw_key
    rows = []

    server = Gunicorn(workers=4, log_dir=var_dir)
    stack.callback(server.stop)
    for idempotent in (False, True):
        before = set(Job.objects.values_list("pk", flat=True))
        result = measure_create(server.url, raw_key, asset.pk, total=args.jobs, clients=args.clients,
                                idempotent=idempotent)
        label = "with a new Idempotency-Key each" if idempotent else "no Idempotency-Key"
        rows.append((
            f"a. `POST /api/v1/jobs/`, {args.clients} concurrent clients, {result['count']} requests, {label}",
            f"{spread(result['latencies'])}; **{result['rps']:.0f} req/s**",
            "no target for HTTP (enqueue alone: p95 < 5 ms, see Jobs)",
        ))
        remove_unrun(list(set(Job.objects.values_list("pk", flat=True)) - before))
    server.stop()

    # The same request from one client in this process (Django's test Client, no HTTP, DEBUG on): server time alone.
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    body = {"tool": "noop", "inputs": [asset.pk]}
    before = set(Job.objects.values_list("pk", flat=True))
    times = []
    for i in range(args.jobs // 4 + 5):
        started = time.perf_counter()
        response = client.post("/api/v1/jobs/", body, content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"POST /api/v1/jobs/: {response.status_code} {response.content[:300]!r}")
        if i >= 5:
            times.append(time.perf_counter() - started)
    rows.append((f"a. the same, one client in this process (server time, no HTTP), {len(times)} requests",
                 spread(times), "—"))
    remove_unrun(list(set(Job.objects.values_list("pk", flat=True)) - before))

    few = max(args.page_jobs // 30, 300)
    add_history(studio, user, asset, few)
    small = measure_list(raw_key, "/api/v1/jobs/", args.page_requests)
    add_history(studio, user, asset, args.page_jobs - few)
    total = Job.objects.filter(organization=studio).count()
    big = measure_list(raw_key, "/api/v1/jobs/", args.page_requests)
    filtered = measure_list(raw_key, "/api/v1/jobs/?status=succeeded&tool=dailies", args.page_requests)
    path = "/api/v1/jobs/"
    for _ in range(3):
        path = measure_list(raw_key, path, 1)["json"]["next"].removeprefix("http://testserver")
    deep = measure_list(raw_key, path, args.page_requests)
    if args.show_sql:
        print("\n".join(big["sql"]))
    rows.append((
        f"b. `GET /api/v1/jobs/` (25 a page), {total:,} jobs",
        f"{spread(big['times'])}; {big['queries']} queries (also {small['queries']} at {few} jobs)",
        "p95 < 150 ms; queries do not grow with rows",
    ))
    rows.append((f"b. filtered `?status=succeeded&tool=dailies`, {total:,} jobs",
                 f"{spread(filtered['times'])}; {filtered['queries']} queries", "p95 < 150 ms"))
    rows.append((f"b. the 4th page (three `next` cursors on), {total:,} jobs",
                 f"{spread(deep['times'])}; {deep['queries']} queries", "p95 < 150 ms"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=400, help="job creations per run (400)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--page-jobs", type=int, default=10_000, help="jobs in the database for the list (10,000)")
    parser.add_argument("--page-requests", type=int, default=30, help="timed requests per list (30)")
    parser.add_argument("--show-sql", action="store_true", help="print the job list's queries")
    args = parser.parse_args()

    with ExitStack() as stack:
        var_dir, database, redis = throwaway_services(stack, "gl-api-bench-")
        started = time.monotonic()
        rows = run(args, var_dir, stack)
        took = time.monotonic() - started

    import django
    import rest_framework

    print()
    print(
        f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Django {django.get_version()}, DRF {rest_framework.__version__}; {database}; {redis}; took {took:.0f} s"
    )
    print(f"`.venv/bin/python bench/api_bench.py --jobs {args.jobs} --clients {args.clients}`")
    print_rows(rows)


if __name__ == "__main__":
    main()
