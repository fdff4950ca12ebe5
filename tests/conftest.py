import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
#: CI sets this: a skip of a browser or PostgreSQL test is then a failure, since CI must prove the production path.
REQUIRE_ALL = os.environ.get("GREENLIGHT_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"required in CI but unavailable: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): row locks, full-text search and its GIN index")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and other cache entries must not leak between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _close_the_dashboards_side_connection():
    """The results dashboard's second connection (beta.results.aggregates) is closed after each test that opened one,
    so it never outlives the test database."""
    yield
    from beta.results import aggregates

    aggregates.side_connection_close()


@pytest.fixture(autouse=True)
def _force_login_means_a_complete_sign_in(monkeypatch):
    """`client.force_login(user)` stands for a complete allauth sign-in, second factor included: the portal refuses
    sessions without allauth's "mfa" record for anyone with MFA (portal/signin.py). `force_login(user, mfa=False)`
    gives the bare session Django's own login makes (what tests of that refusal need)."""
    import time as _time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None, *, mfa=True):
        original(self, user, backend)
        if mfa:
            session = self.session
            session[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": "mfa", "at": _time.time(), "type": "totp"}]
            session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


def database_url_for_subprocess() -> str:
    """The URL of the database this test run is using (the test database), for a child process."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process, consuming every queue, against this run's test database and Redis."""
    with django_db_blocker.unblock():
        # Connections kept across tasks, as in production (CONN_MAX_AGE honoured in workers: config/celery.py).
        env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "DATABASE_CONN_MAX_AGE": "60"}
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    # Bedrock tools in the worker answer from this file of canned responses (botocore Stubber); absent: off.
    bedrock_stub_file = log.parent / "bedrock-stub.json"
    env["BEDROCK_STUB_FILE"] = str(bedrock_stub_file)
    # The storing stage pauses while a job's flag file is in this folder (beta.jobs.execute._pause_for_drill).
    drill_dir = log.parent / "drill"
    drill_dir.mkdir()
    env["GREENLIGHT_DRILL_PAUSE_STORING"] = str(drill_dir)
    # The worker serves its metrics (ops/worker_metrics.py), its prefork children summed through these files.
    (log.parent / "prometheus").mkdir()
    env |= {"PROMETHEUS_MULTIPROC_DIR": str(log.parent / "prometheus"), "METRICS_WORKER_PORT": str(free_port()),
            "METRICS_WORKER_ADDR": "127.0.0.1"}
    from django.conf import settings

    queues = ",".join(settings.CELERY_QUEUE_NAMES)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queues,
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Celery worker did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    proc.log_path = log
    proc.bedrock_stub_file = bedrock_stub_file
    proc.drill_dir = drill_dir
    proc.metrics_url = f"http://127.0.0.1:{env['METRICS_WORKER_PORT']}/metrics"
    proc.hostname = f"test-{os.getpid()}@{socket.gethostname()}"
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server over real HTTP on a free loopback port, with a private bucket."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    import uuid

    import boto3

    name = f"greenlight-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    client.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return {"endpoint": s3_server, "bucket": name, "client": client}


@pytest.fixture
def latest_schema_after():
    """For a test that migrates back and forth with MigrationExecutor: leave the database at the latest migrations
    for the tests that follow, however the test ends (a flush does not re-apply what it unapplied)."""
    yield
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


# The programme admin and a reviewer, signed in on the test client (a module may define its own with the same name).
@pytest.fixture
def admin(client):
    from tests.factories import AdminFactory

    user = AdminFactory()
    client.force_login(user)
    return user


@pytest.fixture
def reviewer(client):
    from tests.factories import StaffFactory

    user = StaffFactory()
    client.force_login(user)
    return user
