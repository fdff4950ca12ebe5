"""A real Celery worker process runs a task enqueued through transaction.on_commit."""

import pytest
import redis
from django.conf import settings
from django.db import transaction

from beta.jobs.execute import worker_heartbeat_request
from beta.models import WorkerHeartbeat
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_task_enqueued_on_commit_runs_in_the_worker_and_writes_to_the_database(celery_worker_process):
    with transaction.atomic():
        worker_heartbeat_request(queue="cpu")
        # Not sent until the transaction commits.
        assert not WorkerHeartbeat.objects.filter(queue="cpu").exists()

    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(queue="cpu").first(), message="the worker's heartbeat row")
    assert beat.beats == 1
    assert beat.hostname


def test_a_rolled_back_transaction_enqueues_nothing(celery_worker_process):
    def failing_request():
        with transaction.atomic():
            worker_heartbeat_request(queue="gpu")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    with redis.Redis.from_url(settings.REDIS_URL) as broker:
        assert broker.llen("gpu") == 0
    worker_heartbeat_request(queue="external")  # autocommit: sent at once
    wait_for(lambda: WorkerHeartbeat.objects.filter(queue="external").exists(), message="external heartbeat")
    assert not WorkerHeartbeat.objects.filter(queue="gpu").exists()


def test_each_declared_queue_is_served(celery_worker_process):
    for queue in settings.CELERY_QUEUE_NAMES:
        worker_heartbeat_request(queue=queue)
    wait_for(lambda: WorkerHeartbeat.objects.count() == len(settings.CELERY_QUEUE_NAMES), message="all queues")
    served = set(WorkerHeartbeat.objects.values_list("queue", flat=True))
    assert served == {"default", "cpu", "gpu", "external", "webhooks"}
