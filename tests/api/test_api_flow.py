"""The whole loop through the API only, as a studio's pipeline drives it: upload a video in parts straight to S3
(moto's server), resume from the stored parts, complete, wait for a real worker to verify it, run a job on it, poll
the job, and download its output through a short-lived URL.

The worker here is started with the S3 settings in its environment (the session's `celery_worker_process` runs in
local-storage mode), on the same test database and Redis; it is stopped when this module ends.
"""

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import boto3
import pytest
from django.urls import reverse

from assets.storage import s3_client
from portal.models import AuditEvent
from tests.api.conftest import api_client
from tests.assets.conftest import run_ffmpeg
from tests.conftest import ROOT, database_url_for_subprocess, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_bucket_for_worker(s3_server):
    name = f"greenlight-api-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    client.create_bucket(Bucket=name)
    return {"endpoint": s3_server, "bucket": name, "client": client}


@pytest.fixture(scope="module")
def s3_worker(s3_bucket_for_worker, django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process (every queue) in S3 mode against moto's server."""
    from django.conf import settings

    from config.celery import app

    # This worker must be the only one on the test broker, or a local-mode worker could take the S3-mode jobs.
    # pytest runs tests/api before the modules that start the session's worker; say so plainly if that changes.
    others = app.control.ping(timeout=1.0)
    if others:
        pytest.fail(f"another Celery worker is consuming the test broker ({others}); run tests/api on its own")

    with django_db_blocker.unblock():
        env = {
            **os.environ, "DATABASE_URL": database_url_for_subprocess(), "DATABASE_CONN_MAX_AGE": "0",
            "AWS_STORAGE_BUCKET_NAME": s3_bucket_for_worker["bucket"],
            "AWS_S3_ENDPOINT_URL": s3_bucket_for_worker["endpoint"], "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_S3_REGION_NAME": "us-east-1",
        }  # fmt: skip
    log = tmp_path_factory.mktemp("api-worker") / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(settings.CELERY_QUEUE_NAMES),
             "--pool", "prefork", "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--hostname", f"api-s3-{os.getpid()}@{socket.gethostname()}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Celery worker did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    proc.log_path = log
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def s3_mode(s3_bucket_for_worker, settings):
    settings.USE_S3 = True
    settings.AWS_STORAGE_BUCKET_NAME = s3_bucket_for_worker["bucket"]
    settings.AWS_S3_ENDPOINT_URL = settings.AWS_S3_PUBLIC_ENDPOINT_URL = s3_bucket_for_worker["endpoint"]
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.UPLOAD_PART_SIZE = 5 * MiB
    s3_client.cache_clear()
    yield s3_bucket_for_worker
    s3_client.cache_clear()


@pytest.fixture(scope="module")
def noisy_clip(tmp_path_factory):
    """1 s of lossless 640x360 noise in H.264: about 8 MiB, so it travels as two 5 MiB parts."""
    path = tmp_path_factory.mktemp("api-media") / "A001_C002.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "nullsrc=s=640x360:r=25:d=1,geq=lum='random(1)*255':cb=128:cr=128",
        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", "-threads", "2", str(path),
    )  # fmt: skip
    assert path.stat().st_size > 5 * MiB, path.stat().st_size
    return path


def _put(url: str, data: bytes) -> str:
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=30) as response:  # straight to S3, not through the portal
        return response.headers["ETag"].strip('"')


def _get_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_upload_run_and_download_through_the_api(s3_worker, s3_mode, key, noisy_clip):
    api = api_client(key.raw_key)
    data = noisy_clip.read_bytes()

    # Start the upload: the limits are checked before a byte is sent; parts go to S3.
    started = api.post(reverse("api:asset-list"), {"filename": noisy_clip.name, "size": len(data),
                                                   "content_type": "video/mp4"}, format="json")
    assert started.status_code == 201, started.content
    state = started.json()
    assert state["mode"] == "s3"
    assert state["part_count"] == 2
    assert state["asset"]["status"] == "uploading"
    part_size = state["part_size"]
    parts = {n: data[(n - 1) * part_size : n * part_size] for n in (1, 2)}

    # Part 1, then the client "loses its state" and asks which parts are stored.
    urls = api.post(state["parts_url"], {"part_numbers": [1]}, format="json").json()["urls"]
    assert urlsplit(urls["1"]).netloc == urlsplit(s3_mode["endpoint"]).netloc  # presigned: not the portal
    _put(urls["1"], parts[1])
    stored = api.get(state["parts_url"]).json()["parts"]
    assert [p["part_number"] for p in stored] == [1]
    assert stored[0]["size"] == len(parts[1])
    _put(api.post(state["parts_url"], {"part_numbers": [2]}, format="json").json()["urls"]["2"], parts[2])

    completed = api.post(state["complete_url"], format="json")
    assert completed.status_code == 200, completed.content
    asset_id = state["asset"]["id"]

    # The worker verifies it (size, type by content, SHA-256, probe) and makes its previews.
    def asset_ready():
        asset = api.get(reverse("api:asset-detail", args=[asset_id])).json()
        assert asset["status"] in ("verifying", "ready"), asset
        return asset if asset["status"] == "ready" else None

    asset = wait_for(asset_ready, timeout=90, interval=0.5, message="the worker to verify the upload")
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert asset["kind"] == "video"
    assert asset["width"] == 640

    # Run a job on it, idempotently; poll it.
    body = {"tool": "noop", "inputs": [asset_id]}
    created = api.post(reverse("api:job-list"), body, format="json", HTTP_IDEMPOTENCY_KEY=f"flow-{asset_id}")
    assert created.status_code == 201, created.content
    job_url = created.json()["url"]
    assert api.post(reverse("api:job-list"), body, format="json",
                    HTTP_IDEMPOTENCY_KEY=f"flow-{asset_id}").json()["id"] == created.json()["id"]

    def job_finished():
        job = api.get(job_url).json()
        return job if job["status"] in ("succeeded", "failed", "canceled") else None

    job = wait_for(job_finished, timeout=90, interval=0.5, message="the worker to run the job")
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100
    assert job["stage"]
    assert job["log"]
    assert job["inputs"] == [{"asset_id": asset_id, "filename": noisy_clip.name, "sha256": asset["sha256"]}]
    [output] = job["outputs"]
    assert output["filename"] == "ok.txt"

    # Download the output through a short-lived presigned URL.
    download = api.get(output["download_url"]).json()
    assert urlsplit(download["url"]).netloc == urlsplit(s3_mode["endpoint"]).netloc
    assert 0 < download["expires_in"] <= 300
    assert "X-Amz-Expires" in download["url"]
    content = _get_bytes(download["url"])
    assert content.decode().startswith(f"ok {asset['sha256']}")
    assert hashlib.sha256(content).hexdigest() == download["sha256"]
    assert AuditEvent.objects.filter(action="asset.downloaded", target_id=str(output["asset_id"]),
                                     actor=key.created_by).exists()
    # And the job list shows it, filtered by tool and status.
    listed = api.get(reverse("api:job-list"), {"tool": "noop", "status": "succeeded"}).json()
    assert [j["id"] for j in listed["results"]] == [job["id"]]

