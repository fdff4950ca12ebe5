"""Standard Webhooks signing, checked against the `standardwebhooks` reference library."""

import base64
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks import signing


def test_a_secret_is_whsec_and_32_random_bytes_of_base64():
    secret = signing.secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.secret_generate() != secret


def test_a_message_id_is_msg_and_unique():
    ids = {signing.message_id_generate() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("msg_") for i in ids)


def test_the_library_verifies_our_headers_and_returns_the_payload():
    secret = signing.secret_generate()
    body = json.dumps({"type": "job.succeeded", "data": {"job_id": 7}}).encode()
    headers = signing.headers([secret], "msg_abc", int(time.time()), body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "job.succeeded", "data": {"job_id": 7}}


def test_our_signature_is_the_specifications_hmac_of_id_timestamp_and_body():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"a":1}'
    from datetime import UTC, datetime

    expected = Webhook(secret).sign("msg_1", datetime.fromtimestamp(1700000000, tz=UTC), body.decode())
    assert signing.sign(secret, "msg_1", 1700000000, body) == expected


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body + b" ", headers),
        lambda body, headers: (body, {**headers, "webhook-id": "msg_other"}),
        lambda body, headers: (body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}),
    ],
    ids=["body", "id", "timestamp"],
)
def test_a_changed_message_fails_verification(tamper):
    secret = signing.secret_generate()
    body = b'{"type":"job.failed"}'
    headers = signing.headers([secret], "msg_x", int(time.time()), body)
    body, headers = tamper(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_another_secret_fails_verification():
    body = b"{}"
    headers = signing.headers([signing.secret_generate()], "msg_x", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.secret_generate()).verify(body, headers)


def test_during_a_rotation_both_the_new_and_the_old_secret_verify():
    new, old = signing.secret_generate(), signing.secret_generate()
    body = b'{"type":"webhook.test"}'
    headers = signing.headers([new, old], "msg_rot", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)
