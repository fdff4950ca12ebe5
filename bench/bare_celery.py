"""The baseline for bench/pipeline_vs_celery.py: a trivial Celery app with one no-op task, configured as the
portal's workers are (JSON, acks_late, prefetch 1, results ignored), on the benchmark's Redis (queue `bare`).

The task records when it started and finished (wall clock, `time.time()`) in a Redis list, so the benchmark can
compute queue-to-start and drain rate the way it does for Greenlight's job rows.
"""

import json
import os
import time

import redis
from celery import Celery

BROKER_URL = os.environ["BARE_BROKER_URL"]
EVENTS_KEY = os.environ.get("BARE_EVENTS_KEY", "bare-bench:events")

app = Celery("bare", broker=BROKER_URL, fixups=[])  # no Django here, even with DJANGO_SETTINGS_MODULE set
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_client = None


def events() -> redis.Redis:
    global _client  # one connection per worker process
    if _client is None:
        _client = redis.Redis.from_url(BROKER_URL)
    return _client


@app.task(name="bare.noop", ignore_result=True)
def noop(label: str) -> None:
    started = time.time()
    events().rpush(EVENTS_KEY, json.dumps([label, started, time.time()]))
