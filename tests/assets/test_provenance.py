"""Provenance of tool outputs (assets/provenance.py): C2PA manifests in JPEG, PNG and MP4, sidecars for the rest."""

import datetime as dt
import hashlib
import io
import json
import shutil
import stat
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.management import call_command
from django.core.management.base import CommandError

from assets.provenance import (
    DOCUMENT_SIGNING,
    TRAINED_ALGORITHMIC_MEDIA,
    TRAINING_MINING_ENTRIES,
    OutputKind,
    ProvenanceError,
    RunRecord,
    ensure_dev_chain,
    manifest_path,
    sidecar_path,
    sign_output,
    signing_identity,
    verify,
)

INPUT_DIGEST = hashlib.sha256(b"the partner's plate").hexdigest()
#: An output a model made from a prompt (the shape Bedrock's outputs have in the table).
GENERATED = OutputKind("c2pa.created", "Generated from a prompt", TRAINED_ALGORITHMIC_MEDIA)
EXPECTED_MISMATCH = {"mp4": "assertion.bmffHash.mismatch", "jpg": "assertion.dataHash.mismatch"}


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """Small unsigned media made by ffmpeg from lavfi sources, once per run; tests copy what they sign."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    out = tmp_path_factory.mktemp("media")
    source = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
    commands = {
        "mp4": [*source, "-t", "2", "-pix_fmt", "yuv420p", "-c:v", "libx264"],
        "jpg": [*source, "-frames:v", "1"],
        "png": [*source, "-frames:v", "1"],
    }
    files = {}
    for ext, args in commands.items():
        files[ext] = out / f"testsrc.{ext}"
        subprocess.run([ffmpeg, "-v", "error", "-y", *args, str(files[ext])], check=True, timeout=60)
    return files


@pytest.fixture(autouse=True)
def _dev_signing(settings, tmp_path):
    """Sign with the development chain, made under this test's own VAR_DIR."""
    settings.VAR_DIR = tmp_path / "var"
    settings.C2PA_SIGNING_KEY_PATH = ""
    settings.C2PA_CERT_CHAIN_PATH = ""
    settings.C2PA_TRUST_ANCHORS_PATH = ""


@pytest.fixture
def record() -> RunRecord:
    return RunRecord(
        tool="proxy-dailies",
        tool_version="1.4.0",
        inputs_sha256=(INPUT_DIGEST,),
        parameters={"crf": 23, "watermark": "Studio A"},
        organization="0b6f7a52-3c1e-4a53-9a55-5f0e0c1f7d11",
        job_id="42",
        created_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    )


def output_from(media: dict[str, Path], ext: str, tmp_path: Path) -> Path:
    out = tmp_path / "outputs"
    out.mkdir(exist_ok=True)
    return Path(shutil.copy(media[ext], out / f"output.{ext}"))


def flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def assertion(manifest: dict, label: str) -> dict:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == label)


@pytest.mark.parametrize("ext", ["mp4", "jpg", "png"])
def test_signed_media_says_ai_generated_and_not_for_training(media, tmp_path, record, ext):
    path = output_from(media, ext, tmp_path)

    result = sign_output(path, record, kind=GENERATED)

    assert result.embedded
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        path.name, f"{path.name}.c2pa", f"{path.name}.provenance.json"
    ]
    check = verify(path)
    assert check.valid, check.errors
    assert check.embedded
    assert check.validation_state == "Trusted"
    manifest = check.manifest
    assert manifest["claim_generator_info"][0]["name"] == "Greenlight"
    actions = assertion(manifest, "c2pa.actions.v2")["actions"]
    created = actions[0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert created["softwareAgent"] == {"name": "Greenlight proxy-dailies", "version": "1.4.0"}
    entries = assertion(manifest, "cawg.training-mining")["entries"]
    assert set(entries) == set(TRAINING_MINING_ENTRIES)
    assert all(entry == {"use": "notAllowed"} for entry in entries.values())
    run = assertion(manifest, "com.greenlight.job")
    assert run["parameters"] == {"crf": 23, "watermark": "Studio A"}
    assert run["inputs_sha256"] == [INPUT_DIGEST]
    assert run["tool"] == "proxy-dailies"
    assert run["organization"] == record.organization
    assert run["job_id"] == "42"


def test_embedded_manifest_verifies_without_its_sidecar(media, tmp_path, record):
    path = output_from(media, "mp4", tmp_path)
    sign_output(path, record, kind=GENERATED)
    sidecar_path(path).unlink()
    manifest_path(path).unlink()

    check = verify(path)

    assert check.valid, check.errors
    assert check.sidecar is None


def test_sidecar_records_the_run_and_the_signed_bytes(media, tmp_path, record):
    path = output_from(media, "png", tmp_path)

    result = sign_output(path, record, kind=GENERATED)

    sidecar = json.loads(result.sidecar_path.read_text())
    assert result.sidecar_path == path.with_name("output.png.provenance.json")
    assert sidecar["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert sidecar["ai_generated"] is True
    assert sidecar["training"] == "notAllowed"
    assert sidecar["c2pa_embedded"] is True
    assert sidecar["run"]["inputs_sha256"] == [INPUT_DIGEST]
    assert sidecar["run"]["parameters"] == {"crf": 23, "watermark": "Studio A"}
    assert sidecar["run"]["created_at"] == "2026-03-02T09:30:00+00:00"


@pytest.mark.parametrize("ext", ["mp4", "jpg"])
def test_changed_byte_in_signed_media_is_invalid(media, tmp_path, record, ext):
    path = output_from(media, ext, tmp_path)
    sign_output(path, record, kind=GENERATED)
    sidecar_path(path).unlink()  # the C2PA manifest alone must catch it
    manifest_path(path).unlink()

    flip_middle_byte(path)
    check = verify(path)

    assert not check.valid
    assert check.embedded
    assert any(error.startswith(EXPECTED_MISMATCH[ext]) for error in check.errors), check.errors


def test_subtitles_get_c2pa_and_json_sidecars_that_catch_changes(tmp_path, record):
    path = tmp_path / "dialogue.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,500\nWe go again.\n")

    result = sign_output(path, record, kind=GENERATED)

    assert not result.embedded
    assert path.read_text().startswith("1\n00:00:01,000")  # untouched
    sidecar = json.loads(result.sidecar_path.read_text())
    assert sidecar["c2pa_embedded"] is False
    assert sidecar["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    check = verify(path)
    assert check.valid, check.errors
    assert not check.embedded
    assert check.from_manifest_sidecar
    assert check.validation_state == "Trusted"

    path.write_text("1\n00:00:01,000 --> 00:00:02,500\nWe go again!\n")
    check = verify(path)
    assert not check.valid
    assert any("SHA-256" in error for error in check.errors)
    assert any(error.startswith("assertion.dataHash.mismatch") for error in check.errors), check.errors


def test_file_without_manifest_or_sidecar_is_invalid(media, tmp_path):
    path = output_from(media, "jpg", tmp_path)

    check = verify(path)

    assert not check.valid
    assert not check.embedded
    assert check.errors


def test_file_signed_by_an_unknown_chain_is_untrusted(media, tmp_path, record):
    # Given a portal with its own development chain, and a file signed by a chain it has never seen
    signing_identity()
    stranger = ensure_dev_chain(tmp_path / "elsewhere")
    path = output_from(media, "jpg", tmp_path)
    sign_output(path, record, kind=GENERATED, signer=stranger)

    check = verify(path)

    assert not check.valid
    assert any(error.startswith("signingCredential.untrusted") for error in check.errors), check.errors


def test_embeddable_file_that_cannot_be_signed_is_left_alone(tmp_path, record):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10)
    before = path.read_bytes()

    with pytest.raises(ProvenanceError):
        sign_output(path, record, kind=GENERATED)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "var") == ["broken.jpg"]
    assert not manifest_path(path).exists()


def test_dev_chain_is_made_once_and_reused(settings):
    directory = settings.VAR_DIR / "c2pa"

    first = signing_identity()
    files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir() if p.suffix != ".lock"}
    second = signing_identity()

    assert first == second
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir() if p.suffix != ".lock"} == files
    assert stat.S_IMODE((directory / "signer.key").stat().st_mode) == 0o600
    signer, intermediate = x509.load_pem_x509_certificates(first.cert_chain_pem)
    root = x509.load_pem_x509_certificate((directory / "root-ca.pem").read_bytes())
    signer.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING in eku
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert signer.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert signer.not_valid_before_utc < dt.datetime.now(dt.UTC) < signer.not_valid_after_utc


def test_run_record_refuses_naive_times_and_bad_digests():
    with pytest.raises(ValueError, match="timezone-aware"):
        RunRecord("t", "1", (INPUT_DIGEST,), {}, "org", created_at=dt.datetime(2026, 3, 2))  # noqa: DTZ001
    with pytest.raises(ValueError, match="SHA-256"):
        RunRecord("t", "1", ("abc",), {}, "org")


def test_command_reports_a_valid_file(media, tmp_path, record):
    path = output_from(media, "mp4", tmp_path)
    sign_output(path, record, kind=GENERATED)
    out = io.StringIO()

    call_command("verify_provenance", str(path), stdout=out)

    text = out.getvalue()
    assert text.startswith("VALID")
    assert "proxy-dailies 1.4.0" in text
    assert TRAINED_ALGORITHMIC_MEDIA in text
    for entry in TRAINING_MINING_ENTRIES:
        assert f"{entry}: notAllowed" in text


def test_command_fails_on_a_tampered_file(media, tmp_path, record):
    path = output_from(media, "jpg", tmp_path)
    sign_output(path, record, kind=GENERATED)
    flip_middle_byte(path)
    out = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("verify_provenance", str(path), stdout=out)

    assert excinfo.value.returncode == 1
    assert out.getvalue().startswith("INVALID")
    assert "assertion.dataHash.mismatch" in out.getvalue()
