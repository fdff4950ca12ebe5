"""Provenance of tool outputs: a signed C2PA manifest for every file, embedded where the format allows it.

What each manifest says depends on how the output came to be (`OutputKind`, chosen per tool output by the table in
`beta/output_provenance.py`):

* a rendition of the partner's own media (a proxy, a poster, a contact sheet, a shot still) is ``c2pa.opened`` on
  the input, a ``parentOf`` ingredient carrying the input's SHA-256, then ``c2pa.transcoded`` or ``c2pa.edited``,
  with no AI digital source type: it is the partner's footage, not AI-generated;
* an output a model changed (an upscale) is ``c2pa.edited`` with ``compositeWithTrainedAlgorithmicMedia`` and the
  model named in the action's ``softwareAgent``;
* an output made by a model or an algorithm (Bedrock images and video, a transcript, a cut list) is ``c2pa.created``
  with ``trainedAlgorithmicMedia`` or ``algorithmicMedia``; inputs it was made from are ``inputTo`` ingredients.

Every manifest also carries ``cawg.training-mining`` (every entry ``notAllowed``) and ``com.greenlight.job`` (tool,
tool version, job, studio, parameters, output role). JPEG, PNG, PDF and ISO BMFF video (MP4, MOV) carry the manifest
embedded; every output, embeddable or not (SRT, JSON, CSV, EDL...), also gets the manifest store as a standard C2PA
sidecar ``<name>.c2pa`` that a C2PA reader validates against the file's bytes (a data hash over the whole file for
formats C2PA cannot embed in). A JSON summary ``<name>.provenance.json`` (unsigned) is kept for people and scripts.

All use of the ``c2pa`` package (c2pa-python) lives in this module.

Signing identity. ``C2PA_CERT_CHAIN_PATH`` names a PEM certificate chain (signer first, then intermediates, without
the root) and either ``C2PA_SIGNING_KEY_PATH`` a PEM private key, or ``C2PA_KMS_KEY_ID`` an AWS KMS asymmetric key
(ECC_NIST_P256) that signs through ``kms:Sign`` so the key never leaves KMS. When neither is set the portal signs
with a development chain it makes once under ``VAR_DIR/c2pa`` (a root CA, an intermediate CA and an EC P-256
signer); `uses_dev_chain()` says so, and the verify page shows it.

Trust. No public C2PA trust list covers the development root, and the portal has no network access when it
verifies, so ``verify`` adds the roots it should accept as trust anchors: the development root (only while the
development chain is the signing identity) and the PEM bundle named by ``C2PA_TRUST_ANCHORS_PATH``. A file signed
by the development chain therefore verifies as *trusted* through the library's own chain check, not by matching
names (which anyone can copy into a certificate). A signer outside those anchors (``signingCredential.untrusted``)
is reported and makes the result invalid, as does any integrity failure (``assertion.dataHash.mismatch``,
``assertion.bmffHash.mismatch``, ``claimSignature.mismatch``...).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

logger = logging.getLogger(__name__)

CLAIM_GENERATOR = "Greenlight"
JOB_ASSERTION = "com.greenlight.job"
#: The label manifests signed before the per-output vocabulary used for the run record; still read by `verify`.
LEGACY_RUN_ASSERTION = "com.greenlight.run"
#: The ingredient metadata field that carries the input's SHA-256 (hex), the hash the partner's library shows.
INGREDIENT_SHA256 = "com.greenlight.sha256"
IPTC_DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_DIGITAL_SOURCE_TYPE + "trainedAlgorithmicMedia"
COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = IPTC_DIGITAL_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC_MEDIA = IPTC_DIGITAL_SOURCE_TYPE + "algorithmicMedia"
TRAINING_MINING_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_inference", "cawg.ai_training", "cawg.data_mining")
SIDECAR_SUFFIX = ".provenance.json"
SIDECAR_SCHEMA = "greenlight.provenance/2"
#: The standard C2PA sidecar: the manifest store, next to the file as `<name>.c2pa`.
MANIFEST_SUFFIX = ".c2pa"
MANIFEST_CONTENT_TYPE = "application/c2pa"
#: The format non-embeddable files are signed and read as: a data hash over every byte of the file.
DATA_FORMAT = "application/octet-stream"
PARENT_OF, INPUT_TO = "parentOf", "inputTo"
#: C2PA 2.x actions the table may use for the step that made an output.
ACTIONS = frozenset({"c2pa.created", "c2pa.edited", "c2pa.transcoded"})

#: Extended key usages accepted on a C2PA signing certificate (the C2PA specification's list): emailProtection,
#: documentSigning, c2pa-kp-claimSigning, Microsoft's C2PA signing OID; timeStamping and OCSPSigning for the TSA and
#: OCSP responders. Set explicitly because the library's default omits documentSigning.
ALLOWED_EKUS = (
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.36",
    "1.3.6.1.4.1.62558.2.1",
    "1.3.6.1.4.1.311.76.59.1.9",
    "1.3.6.1.5.5.7.3.8",
    "1.3.6.1.5.5.7.3.9",
)
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ProvenanceError(Exception):
    """An output that should carry a C2PA manifest could not be signed; the file is left as it was."""


# --- Records ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutputKind:
    """How one kind of output came to be, in C2PA's and IPTC's words (one row of the output provenance table)."""

    #: the step that made the output: c2pa.transcoded, c2pa.edited (on the input) or c2pa.created
    action: str
    #: what was done, in plain words: the action's description
    description: str
    #: the IPTC digital source type; None for a rendition of the partner's own media (no AI, nothing synthetic)
    digital_source_type: str | None = None
    #: the action's softwareAgent is the model that did the work (named in RunRecord.model), not the tool
    model_agent: bool = False

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"not an action this portal signs: {self.action!r}")
        if self.action == "c2pa.created" and not self.digital_source_type:
            raise ValueError("a created output must say its digital source type")
        if self.model_agent and not self.digital_source_type:
            raise ValueError("an output a model worked on must say so in its digital source type")

    @property
    def relationship(self) -> str:
        """How the inputs relate: the parent of an edit or a rendition; input to something created from them."""
        return INPUT_TO if self.action == "c2pa.created" else PARENT_OF


@dataclass(frozen=True)
class SourceFile:
    """An input of the run: its SHA-256 always; its local copy when at hand (a job parked on a service has none)."""

    sha256: str
    title: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class RunRecord:
    """What made an output: the tool run, as written into the manifest and the sidecar."""

    tool: str
    tool_version: str
    inputs_sha256: tuple[str, ...]
    parameters: dict[str, Any]
    organization: str
    job_id: str = ""
    created_at: dt.datetime = field(default_factory=timezone.now)
    #: the model that did the work (for outputs a model made or changed), e.g. "RealESRGAN_x2plus"
    model: str = ""
    #: the inputs as ingredients; when empty, ingredients are recorded from `inputs_sha256` alone
    sources: tuple[SourceFile, ...] = ()

    def __post_init__(self) -> None:
        digests = tuple(str(d).lower() for d in self.inputs_sha256)
        for digest in digests + tuple(str(s.sha256).lower() for s in self.sources):
            if not _SHA256_HEX.fullmatch(digest):
                raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        if timezone.is_naive(self.created_at):
            raise ValueError("created_at must be timezone-aware")
        try:  # a copy, so later changes to the caller's dict cannot change the record; and JSON-able or refused now
            parameters = json.loads(json.dumps(self.parameters))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameters must be JSON-serialisable: {exc}") from exc
        object.__setattr__(self, "inputs_sha256", digests)
        object.__setattr__(self, "parameters", parameters)
        object.__setattr__(self, "organization", str(self.organization))
        object.__setattr__(self, "job_id", str(self.job_id) if self.job_id else "")
        if not self.sources:
            object.__setattr__(self, "sources", tuple(SourceFile(sha256=d) for d in digests))
        else:
            object.__setattr__(
                self, "sources", tuple(SourceFile(s.sha256.lower(), s.title, s.path) for s in self.sources)
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "tool_version": self.tool_version,
            "model": self.model or None,
            "inputs_sha256": list(self.inputs_sha256),
            "parameters": self.parameters,
            "organization": self.organization,
            "job_id": self.job_id or None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class SigningIdentity:
    """A certificate chain and what signs for it: a PEM private key, or a callback (AWS KMS) that never shows it."""

    private_key_pem: bytes
    cert_chain_pem: bytes
    alg: str = "es256"
    tsa_url: str | None = None
    #: signs the bytes C2PA gives it and returns the raw signature (for ES256: r || s, 64 bytes)
    sign_callback: Callable[[bytes], bytes] | None = None
    #: the development chain (no public trust: say so wherever a signature is shown)
    development: bool = False


@dataclass(frozen=True)
class ProvenanceResult:
    embedded: bool
    sidecar_path: Path
    sha256: str
    #: the C2PA manifest store as a standard sidecar, `<name>.c2pa`
    manifest_path: Path | None = None


@dataclass
class VerificationResult:
    valid: bool
    embedded: bool
    manifest: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    #: The sidecar's content when one was found next to the file.
    sidecar: dict[str, Any] | None = None
    #: The library's overall state for the manifest: "Trusted", "Valid" or "Invalid".
    validation_state: str | None = None
    #: The manifest came from a `.c2pa` sidecar next to the file (not from inside it).
    from_manifest_sidecar: bool = False


# --- Signing identity -------------------------------------------------------------------------------------------------
def uses_dev_chain() -> bool:
    """True while outputs are signed with the generated development chain, which no one outside this portal trusts."""
    return not (
        getattr(settings, "C2PA_SIGNING_KEY_PATH", "")
        or getattr(settings, "C2PA_CERT_CHAIN_PATH", "")
        or getattr(settings, "C2PA_KMS_KEY_ID", "")
    )



def _dev_chain_dir() -> Path:
    return Path(settings.VAR_DIR) / "c2pa"


def signing_identity() -> SigningIdentity:
    """The identity outputs are signed with: a KMS key or a PEM key with the configured chain, else the dev chain."""
    key_path = getattr(settings, "C2PA_SIGNING_KEY_PATH", "")
    chain_path = getattr(settings, "C2PA_CERT_CHAIN_PATH", "")
    kms_key_id = getattr(settings, "C2PA_KMS_KEY_ID", "")
    alg = getattr(settings, "C2PA_SIGNING_ALG", "") or "es256"
    tsa_url = getattr(settings, "C2PA_TSA_URL", "") or None
    if uses_dev_chain():
        identity = ensure_dev_chain(_dev_chain_dir())
        return SigningIdentity(identity.private_key_pem, identity.cert_chain_pem, identity.alg, tsa_url,
                               development=True)  # fmt: skip
    if key_path and kms_key_id:
        raise ImproperlyConfigured("Set C2PA_SIGNING_KEY_PATH or C2PA_KMS_KEY_ID, not both.")
    if not chain_path or not (key_path or kms_key_id):
        raise ImproperlyConfigured(
            "Set C2PA_CERT_CHAIN_PATH with C2PA_SIGNING_KEY_PATH or C2PA_KMS_KEY_ID, or none of them."
        )
    chain = Path(chain_path).read_bytes()
    if kms_key_id:
        import boto3

        client = boto3.client("kms", region_name=getattr(settings, "C2PA_KMS_REGION", "") or None)
        return kms_signing_identity(client, kms_key_id, chain, tsa_url=tsa_url)
    return SigningIdentity(Path(key_path).read_bytes(), chain, alg, tsa_url)


def kms_signing_identity(
    client: Any, key_id: str, cert_chain_pem: bytes, *, tsa_url: str | None = None
) -> SigningIdentity:
    """An ES256 identity whose key stays in AWS KMS: each signature is one `kms:Sign` call on the message's digest.

    KMS takes the SHA-256 digest (MessageType DIGEST, so the message may be any size; RAW is limited to 4 KB) and
    returns an ASN.1 DER ECDSA signature; C2PA (COSE) wants the raw r || s, 32 bytes each, so it is converted here.
    """

    def sign(data: bytes) -> bytes:
        response = client.sign(
            KeyId=key_id,
            Message=hashlib.sha256(data).digest(),
            MessageType="DIGEST",
            SigningAlgorithm="ECDSA_SHA_256",
        )
        return der_to_raw_ecdsa(response["Signature"], size=32)

    return SigningIdentity(b"", cert_chain_pem, "es256", tsa_url, sign_callback=sign)


def der_to_raw_ecdsa(signature: bytes, *, size: int) -> bytes:
    """An ASN.1 DER ECDSA signature (SEQUENCE of r, s) as the fixed-width r || s that COSE uses."""
    r, s = decode_dss_signature(signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def trust_anchors_pem() -> str:
    """PEM roots `verify` trusts: C2PA_TRUST_ANCHORS_PATH, plus the development root while it signs."""
    pems = []
    anchors_path = getattr(settings, "C2PA_TRUST_ANCHORS_PATH", "")
    if anchors_path:
        pems.append(Path(anchors_path).read_text())
    if uses_dev_chain():
        root = _dev_chain_dir() / "root-ca.pem"
        if root.is_file():
            pems.append(root.read_text())
    return "".join(pems)


_DEV_KEY = "signer.key"
_DEV_CHAIN = "chain.pem"
_DEV_ROOT = "root-ca.pem"
_DEV_RENEW_BEFORE = dt.timedelta(days=7)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time makes the chain, so two workers starting together do not write two."""
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_dev_chain(directory: Path) -> SigningIdentity:
    """A development signing chain in `directory`, made on first use and reused until the signer nears expiry.

    Root CA -> intermediate CA -> EC P-256 signer with digitalSignature and the documentSigning and emailProtection
    extended key usages (documentSigning is C2PA's; emailProtection keeps older verifiers happy). Only the signer's
    key is kept (0600); the CA keys are discarded, so no one can issue further certificates under this root.
    """
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(directory):
        key_file, chain_file, root_file = directory / _DEV_KEY, directory / _DEV_CHAIN, directory / _DEV_ROOT
        if not _dev_chain_usable(key_file, chain_file, root_file):
            logger.info("making a development C2PA signing chain in %s", directory)
            key_pem, chain_pem, root_pem = _make_dev_chain()
            _write_atomic(root_file, root_pem, 0o644)
            _write_atomic(chain_file, chain_pem, 0o644)
            _write_atomic(key_file, key_pem, 0o600)
        return SigningIdentity(key_file.read_bytes(), chain_file.read_bytes(), development=True)


def _dev_chain_usable(key_file: Path, chain_file: Path, root_file: Path) -> bool:
    if not (key_file.is_file() and chain_file.is_file() and root_file.is_file()):
        return False
    try:
        leaf = x509.load_pem_x509_certificates(chain_file.read_bytes())[0]
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except ValueError:
        return False
    now = timezone.now()
    same_key = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return same_key and leaf.not_valid_before_utc <= now and now + _DEV_RENEW_BEFORE < leaf.not_valid_after_utc


def _make_dev_chain() -> tuple[bytes, bytes, bytes]:
    now = timezone.now()
    tag = uuid.uuid4().hex[:8]  # tells one machine's development chain from another's

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Greenlight (development)"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} {tag}"),
            ]
        )

    def issue(
        subject_key: Any, subject: x509.Name, issuer_key: Any, issuer: x509.Name, *, days: int, ca: bool,
        path_length: int | None = None, extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))  # tolerate a little clock skew between hosts
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        for extension, critical in extra:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(issuer_key, hashes.SHA256())

    root_key, intermediate_key, signer_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name, intermediate_name = name("Greenlight dev root CA"), name("Greenlight dev intermediate CA")
    root = issue(root_key, root_name, root_key, root_name, days=3650, ca=True, path_length=1)
    intermediate = issue(intermediate_key, intermediate_name, root_key, root_name, days=1825, ca=True, path_length=0)
    eku = x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION])
    signer_name = name("Greenlight dev signer")
    signer = issue(
        signer_key, signer_name, intermediate_key, intermediate_name, days=365, ca=False, extra=[(eku, False)]
    )

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    key_pem = signer_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, pem(signer) + pem(intermediate), pem(root)


# --- Signing ----------------------------------------------------------------------------------------------------------
def sign_output(
    path: Path, record: RunRecord, *, kind: OutputKind, role: str = "", signer: SigningIdentity | None = None
) -> ProvenanceResult:
    """Sign `path` as `kind` says it was made: embed the manifest when the format allows, and write `<name>.c2pa`
    (the same manifest store, a standard C2PA sidecar) and the JSON summary next to it.

    The file is replaced atomically: a reader sees the old bytes or the signed ones, never half of either.
    Raises ProvenanceError when the file cannot be signed (the file is then unchanged, no sidecar written).
    """
    path = Path(path)
    mime_type = c2pa_format(path)
    identity = signer or signing_identity()
    manifest = _sign(path, mime_type, _manifest_definition(path, record, kind, role), record, kind, identity)
    manifest_file = manifest_path(path)
    _write_atomic(manifest_file, manifest, 0o644)
    digest = sha256_file(path)
    sidecar = sidecar_path(path)
    payload = {
        "schema": SIDECAR_SCHEMA,
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": digest,
        "action": kind.action,
        "ai_generated": kind.digital_source_type is not None,
        "digital_source_type": kind.digital_source_type,
        "ingredients": [
            {"relationship": kind.relationship, "sha256": source.sha256, "title": source.title or None}
            for source in record.sources
        ],
        "training": "notAllowed",
        "training_mining": _training_mining_entries(),
        "c2pa_embedded": mime_type is not None,
        "c2pa_format": mime_type,
        "c2pa_manifest": manifest_file.name,
        "claim_generator": CLAIM_GENERATOR,
        "signed_with_development_chain": identity.development,
        "run": {**record.as_dict(), "role": role or None},
    }
    _write_atomic(sidecar, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode(), 0o644)
    return ProvenanceResult(
        embedded=mime_type is not None, sidecar_path=sidecar, sha256=digest, manifest_path=manifest_file
    )


def _training_mining_entries() -> dict[str, dict[str, str]]:
    return {entry: {"use": "notAllowed"} for entry in TRAINING_MINING_ENTRIES}


def _ingredient_label(index: int) -> str:
    return f"input-{index + 1}"


def _software_agent(record: RunRecord, kind: OutputKind) -> dict[str, str]:
    if kind.model_agent and record.model:
        return {"name": record.model}
    return {"name": f"{CLAIM_GENERATOR} {record.tool}", "version": record.tool_version}


def _manifest_definition(path: Path, record: RunRecord, kind: OutputKind, role: str) -> dict[str, Any]:
    """The manifest: the actions that made the output, its training-mining refusal and the job that ran."""
    labels = [_ingredient_label(i) for i in range(len(record.sources))]
    step: dict[str, Any] = {
        "action": kind.action,
        "description": kind.description,
        "softwareAgent": _software_agent(record, kind),
        "when": record.created_at.isoformat(),
    }
    if kind.digital_source_type:
        step["digitalSourceType"] = kind.digital_source_type
    actions: list[dict[str, Any]]
    if kind.relationship == PARENT_OF:
        # C2PA 2.x: an edit starts by opening its parent; the step that made the output follows.
        opened = {"action": "c2pa.opened", "when": record.created_at.isoformat(),
                  "parameters": {"ingredientIds": labels}}  # fmt: skip
        actions = [opened, step]
    else:
        if labels:
            step["parameters"] = {"ingredientIds": labels}
        actions = [step]
    return {
        "claim_generator_info": [{"name": CLAIM_GENERATOR}],
        "title": path.name,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": "cawg.training-mining", "data": {"entries": _training_mining_entries()}},
            {"label": JOB_ASSERTION, "data": {**record.as_dict(), "role": role or None}},
        ],
    }


def _c2pa_context(*, anchors: str = "") -> c2pa.Context:
    trust: dict[str, str] = {"trust_config": "\n".join(ALLOWED_EKUS)}
    if anchors:
        trust["user_anchors"] = anchors
    return c2pa.Context.from_dict(
        {
            "trust": trust,
            # Offline: the portal fetches neither remote manifests nor OCSP responses.
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_after_sign": True},
            # The portal makes its own thumbnails; a copy of the partner's frame in the metadata adds nothing.
            "builder": {"thumbnail": {"enabled": False}},
        }
    )


def _c2pa_signer(identity: SigningIdentity) -> c2pa.Signer:
    if identity.sign_callback is not None:
        alg = getattr(c2pa.C2paSigningAlg, identity.alg.upper())
        chain = identity.cert_chain_pem.decode()
        return c2pa.Signer.from_callback(identity.sign_callback, alg, chain, identity.tsa_url)
    info = c2pa.C2paSignerInfo(identity.alg, identity.cert_chain_pem, identity.private_key_pem, identity.tsa_url)
    return c2pa.Signer.from_info(info)


def _add_ingredients(builder: c2pa.Builder, record: RunRecord, kind: OutputKind) -> None:
    """Each input as an ingredient with its SHA-256; its bytes are read when at hand (so a manifest it carries, e.g.
    an earlier Greenlight output's, is kept as the ingredient's), else an empty stand-in stream.

    A partner's file the C2PA library cannot parse as its format (a damaged or unusual MP4) is still the input: it is
    recorded by its SHA-256 with the stand-in, rather than failing the job's signing."""
    for index, source in enumerate(record.sources):
        ingredient = {
            "title": source.title or f"input {index + 1}",
            "relationship": kind.relationship,
            "label": _ingredient_label(index),
            "metadata": {INGREDIENT_SHA256: source.sha256},
        }
        if source.path is not None and Path(source.path).is_file():
            fmt = c2pa_format(Path(source.path)) or DATA_FORMAT
            try:
                with open(source.path, "rb") as stream:
                    builder.add_ingredient(ingredient, fmt, stream)
                continue
            except c2pa.C2paError as exc:
                logger.warning("provenance: input %s read by its hash only (%s)", index + 1, exc)
        builder.add_ingredient(ingredient, DATA_FORMAT, io.BytesIO(b""))


def _sign(
    path: Path, mime_type: str | None, definition: dict[str, Any], record: RunRecord, kind: OutputKind,
    identity: SigningIdentity,
) -> bytes:
    """Sign `path` in place (embedded) or not (data hash); return the manifest store bytes for the `.c2pa`."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".c2pa-tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as dest, open(path, "rb") as source:
            with (
                _c2pa_signer(identity) as signer,
                _c2pa_context() as context,
                c2pa.Builder(definition, context=context) as builder,
            ):
                _add_ingredients(builder, record, kind)
                if mime_type is None:
                    builder.set_no_embed()
                manifest = bytes(builder.sign(signer, mime_type or DATA_FORMAT, source, dest))
            dest.flush()
            os.fsync(dest.fileno())
        if mime_type is not None:
            shutil.copymode(path, tmp)
            tmp.replace(path)
        else:
            tmp.unlink()
    except c2pa.C2paError as exc:
        tmp.unlink(missing_ok=True)
        raise ProvenanceError(f"could not sign {path.name} ({mime_type or 'sidecar'}): {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


# --- Verification -----------------------------------------------------------------------------------------------------
def verify(path: Path) -> VerificationResult:
    """Check a file's provenance: its C2PA manifest (embedded, or the `<name>.c2pa` sidecar next to it) and, when
    present, the JSON summary's SHA-256.

    Valid means: the manifest validates with no failure (integrity, signature, trusted signer) and, when a JSON
    summary is next to the file, the file's SHA-256 matches it. A file with neither manifest needs a summary that
    matches (outputs stored before `.c2pa` sidecars existed).
    """
    path = Path(path)
    result = VerificationResult(valid=False, embedded=False)
    if not path.is_file():
        result.errors.append(f"{path.name}: no such file")
        return result

    result.sidecar = _read_sidecar(path, result.errors)
    mime_type = c2pa_format(path)
    if mime_type is not None:
        _verify_manifest(path, mime_type, result, None)
    external = manifest_path(path)
    if not result.embedded and external.is_file():
        result.from_manifest_sidecar = True
        _verify_manifest(path, mime_type or DATA_FORMAT, result, external.read_bytes())
    found = result.embedded or result.from_manifest_sidecar

    if result.sidecar is not None:
        recorded = result.sidecar.get("sha256")
        actual = sha256_file(path)
        if recorded != actual:
            result.errors.append(
                f"the file's SHA-256 ({actual}) differs from the one in {sidecar_path(path).name} ({recorded}): "
                "the file was changed after it was recorded"
            )
        if result.sidecar.get("c2pa_embedded") and not result.embedded:
            result.errors.append("the sidecar says a C2PA manifest was embedded, but the file has none")
    elif not found:
        result.errors.append(
            f"no C2PA manifest in the file and no sidecar ({external.name} or {sidecar_path(path).name}) next to it"
        )

    result.valid = not result.errors
    return result


def _verify_manifest(path: Path, mime_type: str, result: VerificationResult, manifest_data: bytes | None) -> None:
    """Read and validate the manifest: embedded (`manifest_data` None) or from a `.c2pa` sidecar's bytes."""
    try:
        with open(path, "rb") as stream, _c2pa_context(anchors=trust_anchors_pem()) as context:
            if manifest_data is None:
                reader = c2pa.Reader.try_create(mime_type, stream, None, context)
                if reader is None:
                    return
            else:
                reader = c2pa.Reader(mime_type, stream, manifest_data, context=context)
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        # C2PA data is there but cannot be parsed: a damaged manifest store is a failed check, not "unsigned".
        result.embedded = manifest_data is None
        result.errors.append(f"the C2PA manifest cannot be read: {exc}")
        return

    result.embedded = manifest_data is None
    result.validation_state = store.get("validation_state")
    active = store.get("active_manifest")
    result.manifest = store.get("manifests", {}).get(active) if active else None
    if result.manifest is None:
        result.errors.append("the C2PA manifest store has no active manifest")

    failures = _failures(store)
    for status in failures:
        code = status.get("code", "unknown")
        message = f"{code}: {status.get('explanation') or 'failed'}"
        if code == "signingCredential.untrusted":
            message += " (the signer's root is not a trust anchor; set C2PA_TRUST_ANCHORS_PATH to trust it)"
        result.errors.append(message)
    if not failures and result.validation_state not in ("Valid", "Trusted"):
        result.errors.append(f"C2PA validation state is {result.validation_state}")


def _failures(store: dict[str, Any]) -> list[dict[str, Any]]:
    """Failure statuses of the active manifest and of its ingredients (the library's validation_results)."""
    results = store.get("validation_results")
    if results is None:  # older layout: one flat list, failures only
        return list(store.get("validation_status") or [])
    failures = list((results.get("activeManifest") or {}).get("failure") or [])
    for delta in results.get("ingredientDeltas") or []:
        failures.extend((delta.get("validationDeltas") or {}).get("failure") or [])
    return failures


def _read_sidecar(path: Path, errors: list[str]) -> dict[str, Any] | None:
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        errors.append(f"{sidecar.name} is not valid JSON: {exc}")
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
        errors.append(f"{sidecar.name} has no sha256")
        return None
    return data


def manifest_summary(result: VerificationResult) -> dict[str, Any]:
    """The facts a person checks, from the manifest when there is one, else from the JSON summary."""
    summary: dict[str, Any] = {
        "tool": None, "tool_version": None, "action": None, "digital_source_type": None, "software_agent": None,
        "training_mining": {}, "ingredients": [],
    }  # fmt: skip
    if result.manifest is not None:
        _summarise_manifest(result.manifest, summary)
    elif result.sidecar is not None:
        run = result.sidecar.get("run") or {}
        summary["tool"], summary["tool_version"] = run.get("tool"), run.get("tool_version")
        summary["action"] = result.sidecar.get("action")
        summary["digital_source_type"] = result.sidecar.get("digital_source_type")
        summary["training_mining"] = {
            k: (v or {}).get("use") for k, v in result.sidecar.get("training_mining", {}).items()
        }
        summary["ingredients"] = list(result.sidecar.get("ingredients") or [])
        summary["run"] = run
    return summary


def _summarise_manifest(manifest: dict[str, Any], summary: dict[str, Any]) -> None:
    """The signer, the ingredients, the last action's facts, training-mining and the run, into `summary`."""
    signature = manifest.get("signature_info") or {}
    summary["signer"] = ", ".join(filter(None, [signature.get("common_name"), signature.get("issuer")])) or None
    summary["ingredients"] = [
        {"relationship": i.get("relationship"), "title": i.get("title"),
         "sha256": (i.get("metadata") or {}).get(INGREDIENT_SHA256)}
        for i in manifest.get("ingredients") or []
    ]  # fmt: skip
    for assertion in manifest.get("assertions") or []:
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label in ("c2pa.actions", "c2pa.actions.v2"):
            made = [a for a in data.get("actions") or [] if a.get("action") != "c2pa.opened"]
            if made:
                step = made[-1]
                summary["action"] = step.get("action")
                summary["digital_source_type"] = step.get("digitalSourceType")
                agent = step.get("softwareAgent")
                if isinstance(agent, dict):
                    summary["software_agent"] = " ".join(filter(None, [agent.get("name"), agent.get("version")]))
        elif label == "cawg.training-mining":
            summary["training_mining"] = {k: (v or {}).get("use") for k, v in (data.get("entries") or {}).items()}
        elif label in (JOB_ASSERTION, LEGACY_RUN_ASSERTION):
            summary["run"] = data
            summary["tool"], summary["tool_version"] = data.get("tool"), data.get("tool_version")


# --- Files ------------------------------------------------------------------------------------------------------------
def c2pa_format(path: Path) -> str | None:
    """The MIME type to embed a manifest with, by the file's first bytes; None when not JPEG, PNG, PDF or BMFF."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return None


def sidecar_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def manifest_path(path: Path) -> Path:
    """The standard C2PA sidecar of `path`: `<name>.c2pa`, the file's full name (so a.en.srt and a.en.vtt differ)."""
    path = Path(path)
    return path.with_name(path.name + MANIFEST_SUFFIX)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
