"""Workers keep their database connection across tasks (CONN_MAX_AGE honoured, config/celery.py): Celery's Django
fixup used to close it before and after every task, so every job opened a new PostgreSQL session."""

import re

import pytest

from beta.models import Job
from tests.beta.test_pipeline import _submit, studio_asset  # noqa: F401 (a fixture)
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

OPENED = re.compile(rb"Database connection opened \(default, process (\d+)\)")
WORKER_PROCESSES = 2  # the celery_worker_process fixture's --concurrency


def test_jobs_reuse_each_worker_process_connection(postgres_only, celery_worker_process, studio_asset):  # noqa: F811
    owner, asset = studio_asset
    log = celery_worker_process.log_path
    before = len(OPENED.findall(log.read_bytes()))

    jobs = [_submit(owner, asset, "noop") for _ in range(12)]
    ids = [job.pk for job in jobs]
    wait_for(lambda: Job.objects.filter(pk__in=ids, status__in=Job.FINISHED).count() == len(ids), timeout=120,
             message="12 noop jobs to finish")
    assert set(Job.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"succeeded"}

    opened = OPENED.findall(log.read_bytes())[before:]
    # At most one new connection per worker process (none if an earlier test already opened them), not one a task.
    assert len(opened) <= WORKER_PROCESSES, opened
    assert len(set(opened)) == len(opened)
