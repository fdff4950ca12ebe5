"""Fault drill: an upload completed while the broker (Redis) is unreachable is not lost.

The join is committed and the partner is told it was received (202); completing again returns the upload's state;
once the broker is back, the verify sweep queues the verification and a real worker verifies the file.
"""

from contextlib import contextmanager

import pytest
from django.urls import reverse

from assets import services
from assets.models import Asset
from tests.api.conftest import api_client
from tests.conftest import free_port, wait_for
from tests.factories import ApiKeyFactory, OwnerFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _reset_connections(app) -> None:
    """Forget the app's pooled broker connections, so the next send connects to `broker_url` as it is now."""
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_unreachable():
    """This process's Celery sends to a loopback port nothing listens on: connection refused, as with Redis down."""
    from config.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    _reset_connections(app)
    try:
        yield
    finally:
        app.conf.broker_url = saved
        _reset_connections(app)


def _upload(client, data: bytes) -> dict:
    state = client.post(reverse("assets:upload-start"), {"filename": "notes.txt", "size": len(data)},
                        content_type="application/json").json()
    urls = client.post(state["parts_url"], {"part_numbers": [1]}, content_type="application/json").json()["urls"]
    assert client.put(urls["1"], data, content_type="application/octet-stream").status_code == 200
    return state


def test_an_upload_completed_while_the_broker_is_down_is_verified_by_the_sweep(client, settings,
                                                                              celery_worker_process):
    owner = OwnerFactory()
    client.force_login(owner.user)
    data = b"INT. EDIT SUITE - NIGHT. The monitors glow.\n" * 200
    state = _upload(client, data)

    # When: the partner completes the upload while Redis is unreachable.
    with broker_unreachable():
        response = client.post(state["complete_url"], content_type="application/json")
        # Then: received, not a 500; the join is committed and the client is told checking starts shortly.
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "verifying"
        assert response.json()["message"] == services.VERIFY_DEFERRED_MESSAGE
        # Completing again (a client retrying) returns the upload's state, through the portal and the API alike.
        again = client.post(state["complete_url"], content_type="application/json")
        assert (again.status_code, again.json()["status"]) == (200, "verifying")
        key = ApiKeyFactory(organization=owner.organization, created_by=owner.user)
        api = api_client(key.raw_key)
        via_api = api.post(reverse("api:asset-complete", args=[state["asset_id"]]))
        assert (via_api.status_code, via_api.json()["asset"]["status"]) == (200, "verifying")
        # The sweep cannot reach the broker either: it queues nothing and raises nothing.
        settings.ASSET_VERIFY_LEASE_SECONDS = 0
        assert services.assets_verify_resend() == 0
    assert Asset.objects.get(pk=state["asset_id"]).status == "verifying"

    # When: the broker is back, the sweep (beat, every ASSET_VERIFY_SWEEP_SECONDS) queues the verification.
    assert services.assets_verify_resend() == 1
    asset = wait_for(lambda: Asset.objects.filter(pk=state["asset_id"]).exclude(status="verifying").first(),
                     timeout=60, message="the worker to verify the upload")
    assert asset.status == "ready", asset.rejection_reason
    assert asset.size_bytes == len(data)
    assert services.assets_verify_resend() == 0  # nothing left to queue
    final = client.post(state["complete_url"], content_type="application/json")
    assert (final.status_code, final.json()["status"]) == (200, "ready")


def test_the_sweep_queues_a_stuck_verification_once_per_lease(settings, celery_worker_process):
    from datetime import timedelta

    from django.utils import timezone

    owner = OwnerFactory()
    settings.ASSET_VERIFY_LEASE_SECONDS = 600
    asset = Asset.objects.create(organization=owner.organization, kind="document", original_filename="a.txt",
                                 size_bytes=10, status="verifying", storage_key="x",
                                 verify_heartbeat_at=timezone.now() - timedelta(seconds=30))
    assert services.assets_verify_resend() == 0  # queued (or beating) within the lease: left alone
    Asset.objects.filter(pk=asset.pk).update(verify_heartbeat_at=timezone.now() - timedelta(seconds=601))
    assert services.assets_verify_resend() == 1
    assert services.assets_verify_resend() == 0  # just queued: not again until the lease passes
    # The worker takes the message: nothing arrived in storage under this asset's key, so it is rejected.
    rejected = wait_for(lambda: Asset.objects.filter(pk=asset.pk, status="rejected").first(), timeout=60,
                        message="the worker to verify the asset")
    assert "did not arrive" in rejected.rejection_reason
