"""Fault drill: a webhook receiver that trickles its answer (a byte at a time, each within any per-read timeout) is
cut off at the attempt's TOTAL deadline, and the attempt is logged as a timeout."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.events import Event
from tests.factories import OwnerFactory
from webhooks import safety, services
from webhooks.models import WebhookAttempt

DEADLINE = 2  # seconds (WEBHOOKS_TIMEOUT_SECONDS in these tests)
TRICKLE_EVERY = 0.5  # seconds between bytes: far inside any per-read timeout


class Trickler:
    """A loopback HTTP endpoint that reads the request, then answers one byte every TRICKLE_EVERY seconds, forever:
    in the status line and headers (`where="headers"`) or in a body it promised to be long (`where="body"`)."""

    def __init__(self, where: str):
        self.where = where
        self.connections = 0
        self.stopped = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.server.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket):
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            if self.where == "body":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                drip = b"x"
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                drip = b"X"
            while not self.stopped.is_set():
                try:
                    conn.sendall(drip)
                except OSError:
                    return  # the client hung up: what the deadline must make it do
                time.sleep(TRICKLE_EVERY)

    def close(self):
        self.stopped.set()
        self.server.close()


@pytest.fixture(params=["headers", "body"])
def trickler(request, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = DEADLINE
    server = Trickler(request.param)
    yield server
    server.close()


def test_a_trickling_endpoint_is_cut_off_at_the_total_deadline(trickler):
    response = safety.post(trickler.url, b"{}", {})
    assert response.status_code is None
    assert response.error == f"Timed out: no complete answer within {DEADLINE} s."
    assert DEADLINE * 1000 - 1000 <= response.duration_ms <= DEADLINE * 1000 + 1000  # the deadline, +-1 s
    assert trickler.connections == 1


@pytest.mark.django_db
def test_the_attempt_is_logged_as_a_timeout_and_the_lease_outlasts_the_deadline(trickler, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda *args, **kwargs: None)
    owner = OwnerFactory()
    _endpoint, _secret = services.endpoint_create(user=owner.user, organization=owner.organization, url=trickler.url,
                                                 events=["job.succeeded"])
    [delivery] = services.event_received(
        Event(type="job.succeeded", organization_id=owner.organization_id, data={"job_id": 1, "status": "succeeded"})
    )
    assert services.claim_lease() > timedelta(seconds=DEADLINE)
    now = timezone.now()
    attempt = services.delivery_attempt(delivery_id=delivery.pk, now=now)
    [logged] = WebhookAttempt.objects.filter(delivery=delivery)
    assert logged.pk == attempt.pk
    assert logged.status_code is None
    assert logged.error.startswith("Timed out")
    assert logged.duration_ms <= DEADLINE * 1000 + 1000
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)  # retried on the schedule, not at once
    assert delivery.next_attempt_at == now + timedelta(seconds=services.RETRY_DELAYS[0])
    assert trickler.connections == 1
