"""Provenance of tool outputs: a signed C2PA manifest where the format allows it, and a sidecar JSON for every file.

Every output a tool makes says what made it (tool, version, the inputs' SHA-256, parameters, studio, job), that it
is AI-generated (IPTC digital source type ``trainedAlgorithmicMedia``) and that it is not for AI training or data
mining (``cawg.training-mining``, every entry ``notAllowed``). JPEG, PNG and ISO BMFF video (MP4, MOV) carry this
as an embedded C2PA manifest signed with the portal's certificate; every file, embeddable or not (SRT, JSON, CSV,
EDL...), also gets ``<name>.provenance.json`` next to it with the same record and the file's SHA-256.

All use of the ``c2pa`` package (c2pa-python) lives in this module.

Signing identity. ``C2PA_SIGNING_KEY_PATH`` and ``C2PA_CERT_CHAIN_PATH`` name a PEM private key and a PEM
certificate chain (signer first, then intermediates, without the root). When both are empty the portal signs with
a development chain it makes once under ``VAR_DIR/c2pa`` (a root CA, an intermediate CA and an EC P-256 signer).

Trust. No public C2PA trust list covers the development root, and the portal has no network access when it
verifies, so ``verify`` adds the roots it should accept as trust anchors: the development root (only while the
development chain is the signing identity) and the PEM bundle named by ``C2PA_TRUST_ANCHORS_PATH``. A file signed
by the development chain therefore verifies as *trusted* through the library's own chain check, not by matching
names (which anyone can copy into a certificate). A signer outside those anchors (``signingCredential.untrusted``)
is reported and makes the result invalid, as does any integrity failure (``assertion.dataHash.mismatch``,
``assertion.bmffHash.mismatch``, ``claimSignature.mismatch``...).

The sidecar is not signed: it proves the bytes are the ones the portal recorded (against accidental change, or
when compared with the copy the portal keeps), not who wrote it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

logger = logging.getLogger(__name__)

CLAIM_GENERATOR = "Greenlight"
RUN_ASSERTION = "com.greenlight.run"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
TRAINING_MINING_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_inference", "cawg.ai_training", "cawg.data_mining")
SIDECAR_SUFFIX = ".provenance.json"
SIDECAR_SCHEMA = "greenlight.provenance/1"

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
class RunRecord:
    """What made an output: the tool run, as written into the manifest and the sidecar."""

    tool: str
    tool_version: str
    inputs_sha256: tuple[str, ...]
    parameters: dict[str, Any]
    organization: str
    job_id: str = ""
    created_at: dt.datetime = field(default_factory=timezone.now)

    def __post_init__(self) -> None:
        digests = tuple(str(d).lower() for d in self.inputs_sha256)
        for digest in digests:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "tool_version": self.tool_version,
            "inputs_sha256": list(self.inputs_sha256),
            "parameters": self.parameters,
            "organization": self.organization,
            "job_id": self.job_id or None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class SigningIdentity:
    private_key_pem: bytes
    cert_chain_pem: bytes
    alg: str = "es256"
    tsa_url: str | None = None


@dataclass(frozen=True)
class ProvenanceResult:
    embedded: bool
    sidecar_path: Path
    sha256: str


@dataclass
class VerificationResult:
    valid: bool
    embedded: bool
    manifest: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    #: The sidecar's content when one was found next to the file.
    sidecar: dict[str, Any] | None = None
    #: The library's overall state for an embedded manifest: "Trusted", "Valid" or "Invalid".
    validation_state: str | None = None


# --- Signing identity -------------------------------------------------------------------------------------------------
def _uses_dev_chain() -> bool:
    return not (getattr(settings, "C2PA_SIGNING_KEY_PATH", "") or getattr(settings, "C2PA_CERT_CHAIN_PATH", ""))


def _dev_chain_dir() -> Path:
    return Path(settings.VAR_DIR) / "c2pa"


def signing_identity() -> SigningIdentity:
    """The identity outputs are signed with: the configured key and chain, or the development chain."""
    key_path = getattr(settings, "C2PA_SIGNING_KEY_PATH", "")
    chain_path = getattr(settings, "C2PA_CERT_CHAIN_PATH", "")
    alg = getattr(settings, "C2PA_SIGNING_ALG", "") or "es256"
    tsa_url = getattr(settings, "C2PA_TSA_URL", "") or None
    if not key_path and not chain_path:
        identity = ensure_dev_chain(_dev_chain_dir())
        return SigningIdentity(identity.private_key_pem, identity.cert_chain_pem, identity.alg, tsa_url)
    if not (key_path and chain_path):
        raise ImproperlyConfigured("Set both C2PA_SIGNING_KEY_PATH and C2PA_CERT_CHAIN_PATH, or neither.")
    return SigningIdentity(Path(key_path).read_bytes(), Path(chain_path).read_bytes(), alg, tsa_url)


def trust_anchors_pem() -> str:
    """PEM roots `verify` trusts: C2PA_TRUST_ANCHORS_PATH, plus the development root while it signs."""
    pems = []
    anchors_path = getattr(settings, "C2PA_TRUST_ANCHORS_PATH", "")
    if anchors_path:
        pems.append(Path(anchors_path).read_text())
    if _uses_dev_chain():
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
        return SigningIdentity(key_file.read_bytes(), chain_file.read_bytes())


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
def sign_output(path: Path, record: RunRecord, *, signer: SigningIdentity | None = None) -> ProvenanceResult:
    """Embed a signed C2PA manifest in `path` when its format allows, and write its sidecar; return what was done.

    The file is replaced atomically: a reader sees the old bytes or the signed ones, never half of either.
    Raises ProvenanceError when an embeddable file cannot be signed (the file is then unchanged, no sidecar written).
    """
    path = Path(path)
    mime_type = c2pa_format(path)
    if mime_type is not None:
        _embed_manifest(path, mime_type, record, signer or signing_identity())
    digest = sha256_file(path)
    sidecar = sidecar_path(path)
    payload = {
        "schema": SIDECAR_SCHEMA,
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": digest,
        "ai_generated": True,
        "digital_source_type": TRAINED_ALGORITHMIC_MEDIA,
        "training": "notAllowed",
        "training_mining": _training_mining_entries(),
        "c2pa_embedded": mime_type is not None,
        "c2pa_format": mime_type,
        "claim_generator": CLAIM_GENERATOR,
        "run": record.as_dict(),
    }
    _write_atomic(sidecar, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode(), 0o644)
    return ProvenanceResult(embedded=mime_type is not None, sidecar_path=sidecar, sha256=digest)


def _training_mining_entries() -> dict[str, dict[str, str]]:
    return {entry: {"use": "notAllowed"} for entry in TRAINING_MINING_ENTRIES}


def _manifest_definition(path: Path, record: RunRecord) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": CLAIM_GENERATOR}],
        "title": path.name,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": record.tool, "version": record.tool_version},
                            "when": record.created_at.isoformat(),
                            "parameters": {"com.greenlight.parameters": record.parameters},
                        }
                    ]
                },
            },
            {"label": "cawg.training-mining", "data": {"entries": _training_mining_entries()}},
            {"label": RUN_ASSERTION, "data": record.as_dict()},
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


def _embed_manifest(path: Path, mime_type: str, record: RunRecord, identity: SigningIdentity) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".c2pa-tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as dest, open(path, "rb") as source:
            info = c2pa.C2paSignerInfo(
                identity.alg, identity.cert_chain_pem, identity.private_key_pem, identity.tsa_url
            )
            with (
                c2pa.Signer.from_info(info) as signer,
                _c2pa_context() as context,
                c2pa.Builder(_manifest_definition(path, record), context=context) as builder,
            ):
                builder.sign(signer, mime_type, source, dest)
            dest.flush()
            os.fsync(dest.fileno())
        shutil.copymode(path, tmp)
        tmp.replace(path)
    except c2pa.C2paError as exc:
        tmp.unlink(missing_ok=True)
        raise ProvenanceError(f"could not embed a C2PA manifest in {path.name} ({mime_type}): {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- Verification -----------------------------------------------------------------------------------------------------
def verify(path: Path) -> VerificationResult:
    """Check a file's provenance: its embedded C2PA manifest if it has one, and its sidecar's SHA-256 if present.

    Valid means: the manifest validates with no failure (integrity, signature, trusted signer) and, when a sidecar
    is next to the file, the file's SHA-256 matches it. A file with no manifest needs a sidecar that matches.
    """
    path = Path(path)
    result = VerificationResult(valid=False, embedded=False)
    if not path.is_file():
        result.errors.append(f"{path.name}: no such file")
        return result

    result.sidecar = _read_sidecar(path, result.errors)
    mime_type = c2pa_format(path)
    if mime_type is not None:
        _verify_manifest(path, mime_type, result)

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
    elif not result.embedded:
        result.errors.append(f"no C2PA manifest in the file and no sidecar {sidecar_path(path).name} next to it")

    result.valid = not result.errors
    return result


def _verify_manifest(path: Path, mime_type: str, result: VerificationResult) -> None:
    try:
        with open(path, "rb") as stream, _c2pa_context(anchors=trust_anchors_pem()) as context:
            reader = c2pa.Reader.try_create(mime_type, stream, None, context)
            if reader is None:
                return
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        # C2PA data is there but cannot be parsed: a damaged manifest store is a failed check, not "unsigned".
        result.embedded = True
        result.errors.append(f"the C2PA manifest cannot be read: {exc}")
        return

    result.embedded = True
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


def _summarise_manifest(manifest: dict[str, Any], summary: dict[str, Any]) -> None:
    """The signer, and the facts of the manifest's assertions, into `summary`."""
    signature = manifest.get("signature_info") or {}
    summary["signer"] = ", ".join(filter(None, [signature.get("common_name"), signature.get("issuer")])) or None
    for assertion in manifest.get("assertions") or []:
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label in ("c2pa.actions", "c2pa.actions.v2"):
            _summarise_actions(data.get("actions") or [], summary)
        elif label == "cawg.training-mining":
            summary["training_mining"] = {k: (v or {}).get("use") for k, v in (data.get("entries") or {}).items()}
        elif label == RUN_ASSERTION:
            summary["run"] = data


def _summarise_actions(actions: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """The tool (software agent) and digital source type of the manifest's c2pa.created action."""
    for action in actions:
        if action.get("action") == "c2pa.created":
            agent = action.get("softwareAgent")
            if isinstance(agent, dict):
                summary["tool"], summary["tool_version"] = agent.get("name"), agent.get("version")
            summary["digital_source_type"] = action.get("digitalSourceType")


def manifest_summary(result: VerificationResult) -> dict[str, Any]:
    """The facts a person checks, from the manifest when embedded, else from the sidecar."""
    summary: dict[str, Any] = {"tool": None, "tool_version": None, "digital_source_type": None, "training_mining": {}}
    if result.manifest is not None:
        _summarise_manifest(result.manifest, summary)
    elif result.sidecar is not None:
        run = result.sidecar.get("run") or {}
        summary["tool"], summary["tool_version"] = run.get("tool"), run.get("tool_version")
        summary["digital_source_type"] = result.sidecar.get("digital_source_type")
        summary["training_mining"] = {
            k: (v or {}).get("use") for k, v in result.sidecar.get("training_mining", {}).items()
        }
        summary["run"] = run
    return summary


# --- Files ------------------------------------------------------------------------------------------------------------
def c2pa_format(path: Path) -> str | None:
    """The MIME type to embed a manifest with, judged by the file's first bytes; None when not JPEG, PNG or BMFF."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "image/png"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return None


def sidecar_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


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
