"""Production signing through AWS KMS (assets/provenance.py `kms_signing_identity`), with botocore's Stubber.

The Stubber checks the real `Sign` request shape; its response is the real ECDSA signature (DER, as KMS returns it)
of the digest the request carries, made with an EC P-256 key generated here that stands in for the KMS key. The
C2PA Reader then validates the signed file, which it can only do if the digest, the DER to r || s conversion and the
certificate chain all agree.
"""

import datetime as dt
import hashlib
import json

import boto3
import c2pa
import pytest
from botocore.stub import ANY, Stubber
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from assets import provenance
from assets.provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    OutputKind,
    RunRecord,
    der_to_raw_ecdsa,
    kms_signing_identity,
    sign_output,
    signing_identity,
    verify,
)

KEY_ID = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GENERATED = OutputKind("c2pa.created", "Generated from a prompt", TRAINED_ALGORITHMIC_MEDIA)


@pytest.fixture
def kms_chain(tmp_path, settings):
    """A chain whose signer key is the stand-in for the KMS key; its root is the verifier's trust anchor."""
    key_pem, chain_pem, root_pem = provenance._make_dev_chain()
    (tmp_path / "root.pem").write_bytes(root_pem)
    settings.VAR_DIR = tmp_path / "var"
    settings.C2PA_SIGNING_KEY_PATH = ""
    settings.C2PA_CERT_CHAIN_PATH = str(tmp_path / "chain.pem")
    (tmp_path / "chain.pem").write_bytes(chain_pem)
    settings.C2PA_KMS_KEY_ID = KEY_ID
    settings.C2PA_KMS_REGION = "eu-west-1"
    settings.C2PA_TRUST_ANCHORS_PATH = str(tmp_path / "root.pem")
    return serialization.load_pem_private_key(key_pem, password=None), chain_pem


@pytest.fixture
def kms(kms_chain):
    """A KMS client whose `Sign` is stubbed: each response is the real signature of the digest it is asked for."""
    key, _chain = kms_chain
    client = boto3.client(
        "kms", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    pending = {"KeyId": KEY_ID, "Signature": b"", "SigningAlgorithm": "ECDSA_SHA_256"}
    messages = []

    def sign_what_is_asked(params, **_kwargs):
        messages.append(params["Message"])
        pending["Signature"] = key.sign(params["Message"], ec.ECDSA(Prehashed(hashes.SHA256())))

    client.meta.events.register("before-parameter-build.kms.Sign", sign_what_is_asked)
    expected = {"KeyId": KEY_ID, "Message": ANY, "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256"}
    stubber.add_response("sign", pending, expected)
    with stubber:
        yield client, stubber, messages


def test_der_signatures_become_fixed_width_r_and_s():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.sign(b"message", ec.ECDSA(hashes.SHA256()))

    raw = der_to_raw_ecdsa(der, size=32)

    assert len(raw) == 64
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key.public_key().verify(encode_dss_signature(r, s), b"message", ec.ECDSA(hashes.SHA256()))


def test_a_file_signed_through_kms_validates(kms, kms_chain, tmp_path):
    client, stubber, messages = kms
    _key, chain = kms_chain
    path = tmp_path / "dialogue.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,500\nWe go again.\n")
    record = RunRecord("transcribe", "1.0.0", (hashlib.sha256(b"clip").hexdigest(),), {}, "org", "7",
                       created_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))  # fmt: skip

    result = sign_output(path, record, kind=GENERATED, signer=kms_signing_identity(client, KEY_ID, chain))

    stubber.assert_no_pending_responses()
    assert len(messages) == 1
    assert len(messages[0]) == 32  # a SHA-256 digest, not the message: KMS's RAW mode stops at 4 KB
    check = verify(path)
    assert check.valid, check.errors
    assert check.validation_state == "Trusted"
    with open(path, "rb") as stream, provenance._c2pa_context(anchors=provenance.trust_anchors_pem()) as context:
        reader = c2pa.Reader("application/octet-stream", stream, result.manifest_path.read_bytes(), context=context)
        with reader:
            store = json.loads(reader.json())
    assert store["manifests"][store["active_manifest"]]["signature_info"]["alg"] == "Es256"


def test_settings_choose_the_kms_signer_and_not_the_dev_chain(kms_chain):
    identity = signing_identity()

    assert identity.sign_callback is not None
    assert identity.private_key_pem == b""
    assert not identity.development
    assert not provenance.uses_dev_chain()


def test_a_key_file_and_a_kms_key_together_are_refused(kms_chain, settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    settings.C2PA_SIGNING_KEY_PATH = str(tmp_path / "key.pem")
    with pytest.raises(ImproperlyConfigured):
        signing_identity()
