"""Every Prometheus metric of the portal, in one place (labels and their cardinality: docs/operations.md).

Two kinds:
- Events, counted where they happen (a worker finishing a job, a webhook attempt, an upload verified): counters and
  histograms below, called from services through the one-line functions at the end of this module. Under gunicorn
  or Celery prefork they are multiprocess-safe when PROMETHEUS_MULTIPROC_DIR is set (prometheus_client's
  multiprocess mode; see config/gunicorn.py and ops/worker_metrics.py).
- State, read at scrape by `StateCollector` (queue lengths from Redis, jobs by status, worker heartbeats, disabled
  webhook endpoints: each one cheap query) or sampled by beat (`storage_sample`: bytes per studio, cached).

HTTP requests are counted by django-prometheus's middleware pair (settings.MIDDLEWARE).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

# Seconds: jobs run from a second (noop) to hours (generative video); webhook deliveries and queue waits are shorter.
JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
WEBHOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400)

JOBS_FINISHED = Counter("greenlight_jobs_finished", "Jobs that reached a final state.", ["tool", "status"])
JOB_QUEUE_WAIT = Histogram(
    "greenlight_job_queue_wait_seconds", "From submission to a worker's first start, per finished job.",
    ["tool", "version"], buckets=WAIT_BUCKETS,
)
JOB_RUN = Histogram(
    "greenlight_job_run_seconds", "From a worker's first start to the end, per finished job.",
    ["tool", "version", "status"], buckets=JOB_BUCKETS,
)
JOB_RETRIES = Counter("greenlight_job_retries", "Transient tool errors retried with backoff.", ["tool"])
JOBS_RESENT = Counter("greenlight_jobs_resent", "Jobs the broker lost, sent again by the sweeper.", ["queue"])
WEBHOOK_ATTEMPTS = Counter(
    "greenlight_webhook_attempts", "Webhook delivery attempts by outcome (delivered, retrying, gave_up).", ["outcome"]
)
WEBHOOK_LATENCY = Histogram(
    "greenlight_webhook_delivery_latency_seconds", "From the event to the endpoint's 2xx, per delivered webhook.",
    buckets=WEBHOOK_BUCKETS,
)
WEBHOOK_ATTEMPT_DURATION = Histogram(
    "greenlight_webhook_attempt_duration_seconds", "One HTTP request to a partner's endpoint.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPLOAD_BYTES = Counter(
    "greenlight_upload_bytes", "Bytes of uploaded files once verified, by result (ready, rejected).", ["result"]
)
UPLOADS = Counter("greenlight_uploads", "Uploaded files once verified, by result (ready, rejected).", ["result"])

STORAGE_CACHE_KEY = "ops:storage-sample"


def _seconds(start, end) -> float | None:
    return (end - start).total_seconds() if start and end else None


# --- One-liners for services -----------------------------------------------------------------------------------------
def job_finished(job) -> None:
    """A job reached a final state (beta.jobs.execute.finish): counted once the transaction commits."""
    tool, version, status = job.tool_slug, job.tool_version or "", str(job.status)
    wait, run = _seconds(job.queued_at, job.started_at), _seconds(job.started_at, job.finished_at)

    def observe() -> None:
        JOBS_FINISHED.labels(tool, status).inc()
        if wait is not None:
            JOB_QUEUE_WAIT.labels(tool, version).observe(max(wait, 0))
        if run is not None:
            JOB_RUN.labels(tool, version, status).observe(max(run, 0))

    transaction.on_commit(observe)


def job_retried(job) -> None:
    tool = job.tool_slug
    transaction.on_commit(lambda: JOB_RETRIES.labels(tool).inc())


def job_resent(job) -> None:
    queue = job.queue
    transaction.on_commit(lambda: JOBS_RESENT.labels(queue).inc())


def webhook_attempted(*, delivery, attempt, now) -> None:
    """After an attempt (webhooks.services.delivery_attempt), with the delivery's new status."""
    status = str(delivery.status)
    outcome = {"succeeded": "delivered", "failed": "gave_up"}.get(status, "retrying")
    WEBHOOK_ATTEMPTS.labels(outcome).inc()
    WEBHOOK_ATTEMPT_DURATION.observe(attempt.duration_ms / 1000)
    latency = _seconds(delivery.created_at, now) if delivery.created_at else None
    if outcome == "delivered" and latency is not None:
        WEBHOOK_LATENCY.observe(max(latency, 0.0))


def upload_verified(asset) -> None:
    """An upload's verification ended (assets.services.asset_verify): ready or rejected."""
    result = "ready" if str(asset.status) == "ready" else "rejected"
    UPLOADS.labels(result).inc()
    UPLOAD_BYTES.labels(result).inc(asset.size_bytes or 0)


# --- Sampled by beat -------------------------------------------------------------------------------------------------
def storage_sample() -> dict:
    """Bytes stored and quota per studio, summed from asset rows (by beat, never at scrape), cached for the scrape."""
    from django.db.models import Q, Sum

    from assets.models import Asset
    from portal.models import Organization

    live = ~Q(assets__status__in=[Asset.Status.DELETED, Asset.Status.REJECTED])
    rows = Organization.objects.annotate(used=Sum("assets__size_bytes", filter=live)).values_list(
        "slug", "used", "storage_quota_bytes"
    )
    sample = {"at": time.time(), "studios": {slug: [used or 0, quota] for slug, used, quota in rows}}
    cache.set(STORAGE_CACHE_KEY, sample, timeout=None)
    return sample


# --- Read at scrape ---------------------------------------------------------------------------------------------
class StateCollector:
    """Queue lengths, jobs by status, worker heartbeats, disabled endpoints, the beat's storage sample."""

    def collect(self):
        yield from self._queues()
        yield from self._jobs()
        yield from self._heartbeats()
        yield from self._webhooks()
        yield from self._storage()

    def _queues(self):
        from beta.broker import queue_lengths

        family = GaugeMetricFamily("greenlight_queue_length", "Messages waiting in each Celery queue.",
                                   labels=["queue"])
        for queue, length in queue_lengths().items():
            family.add_metric([queue], length)
        yield family

    def _jobs(self):
        from django.db.models import Count, Min, Q
        from django.utils import timezone

        from beta.models import Job

        by_status = GaugeMetricFamily("greenlight_jobs", "Jobs by status (all time).", labels=["status"])
        counts = dict(Job.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in Job.Status.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        oldest = GaugeMetricFamily(
            "greenlight_queue_oldest_wait_seconds", "Age of the oldest job sent to a queue and not yet started.",
            labels=["queue"],
        )
        now = timezone.now()
        waiting = Job.objects.order_by().filter(Q(status=Job.Status.QUEUED), dispatched_at__isnull=False)
        for queue, first in waiting.values_list("queue").annotate(first=Min("queued_at")):
            oldest.add_metric([queue], max((now - first).total_seconds(), 0))
        yield oldest

    def _heartbeats(self):
        from beta.models import WorkerHeartbeat

        family = GaugeMetricFamily(
            "greenlight_worker_heartbeat_timestamp_seconds", "When a worker serving the queue last ran its heartbeat.",
            labels=["queue"],
        )
        for queue, beat_at in WorkerHeartbeat.objects.values_list("queue", "beat_at"):
            family.add_metric([queue], beat_at.timestamp())
        yield family

    def _webhooks(self):
        from webhooks.models import WebhookEndpoint

        # Endpoints the portal disabled after failing for WEBHOOKS_DISABLE_AFTER_HOURS (not those an owner paused).
        disabled = (WebhookEndpoint.objects.filter(disabled_at__isnull=False)
                    .exclude(disabled_reason__startswith="Disabled by ").count())
        yield GaugeMetricFamily("greenlight_webhook_endpoints_disabled",
                                "Webhook endpoints disabled after failing, now.", value=disabled)

    def _storage(self):
        sample = cache.get(STORAGE_CACHE_KEY)
        used = GaugeMetricFamily("greenlight_studio_storage_bytes", "Bytes a studio stores (beat's sample).",
                                 labels=["studio"])
        quota = GaugeMetricFamily("greenlight_studio_storage_quota_bytes", "A studio's storage quota.",
                                  labels=["studio"])
        for slug, (used_bytes, quota_bytes) in (sample or {}).get("studios", {}).items():
            used.add_metric([slug], used_bytes)
            quota.add_metric([slug], quota_bytes)
        yield used
        yield quota
        if sample:
            yield GaugeMetricFamily("greenlight_storage_sampled_timestamp_seconds", "When beat last sampled storage.",
                                    value=sample["at"])
