"""GET /metrics (token, format, state read at scrape) and the events services count (ops/metrics.py)."""

import os
import threading
import urllib.request

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from beta.broker import queue_lengths
from beta.jobs.execute import finish, job_claim
from beta.jobs.submit import job_submit
from beta.models import Job, WorkerHeartbeat
from ops.tasks import sample_storage
from tests.conftest import wait_for
from tests.factories import AssetFactory, OwnerFactory, WebhookEndpointFactory
from webhooks.models import WebhookDelivery

TOKEN = "scrape-token-for-tests"


def samples(text: str) -> dict[tuple, float]:
    """{(name, sorted labels): value} for every sample in a Prometheus text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.mark.django_db
def test_metrics_answer_404_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
def test_metrics_refuse_a_missing_or_wrong_bearer_token(client, token, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"greenlight_" not in response.content


@pytest.mark.django_db
def test_metrics_count_requests_by_view_and_status(client, token):
    client.get("/healthz")
    client.get("/healthz")
    found = scrape(client)
    assert value(found, "django_http_responses_total_by_status_view_method_total",
                 status="200", view="healthz", method="GET") >= 2
    assert any(name == "django_http_requests_latency_seconds_by_view_method_bucket" and ("view", "healthz") in labels
               for name, labels in found)


@pytest.mark.django_db
def test_state_is_read_at_scrape_queues_jobs_heartbeats_disabled_endpoints(client, token, settings):
    owner = OwnerFactory()
    asset = AssetFactory(organization=owner.organization, kind="video", sha256="ab" * 32, duration_seconds=3)
    job = job_submit(actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], parameters={})
    Job.objects.filter(pk=job.pk).update(dispatched_at=job.queued_at)
    WorkerHeartbeat.objects.create(queue="gpu", hostname="w1", beat_at=job.queued_at, beats=1)
    WebhookEndpointFactory(organization=owner.organization, enabled=False, disabled_at=job.queued_at,
                           disabled_reason="Every delivery attempt failed for 24 hours.")
    WebhookEndpointFactory(organization=owner.organization, enabled=False, disabled_at=job.queued_at,
                           disabled_reason=f"Disabled by {owner.user.email}.")
    found = scrape(client)
    for queue in settings.CELERY_QUEUE_NAMES:
        assert value(found, "greenlight_queue_length", queue=queue) is not None
    assert value(found, "greenlight_jobs", status="queued") == 1
    assert value(found, "greenlight_jobs", status="succeeded") == 0
    assert value(found, "greenlight_queue_oldest_wait_seconds", queue=job.queue) >= 0
    assert value(found, "greenlight_worker_heartbeat_timestamp_seconds", queue="gpu") == job.queued_at.timestamp()
    assert value(found, "greenlight_webhook_endpoints_disabled") == 1  # the owner's pause is no alert


def test_queue_lengths_count_waiting_messages_in_redis_including_priority_lists():
    from beta.broker import PRIORITY_SEPARATOR, _client

    with _client() as client:
        client.delete("ops-test", f"ops-test{PRIORITY_SEPARATOR}3")
        client.rpush("ops-test", b"{}", b"{}")
        client.rpush(f"ops-test{PRIORITY_SEPARATOR}3", b"{}")
        try:
            assert queue_lengths(["ops-test", "ops-empty"]) == {"ops-test": 3, "ops-empty": 0}
        finally:
            client.delete("ops-test", f"ops-test{PRIORITY_SEPARATOR}3")


@pytest.mark.django_db
def test_storage_per_studio_comes_from_beats_sample_not_the_scrape(client, token):
    owner = OwnerFactory(organization__storage_quota_bytes=1000)
    AssetFactory(organization=owner.organization, size_bytes=300, status="ready")
    AssetFactory(organization=owner.organization, size_bytes=5000, status="rejected")
    slug = owner.organization.slug
    assert value(scrape(client), "greenlight_studio_storage_bytes", studio=slug) is None  # not sampled yet
    sample_storage()
    AssetFactory(organization=owner.organization, size_bytes=100, status="ready")  # after the sample: unseen
    found = scrape(client)
    assert value(found, "greenlight_studio_storage_bytes", studio=slug) == 300
    assert value(found, "greenlight_studio_storage_quota_bytes", studio=slug) == 1000
    assert value(found, "greenlight_storage_sampled_timestamp_seconds") > 0


@pytest.mark.django_db
def test_a_finished_job_is_counted_with_queue_wait_and_run_time_apart(client, token,
                                                                      django_capture_on_commit_callbacks):
    owner = OwnerFactory()
    asset = AssetFactory(organization=owner.organization, kind="video", sha256="ab" * 32, duration_seconds=3)
    before = scrape(client)
    job = job_submit(actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], parameters={})
    job = job_claim(job_id=job.pk, hostname="test")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        finish(Job.objects.select_for_update().get(pk=job.pk), Job.Status.FAILED, error="boom")
        assert value(scrape(client), "greenlight_jobs_finished_total", tool="noop", status="failed") == value(
            before, "greenlight_jobs_finished_total", tool="noop", status="failed")  # not before the commit
    after = scrape(client)
    labels = {"tool": "noop", "version": job.tool_version}

    def grew(name, **extra):
        return (value(after, name, **labels, **extra) or 0) - (value(before, name, **labels, **extra) or 0)

    assert (value(after, "greenlight_jobs_finished_total", tool="noop", status="failed") or 0) - (
        value(before, "greenlight_jobs_finished_total", tool="noop", status="failed") or 0) == 1
    assert grew("greenlight_job_queue_wait_seconds_count") == 1
    assert grew("greenlight_job_run_seconds_count", status="failed") == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_run_by_a_real_worker_is_observed_in_the_workers_metrics(celery_worker_process, tmp_path):
    from assets import keys
    from assets.models import Asset
    from assets.storage import get_store

    owner = OwnerFactory(organization__max_concurrent_jobs=4)
    data = b"\x00\x00\x00\x18ftypisom" + os.urandom(1024)
    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind="video",
                                 original_filename="plate.mp4", size_bytes=len(data), sha256="cd" * 32,
                                 status="ready", previews="none", storage_key="")
    asset.storage_key = keys.original_key(asset)
    (tmp_path / "plate.mp4").write_bytes(data)
    get_store().put_file(tmp_path / "plate.mp4", asset.storage_key, "video/mp4")
    asset.save()

    def worker_samples():
        with urllib.request.urlopen(celery_worker_process.metrics_url, timeout=10) as response:
            return samples(response.read().decode())

    def finished(found):
        return value(found, "greenlight_jobs_finished_total", tool="noop", status="succeeded") or 0

    before = finished(worker_samples())
    job = job_submit(actor=owner.user, tool_slug="noop", asset_ids=[asset.pk], parameters={})
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).exists(), timeout=60,
             message="the noop job to succeed")
    found = wait_for(lambda: (f := worker_samples()) and finished(f) > before and f, message="the worker's count")
    job.refresh_from_db()
    assert value(found, "greenlight_job_run_seconds_count", tool="noop", version=job.tool_version,
                 status="succeeded") >= 1


@pytest.fixture
def answering():
    """A loopback endpoint answering each POST with the next status in `statuses`."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    statuses = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", statuses
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_webhook_attempts_are_counted_by_outcome_and_delivery_latency_observed(client, token, answering, monkeypatch):
    from webhooks import services as webhook_services

    monkeypatch.setattr(webhook_services, "_enqueue", lambda *a, **k: None)  # the test drives the attempts
    url, statuses = answering
    owner = OwnerFactory()
    endpoint, _secret = webhook_services.endpoint_create(
        user=owner.user, organization=owner.organization, url=url, events=["job.succeeded"])
    delivery = webhook_services._delivery_create(endpoint, "job.succeeded", timezone.now(), {"job_id": 1})
    before = scrape(client)
    statuses.append(500)
    webhook_services.delivery_attempt(delivery_id=delivery.pk)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    webhook_services.delivery_attempt(delivery_id=delivery.pk)
    after = scrape(client)

    def grew(name, **labels):
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert grew("greenlight_webhook_attempts_total", outcome="retrying") == 1
    assert grew("greenlight_webhook_attempts_total", outcome="delivered") == 1
    assert grew("greenlight_webhook_attempt_duration_seconds_count") == 2
    assert grew("greenlight_webhook_delivery_latency_seconds_count") == 1


@pytest.mark.django_db
def test_verified_uploads_count_bytes_by_result(client, token):
    from assets.services import asset_verify

    owner = OwnerFactory()
    asset = AssetFactory(organization=owner.organization, size_bytes=4321, status="verifying")  # no bytes stored
    before = scrape(client)
    assert asset_verify(asset_id=asset.pk).status == "rejected"
    after = scrape(client)
    assert (value(after, "greenlight_upload_bytes_total", result="rejected") or 0) - (
        value(before, "greenlight_upload_bytes_total", result="rejected") or 0) == 4321
    assert (value(after, "greenlight_uploads_total", result="rejected") or 0) - (
        value(before, "greenlight_uploads_total", result="rejected") or 0) == 1
