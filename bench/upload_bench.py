"""Upload benchmark: the real multipart protocol in S3 mode, against moto's S3 server on loopback.

    .venv/bin/python bench/upload_bench.py [--gib 1] [--part-mib 16] [--concurrency 4] [--batch 50]

The portal calls (start, part-URL batches, complete) go through Django's test Client, in this process, against a
throwaway SQLite database under a temporary folder; the part PUTs go straight to moto's server with http.client
from a thread pool, as a browser's would go straight to S3. The data is made on the fly from one part-sized buffer.
Verification is worker work and is not run. moto runs in a child process (ThreadedMotoServer on a free loopback
port), so that its memory (it keeps every part, and joins them in memory) is reported apart from the portal's and
the client's. moto stands in for S3: MB/s measures the protocol and this client, not AWS.
"""

from __future__ import annotations

import argparse
import http.client
import math
import multiprocessing
import os
import platform
import resource
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024**2
GiB = 1024**3
MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # moto takes any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_moto(port: int, ready, stop) -> None:
    """In the child process: moto's S3 server until told to stop."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    ready.set()
    stop.wait()
    server.stop()


def setup_django(var_dir: Path) -> None:
    """The portal on a throwaway SQLite database under `var_dir`; nothing of the environment's services used."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["GREENLIGHT_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(var_dir / "media")
    os.environ["AWS_STORAGE_BUCKET_NAME"] = ""  # S3 mode is set in-process below, as the tests' s3_mode does
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    os.environ.setdefault("LOG_FORMAT", "text")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_owner():
    """A studio in an open cohort, and its owner."""
    from django.utils import timezone

    from portal.models import Cohort, Membership, Organization, User

    now = timezone.now()
    cohort = Cohort.objects.create(
        name="Bench wave", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30)
    )
    studio = Organization.objects.create(name="Bench Pictures", slug="bench-pictures", cohort=cohort)
    user = User.objects.create_user("owner@bench.example", secrets.token_urlsafe(16), full_name="Bench Owner")
    Membership.objects.create(user=user, organization=studio, role=Membership.Role.OWNER)
    return user


class CountingClient:
    """Django's test Client, counting every request to the portal."""

    def __init__(self, user):
        from django.test import Client

        self.client = Client()
        self.client.force_login(user)
        self.requests = 0

    def post(self, url: str, data: dict, expect: int = 200) -> dict:
        self.requests += 1
        response = self.client.post(url, data, content_type="application/json")
        if response.status_code != expect:
            raise SystemExit(f"POST {url}: {response.status_code} {response.content[:500]!r}")
        return response.json()


_local = threading.local()


def put_part(url: str, body: memoryview) -> str:
    """PUT one part straight to the store (a connection per thread, kept alive); returns its ETag."""
    parts = urlsplit(url)
    for attempt in (1, 2):
        connection = getattr(_local, "connection", None)
        if connection is None:
            connection = _local.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            connection.request(
                "PUT", f"{parts.path}?{parts.query}", body=body, headers={"Content-Type": "application/octet-stream"}
            )
            response = connection.getresponse()
            response.read()
        except (http.client.HTTPException, ConnectionError):
            connection.close()
            _local.connection = None
            if attempt == 2:
                raise
            continue
        if response.status != 200:
            raise RuntimeError(f"part PUT refused: {response.status}")
        return response.headers["ETag"].strip('"')
    raise AssertionError("unreachable")


def run(args) -> dict:
    from django.test import override_settings

    from assets import services
    from assets.models import Asset
    from assets.storage import get_store, s3_client

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    moto = context.Process(target=serve_moto, args=(port, ready, stop), daemon=True)
    moto.start()
    if not ready.wait(60):
        raise SystemExit("moto did not start")

    import boto3

    bucket = "greenlight-bench"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **MOTO_CREDENTIALS).create_bucket(Bucket=bucket)

    enqueued = []
    services._enqueue_verify = enqueued.append  # verification is worker work: record it, do not run it
    overrides = override_settings(
        USE_S3=True,
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=endpoint,
        AWS_S3_PUBLIC_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=MOTO_CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=MOTO_CREDENTIALS["aws_secret_access_key"],
        AWS_S3_ADDRESSING_STYLE="path",
        UPLOAD_PART_SIZE=args.part_mib * MiB,
        REQUIRE_PARTNER_MFA=False,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )
    overrides.enable()
    s3_client.cache_clear()
    try:
        client = CountingClient(make_owner())
        size = int(args.gib * GiB)
        state = client.post(
            "/assets/uploads/",
            {"filename": "A001_C001 bench.mov", "size": size, "content_type": "video/quicktime"},
            expect=201,
        )
        part_size, count = state["part_size"], state["part_count"]
        buffer = memoryview(bytearray(os.urandom(part_size)))  # one part-sized buffer, sent for every part

        def send(number: int, url: str) -> None:
            length = part_size if number < count else size - part_size * (count - 1)
            put_part(url, buffer[:length])

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            futures = []
            for first in range(1, count + 1, args.batch):
                numbers = list(range(first, min(first + args.batch, count + 1)))
                urls = client.post(state["parts_url"], {"part_numbers": numbers})["urls"]
                if any(urlsplit(u).netloc != urlsplit(endpoint).netloc for u in urls.values()):
                    raise SystemExit("a part URL does not point at the store")
                futures += [pool.submit(send, int(n), url) for n, url in urls.items()]
            for future in futures:
                future.result()
        sent = time.perf_counter() - started
        completed = time.perf_counter()
        result = client.post(state["complete_url"], {})
        joined = time.perf_counter() - completed
        if result["status"] != "verifying" or enqueued != [state["asset_id"]]:
            raise SystemExit(f"the upload did not complete: {result}")
        stored = get_store().size(Asset.objects.get(pk=state["asset_id"]).storage_key)
        if stored != size:
            raise SystemExit(f"the store holds {stored} bytes, not {size}")
    finally:
        overrides.disable()
        s3_client.cache_clear()
        stop.set()
        moto.join(60)
    return {
        "bytes": size,
        "parts": count,
        "part_size": part_size,
        "sent_seconds": sent,
        "complete_seconds": joined,
        "parts_per_second": count / sent,
        "mb_per_second": size / sent / 1e6,
        "portal_requests": client.requests,
        "portal_requests_per_gib": client.requests / (size / GiB),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "moto_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="how much to upload, in GiB (default 1)")
    parser.add_argument("--part-mib", type=int, default=16, help="UPLOAD_PART_SIZE in MiB (at least 5; default 16)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel part PUTs (the browser's: 4)")
    parser.add_argument("--batch", type=int, default=50, help="part URLs asked for at a time (the browser's: 50)")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="gl-upload-bench-"))
    try:
        setup_django(var_dir)
        r = run(args)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)

    command = (
        f"bench/upload_bench.py --gib {args.gib:g} --part-mib {args.part_mib} "
        f"--concurrency {args.concurrency} --batch {args.batch}"
    )
    print(f"uploaded     {r['bytes']:,} bytes in {r['parts']} parts of {r['part_size'] // MiB} MiB")
    print(f"parts        {r['sent_seconds']:.2f} s: {r['parts_per_second']:.1f} parts/s, {r['mb_per_second']:.0f} MB/s")
    print(f"complete     {r['complete_seconds']:.2f} s (moto joins the parts)")
    print(f"portal       {r['portal_requests']} requests, {r['portal_requests_per_gib']:.1f} per GiB, no media bytes")
    print(f"peak RSS     {r['peak_rss_mib']:.0f} MiB portal + client; {r['moto_peak_rss_mib']:.0f} MiB moto")
    print()
    print(
        f"| upload {args.gib:g} GiB, {r['part_size'] // MiB} MiB parts, {args.concurrency} parallel PUTs "
        f"(moto on loopback) | `{command}` | {r['bytes'] / GiB:g} GiB in {r['parts']} parts; "
        f"{r['parts_per_second']:.1f} parts/s; {r['mb_per_second']:.0f} MB/s to the store; "
        f"complete {r['complete_seconds']:.1f} s; {r['portal_requests']} portal requests "
        f"({r['portal_requests_per_gib']:.1f}/GiB); peak RSS {r['peak_rss_mib']:.0f} MiB "
        f"(moto {r['moto_peak_rss_mib']:.0f} MiB); {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()} |"
    )
    if r["parts"] != math.ceil(r["bytes"] / r["part_size"]):
        raise SystemExit("part count mismatch")


if __name__ == "__main__":
    main()
