"""Fault drill: Redis (the broker, AOF on) is killed while jobs run and comes back; no job stalls.

A real Redis server of this test's own (a free port, a temporary folder) with a real Celery worker and beat whose
broker is that server. The worker cancels its running tasks when the connection drops, and their messages stay in
kombu's `unacked` hash (persisted by the AOF) for the visibility timeout: hours. The sweeper must trust the jobs'
heartbeats instead, and the messages that come back hours later must do nothing.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from beta.models import Job, JobOutput
from tests.beta.test_pipeline import studio_asset  # noqa: F401 - the fixture
from tests.conftest import ROOT, database_url_for_subprocess, free_port, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: every job ends within this many seconds of Redis coming back (the lease is 4 s, a sweep every 2 s, a run 15 s)
BOUND_SECONDS = 180


class RedisServer:
    """redis-server on a free loopback port, persisting to an append-only file in `folder`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", "redis.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, timeout=20, message="redis-server to answer")

    def _answers(self) -> bool:
        try:
            with redis.Redis.from_url(self.url, socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def broker_drill(tmp_path, django_db_blocker):
    """Redis with AOF, a worker (2 processes, every queue) and beat (sweeping every 2 s), all on that Redis."""
    server = RedisServer(tmp_path)
    server.start()
    with django_db_blocker.unblock():
        database = database_url_for_subprocess()
    env = {
        **os.environ, "DATABASE_URL": database, "DATABASE_CONN_MAX_AGE": "0", "REDIS_URL": server.url,
        "CELERY_BROKER_URL": server.url, "JOB_SWEEP_SECONDS": "2", "JOB_DISPATCH_GRACE_SECONDS": "2",
        "JOB_HEARTBEAT_SECONDS": "1", "JOB_HEARTBEAT_TIMEOUT": "4",
    }
    worker_log = tmp_path / "worker.log"
    queues = ",".join(settings.CELERY_QUEUE_NAMES)
    worker = _start(["worker", "-Q", queues, "--pool", "prefork", "--concurrency", "2", "--loglevel", "INFO",
                     "--without-gossip", "--without-mingle", "--hostname", f"drill-{os.getpid()}@%h"], env, worker_log)
    beat = _start(["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")], env,
                  tmp_path / "beat.log")
    try:
        wait_for(lambda: b"ready." in worker_log.read_bytes() or worker.poll() is not None, timeout=60,
                 message="the worker to start")
        assert worker.poll() is None, worker_log.read_text()[-4000:]
        yield server, worker_log
    finally:
        _stop(beat)
        _stop(worker)
        if server.process.poll() is None:
            server.kill()


def _restore_unacked(client: redis.Redis) -> int:
    """What kombu does once the visibility timeout has passed: put every unacknowledged message back on its queue."""
    restored = 0
    for tag, raw in client.hgetall("unacked").items():
        message, _exchange, routing_key = json.loads(raw)
        client.lpush(routing_key, json.dumps(message))
        client.hdel("unacked", tag)
        client.zrem("unacked_index", tag)
        restored += 1
    return restored


def _jobs_state(jobs):
    return [
        (j.status, j.finished_at, j.attempts, j.log.count("Succeeded"), JobOutput.objects.filter(job=j).count())
        for j in Job.objects.filter(pk__in=[job.pk for job in jobs]).order_by("pk")
    ]


def test_jobs_running_when_redis_restarts_end_exactly_once_within_minutes(broker_drill, studio_asset):  # noqa: F811
    server, worker_log = broker_drill
    owner, asset = studio_asset
    from beta.jobs.submit import job_submit

    # Given: four 15 s jobs of one studio that may run two at a time. Written with no free slot, so that this test
    # process (whose own broker is another Redis) sends nothing: the sweeper in the drill's worker dispatches them.
    owner.organization.max_concurrent_jobs = 0
    owner.organization.save()
    jobs = [job_submit(actor=owner.user, tool_slug="slow", asset_ids=[asset.pk], parameters={"seconds": 15})
            for _ in range(4)]
    type(owner.organization).objects.filter(pk=owner.organization.pk).update(max_concurrent_jobs=2)
    ids = [job.pk for job in jobs]
    wait_for(lambda: Job.objects.filter(pk__in=ids, status="running", progress__gte=10).count() == 2, timeout=90,
             message="two jobs running")
    running = set(Job.objects.filter(pk__in=ids, status="running").values_list("pk", flat=True))

    # When: Redis dies (its AOF holds the running tasks in `unacked`) and comes back 12 s later.
    server.kill()
    time.sleep(12)
    server.start()
    with server.client() as client:
        assert client.hlen("unacked") >= 2  # the canceled tasks' messages survived the restart, as in the incident
    back = time.monotonic()

    # Then: every job ends within the bound, exactly once, and the studio's other two jobs ran too.
    for job_id in ids:
        wait_for(lambda job_id=job_id: Job.objects.filter(pk=job_id, status__in=Job.FINISHED).exists(),
                 timeout=max(BOUND_SECONDS - (time.monotonic() - back), 1), message=f"job {job_id} to finish")
    assert time.monotonic() - back < BOUND_SECONDS
    state = _jobs_state(jobs)
    assert [s[0] for s in state] == ["succeeded"] * 4, [j.log for j in Job.objects.filter(pk__in=ids)]
    assert all(s[3] == 1 and s[4] == 1 for s in state), state
    for job in Job.objects.filter(pk__in=running):
        assert "lease expired" in job.log, job.log  # taken back by the sweeper, not by the visibility timeout
        assert job.attempts == 2

    # And: when the old messages come back (the visibility timeout, hours later), they do nothing.
    with server.client() as client:
        assert _restore_unacked(client) >= 2
        queues = settings.CELERY_QUEUE_NAMES
        wait_for(lambda: not any(client.llen(q) for q in queues) and not client.hlen("unacked"), timeout=60,
                 message="the restored messages to be consumed")
    time.sleep(2)
    assert _jobs_state(jobs) == state
    assert b"Traceback" not in worker_log.read_bytes()

