"""Events become signed deliveries; failed deliveries are retried on the schedule and logged; an endpoint that
fails for a day is disabled and its owners are told. The first test runs a job in a real worker process."""

import json
import os
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from assets.models import Asset
from assets.storage import get_store
from beta.jobs.execute import finish
from beta.jobs.submit import job_submit
from portal.events import Event, publish
from tests.conftest import wait_for
from tests.factories import JobFactory, MembershipFactory, OwnerFactory, WebhookEndpointFactory
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _studio_asset(owner, tmp_path):
    """A ready video asset whose bytes are really stored, for a job a worker runs."""
    from assets import keys

    data = b"\x00\x00\x00\x18ftypisom" + os.urandom(2048)
    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind="video",
                                 original_filename="plate.mp4", size_bytes=len(data), sha256="ab" * 32,
                                 status="ready", previews="none", storage_key="")
    asset.storage_key = keys.original_key(asset)
    path = tmp_path / "plate.mp4"
    path.write_bytes(data)
    get_store().put_file(path, asset.storage_key, "video/mp4")
    asset.save()
    return asset


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_run_by_a_worker_is_announced_signed_to_the_receiver(celery_worker_process, receiver, tmp_path):
    # Given an endpoint subscribed to job.started and job.succeeded on a loopback receiver (allowed in tests)
    owner = OwnerFactory()
    endpoint, secret = services.endpoint_create(
        user=owner.user, organization=owner.organization, url=receiver.url, events=["job.started", "job.succeeded"]
    )
    asset = _studio_asset(owner, tmp_path)

    # When a job is submitted and a real worker runs it
    job = job_submit(actor=owner.user, tool_slug="noop", asset_ids=[asset.pk])

    # Then the receiver gets both events, each verified by the Standard Webhooks reference library
    requests = receiver.wait_for(2, timeout=60)
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in requests]
    assert sorted(p["type"] for p in payloads) == ["job.started", "job.succeeded"]
    for payload in payloads:
        assert payload["data"]["job_id"] == job.pk
        assert payload["data"]["tool"] == "noop"
        assert payload["data"]["links"]["html"].endswith(f"/jobs/{job.pk}/")
        assert payload["timestamp"].endswith("Z")
    assert {p["data"]["status"] for p in payloads} == {"running", "succeeded"}
    assert all(r.headers["webhook-id"].startswith("msg_") for r in requests)
    assert len({r.headers["webhook-id"] for r in requests}) == 2
    assert len(receiver.requests) == 2  # job.queued is not subscribed
    deliveries = wait_for(
        lambda: list(WebhookDelivery.objects.filter(endpoint=endpoint, status="succeeded")) or None
        if WebhookDelivery.objects.filter(endpoint=endpoint, status="succeeded").count() == 2 else None,
        message="both deliveries recorded as succeeded",
    )
    for delivery in deliveries:
        [attempt] = delivery.attempt_log.all()
        assert (attempt.number, attempt.status_code, attempt.response_excerpt) == (1, 200, "ok")
        assert delivery.delivered_at is not None


@pytest.mark.django_db
def test_events_reach_only_enabled_endpoints_of_the_studio_subscribed_to_them(
    enqueued, django_capture_on_commit_callbacks
):
    owner = OwnerFactory()
    studio = owner.organization
    wanted = WebhookEndpointFactory(organization=studio, events=["job.failed"])
    WebhookEndpointFactory(organization=studio, events=["job.succeeded"])  # other event
    WebhookEndpointFactory(organization=studio, events=["job.failed"], enabled=False)  # disabled
    WebhookEndpointFactory(events=["job.failed"])  # another studio
    job = JobFactory(organization=studio)

    with django_capture_on_commit_callbacks(execute=True):
        publish("job.failed", organization_id=studio.pk, data={"job_id": job.pk, "status": "failed", "tool": "noop"})

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.endpoint == wanted
    assert delivery.payload["type"] == "job.failed"
    assert delivery.payload["data"]["job_id"] == job.pk
    assert delivery.payload["data"]["links"]["html"].endswith(f"/jobs/{job.pk}/")
    assert enqueued == [(delivery.pk, 0)]


@pytest.mark.django_db
def test_the_services_publish_job_and_asset_events_without_file_contents(django_capture_on_commit_callbacks):
    from assets.services import _reject
    from portal import events

    seen = []
    events.subscribe(seen.append)
    try:
        owner = OwnerFactory()
        job = JobFactory(organization=owner.organization, status="running", started_at=timezone.now())
        asset = Asset.objects.create(organization=owner.organization, kind="video", original_filename="bad.mp4",
                                     size_bytes=10, status="verifying", storage_key="orgs/x/bad")
        with django_capture_on_commit_callbacks(execute=True):
            finish(job, "succeeded")
            _reject(asset, "The content is not a video.")
    finally:
        events._subscribers.remove(seen.append)
    by_type = {e.type: e for e in seen}
    assert by_type["job.succeeded"].data == {
        "job_id": job.pk, "status": "succeeded", "tool": "noop", "tool_version": "1.0.0"
    }
    assert by_type["asset.rejected"].data["asset_id"] == asset.pk
    assert by_type["asset.rejected"].data["reason"] == "The content is not a video."
    assert all(e.organization_id == owner.organization_id for e in seen)


@pytest.mark.django_db
def test_an_upload_that_passes_verification_publishes_asset_ready(tmp_path, django_capture_on_commit_callbacks):
    from assets import keys
    from assets.services import asset_verify
    from portal import events

    owner = OwnerFactory()
    data = b"INT. WAREHOUSE - NIGHT. The crowd widens as far as the eye can see.\n" * 50
    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind="document",
                                 original_filename="notes.txt", size_bytes=len(data), status="verifying",
                                 storage_key="")
    asset.storage_key = keys.original_key(asset)
    asset.save()
    (tmp_path / "notes.txt").write_bytes(data)
    get_store().put_file(tmp_path / "notes.txt", asset.storage_key, "text/plain")
    seen = []
    events.subscribe(seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert asset_verify(asset_id=asset.pk).status == "ready"
    finally:
        events._subscribers.remove(seen.append)
    [event] = seen
    assert event.type == "asset.ready"
    assert event.data["asset_id"] == asset.pk
    assert event.data["status"] == "ready"
    assert len(event.data["sha256"]) == 64
    assert data.decode()[:20] not in json.dumps(event.data)  # ids and checks, never the contents


def _failing_delivery(receiver, enqueued):
    receiver.status = 500
    receiver.answer = b'{"error": "database down"}'
    owner = OwnerFactory()
    endpoint, _secret = services.endpoint_create(
        user=owner.user, organization=owner.organization, url=receiver.url, events=["job.succeeded"]
    )
    [delivery] = services.event_received(
        Event(type="job.succeeded", organization_id=owner.organization_id, data={"job_id": 1, "status": "succeeded"})
    )
    return owner, endpoint, delivery


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_on_the_backoff_schedule_and_each_attempt_is_logged(
    receiver, enqueued, django_capture_on_commit_callbacks
):
    _owner, _endpoint, delivery = _failing_delivery(receiver, enqueued)
    t0 = timezone.now()
    times = [t0]
    for delay in services.RETRY_DELAYS:
        times.append(times[-1] + timedelta(seconds=delay))
    assert services.MAX_ATTEMPTS == 8
    assert timedelta(hours=23) < times[-1] - t0 < timedelta(hours=25)  # about a day

    for number, at in enumerate(times, start=1):
        if number > 1:  # a second early, the next attempt is not due: a duplicate message does nothing
            assert services.delivery_attempt(delivery_id=delivery.pk, now=at - timedelta(seconds=2)) is None
        with django_capture_on_commit_callbacks(execute=True):
            attempt = services.delivery_attempt(delivery_id=delivery.pk, now=at)
        assert attempt.number == number
        delivery.refresh_from_db()
        assert delivery.attempts == number
        if number < len(times):
            assert delivery.status == "pending"
            assert delivery.next_attempt_at == at + timedelta(seconds=services.RETRY_DELAYS[number - 1])

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    assert services.delivery_attempt(delivery_id=delivery.pk, now=times[-1] + timedelta(days=1)) is None

    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [a.number for a in log] == list(range(1, 9))
    assert [a.attempted_at for a in log] == times
    assert all(a.status_code == 500 and "database down" in a.response_excerpt for a in log)
    assert all(a.error == "The endpoint answered HTTP 500." for a in log)
    # The receiver saw the same message each time (same id, so it can drop duplicates), signed afresh.
    assert len(receiver.requests) == 8
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
    assert [int(r.headers["webhook-timestamp"]) for r in receiver.requests] == [int(t.timestamp()) for t in times]
    # Only the 5-second wait rides on a Celery countdown; the long ones are left to the sweeper.
    assert enqueued == [(delivery.pk, 5)]


@pytest.mark.django_db
def test_the_sweeper_sends_due_deliveries_only(receiver, enqueued):
    _owner, _endpoint, delivery = _failing_delivery(receiver, enqueued)
    now = timezone.now()
    services.delivery_attempt(delivery_id=delivery.pk, now=now)
    services.delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=5))
    enqueued.clear()
    assert services.deliveries_due(now=now + timedelta(minutes=4)) == 0
    assert services.deliveries_due(now=now + timedelta(minutes=6)) == 1
    assert enqueued == [(delivery.pk, 0)]


@pytest.mark.django_db
def test_a_success_after_failures_delivers_and_clears_the_failure_record(receiver, enqueued):
    _owner, endpoint, delivery = _failing_delivery(receiver, enqueued)
    now = timezone.now()
    services.delivery_attempt(delivery_id=delivery.pk, now=now)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now
    receiver.status = 204
    receiver.answer = b""
    attempt = services.delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=5))
    assert attempt.status_code == 204
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, endpoint.failing_since) == ("succeeded", 2, None)


@pytest.mark.django_db
def test_an_endpoint_failing_every_attempt_for_a_day_is_disabled_and_its_owners_emailed(receiver, enqueued):
    owner, endpoint, delivery = _failing_delivery(receiver, enqueued)
    MembershipFactory(organization=owner.organization)  # a member: not emailed
    other_owner = OwnerFactory(organization=owner.organization)
    t0 = timezone.now()
    services.delivery_attempt(delivery_id=delivery.pk, now=t0)
    # A second message, still pending when the endpoint is disabled.
    [second] = services.event_received(
        Event(type="job.succeeded", organization_id=owner.organization_id, data={"job_id": 2, "status": "succeeded"})
    )

    # 23 hours of failures: still enabled
    services.delivery_attempt(delivery_id=second.pk, now=t0 + timedelta(hours=23))
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert mail.outbox == []

    # The attempt after a full day of failures disables it
    WebhookDelivery.objects.filter(pk=second.pk).update(next_attempt_at=t0 + timedelta(hours=24))
    services.delivery_attempt(delivery_id=second.pk, now=t0 + timedelta(hours=24, minutes=1))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_at == t0 + timedelta(hours=24, minutes=1)
    assert "24 hours" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    [message] = mail.outbox
    assert sorted(message.to) == sorted([owner.user.email, other_owner.user.email])
    assert endpoint.url in message.body
    assert f"/webhooks/{endpoint.pk}/" in message.body

    # Nothing more is sent to it, and new events do not queue for it
    assert services.delivery_attempt(delivery_id=delivery.pk, now=t0 + timedelta(days=2)) is None
    assert services.event_received(
        Event(type="job.succeeded", organization_id=owner.organization_id, data={"job_id": 3})
    ) == []

    # Enabling it again clears the record
    services.endpoint_update(user=owner.user, endpoint=endpoint, enabled=True)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_at, endpoint.failing_since) == (True, None, None)


@pytest.mark.django_db
def test_a_test_message_is_signed_with_both_secrets_after_a_rotation(
    receiver, enqueued, django_capture_on_commit_callbacks
):
    owner = OwnerFactory()
    endpoint, old = services.endpoint_create(
        user=owner.user, organization=owner.organization, url=receiver.url, events=["asset.ready"]
    )
    new = services.endpoint_rotate_secret(user=owner.user, endpoint=endpoint)
    assert new != old
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(user=owner.user, endpoint=endpoint)
    assert enqueued == [(delivery.pk, 0)]
    services.delivery_attempt(delivery_id=delivery.pk)
    [request] = receiver.requests
    assert Webhook(new).verify(request.body, request.headers)["type"] == "webhook.test"
    assert Webhook(old).verify(request.body, request.headers)["data"]["endpoint_id"] == endpoint.pk
    assert json.loads(request.body)["type"] == "webhook.test"
    # After the grace period only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    second = services.endpoint_send_test(user=owner.user, endpoint=endpoint)
    services.delivery_attempt(delivery_id=second.pk)
    assert len(receiver.requests[1].headers["webhook-signature"].split(" ")) == 1


def test_the_sweeper_is_on_the_beat_schedule_on_the_webhooks_queue(settings):
    from config.celery import app

    app.loader.import_default_modules()
    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"] == "webhooks.tasks.deliver_due"]
    assert entry["options"]["queue"] == settings.WEBHOOKS_QUEUE == "webhooks"
    assert {"webhooks.tasks.deliver", "webhooks.tasks.deliver_due"} <= set(app.tasks)


@pytest.mark.django_db
def test_a_delivery_that_is_gone_is_a_quiet_no_op():
    from webhooks.tasks import deliver

    assert deliver.run(123456) is None
    assert services.delivery_attempt(delivery_id=123456) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_delivery_make_one_attempt(postgres_only, receiver, enqueued):
    import threading

    from django.db import connection

    owner = OwnerFactory()
    services.endpoint_create(
        user=owner.user, organization=owner.organization, url=receiver.url, events=["job.succeeded"]
    )
    [delivery] = services.event_received(
        Event(type="job.succeeded", organization_id=owner.organization_id, data={"job_id": 1})
    )
    barrier = threading.Barrier(4)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(services.delivery_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r is not None for r in results) == 1
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded"


@pytest.mark.django_db
def test_old_finished_deliveries_are_purged_and_pending_ones_kept(settings):
    settings.WEBHOOKS_LOG_RETENTION_DAYS = 30
    endpoint = WebhookEndpointFactory()
    now = timezone.now()

    def delivery(status, days_old):
        made = WebhookDelivery.objects.create(endpoint=endpoint, event_type="job.succeeded", status=status,
                                              message_id=f"msg_{status}_{days_old}", payload={})
        WebhookDelivery.objects.filter(pk=made.pk).update(created_at=now - timedelta(days=days_old))
        WebhookAttempt.objects.create(delivery=made, number=1, attempted_at=now - timedelta(days=days_old))
        return made.pk

    old_ok, old_failed, old_pending = delivery("succeeded", 31), delivery("failed", 40), delivery("pending", 45)
    recent = delivery("succeeded", 29)
    assert services.deliveries_purge(now=now) == 4  # two deliveries and their two attempts
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old_pending, recent}
    assert not WebhookAttempt.objects.filter(delivery_id__in=[old_ok, old_failed]).exists()


def test_the_purge_runs_daily_from_beat():
    from config.celery import app

    app.loader.import_default_modules()
    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"] == "webhooks.tasks.purge_deliveries"]
    assert entry["schedule"] == 24 * 60 * 60.0
    assert "webhooks.tasks.purge_deliveries" in app.tasks
