"""The provenance check page (assets/views/provenance.py): upload a file, see VALID or NOT VALID, keep nothing."""

import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from assets import provenance
from assets.provenance import TRAINED_ALGORITHMIC_MEDIA, OutputKind, RunRecord, sidecar_path, sign_output
from assets.views import provenance as views_provenance
from tests.factories import OwnerFactory, StaffFactory

GENERATED = OutputKind("c2pa.created", "Generated from a prompt", TRAINED_ALGORITHMIC_MEDIA)

pytestmark = pytest.mark.django_db

URL = "/assets/provenance/"
INPUT_DIGEST = hashlib.sha256(b"the partner's plate").hexdigest()
STUDIO_ID = "0b6f7a52-3c1e-4a53-9a55-5f0e0c1f7d11"
SUBTITLES = "1\n00:00:01,000 --> 00:00:02,500\nAgain. From the top of the slate.\n"


@pytest.fixture(autouse=True)
def _dev_signing(settings, tmp_path):
    """Sign and verify with the development chain, made under this test's own VAR_DIR."""
    settings.VAR_DIR = tmp_path / "var"
    settings.C2PA_SIGNING_KEY_PATH = ""
    settings.C2PA_CERT_CHAIN_PATH = ""
    settings.C2PA_TRUST_ANCHORS_PATH = ""


@pytest.fixture
def partner(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    return owner


@pytest.fixture
def record() -> RunRecord:
    return RunRecord(
        tool="proxy-dailies",
        tool_version="1.4.0",
        inputs_sha256=(INPUT_DIGEST,),
        parameters={"crf": 23},
        organization=STUDIO_ID,
        job_id="42",
        created_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    )


@pytest.fixture
def signed(tmp_path, record, sample_image_jpeg, sample_video):
    """signed(ext) -> the path of a signed copy of the sample JPEG or MP4, with its sidecar next to it."""
    sources = {"jpg": sample_image_jpeg, "mp4": sample_video}

    def make(ext: str) -> Path:
        out = tmp_path / "outputs"
        out.mkdir(exist_ok=True)
        path = Path(shutil.copy(sources[ext], out / f"graded-shot.{ext}"))
        sign_output(path, record, kind=GENERATED)
        return path

    return make


@pytest.fixture
def signed_srt(tmp_path, record) -> Path:
    out = tmp_path / "outputs"
    out.mkdir(exist_ok=True)
    path = out / "subtitles.srt"
    path.write_text(SUBTITLES, encoding="utf-8")
    sign_output(path, record, kind=GENERATED)
    return path


@pytest.fixture
def temp_dirs(monkeypatch) -> list[Path]:
    """The temporary directories the view makes, recorded (tempfile.TemporaryDirectory, wrapped)."""
    made: list[Path] = []
    original = tempfile.TemporaryDirectory

    class Recording(original):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(Path(self.name))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", Recording)
    return made


def _post(client, path: Path, sidecar: Path | None = None, **extra):
    with path.open("rb") as file:
        data = {"file": file}
        if sidecar is None:
            return client.post(URL, data, **extra)
        with sidecar.open("rb") as side:
            data["sidecar"] = side
            return client.post(URL, data, **extra)


def flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_url_is_named():
    assert reverse("assets:provenance-verify") == URL


def test_the_page_offers_a_file_and_an_optional_sidecar(client, partner):
    response = client.get(URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in body
    assert 'name="file"' in body
    assert 'name="sidecar"' in body
    assert "Up to 512 MB." in body


@pytest.mark.parametrize("ext", ["jpg", "mp4"])
def test_a_signed_output_is_valid_with_what_made_it(client, partner, signed, ext):
    path = signed(ext)
    sidecar_path(path).unlink()  # the embedded manifest alone must carry it

    response = _post(client, path)

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["check"]["valid"] is True
    assert "VALID" in body
    assert "NOT VALID" not in body
    assert "proxy-dailies 1.4.0" in body
    assert "Made by an AI model (trained algorithmic media)" in body
    assert body.count("Not allowed") == len(provenance.TRAINING_MINING_ENTRIES)
    assert INPUT_DIGEST in body
    assert STUDIO_ID in body
    assert "Greenlight dev signer" in body
    assert f"graded-shot.{ext}" in body
    assert "<details>" in body
    assert "cawg.training-mining" in body  # the raw manifest


@pytest.mark.parametrize("ext", ["jpg", "mp4"])
def test_a_changed_byte_is_not_valid_and_says_why(client, partner, signed, ext):
    path = signed(ext)
    flip_middle_byte(path)

    response = _post(client, path, sidecar_path(path))

    body = response.content.decode()
    check = response.context["check"]
    assert response.status_code == 200
    assert check["valid"] is False
    assert "NOT VALID" in body
    sentences = [error["sentence"] for error in check["errors"]]
    assert "The file was changed after it was signed: its bytes no longer match the ones the signature covers." in (
        sentences
    )
    assert any(s.startswith("The file's SHA-256 differs from the one recorded in its sidecar") for s in sentences)
    # The technical detail names the sender's files, never the temporary ones.
    assert "file.jpg" not in body
    assert "file.mp4" not in body


def test_an_srt_is_valid_through_its_sidecar(client, partner, signed_srt):
    response = _post(client, signed_srt, sidecar_path(signed_srt))

    body = response.content.decode()
    check = response.context["check"]
    assert check["valid"] is True, check["errors"]
    assert check["embedded"] is False
    assert check["sidecar_used"] is True
    assert "VALID" in body
    assert "NOT VALID" not in body
    assert "proxy-dailies 1.4.0" in body
    assert "the sidecar subtitles.srt.provenance.json" in body
    assert "Not signed" in body
    assert body.count("Not allowed") == len(provenance.TRAINING_MINING_ENTRIES)


def test_an_srt_without_its_sidecar_is_not_valid(client, partner, signed_srt):
    response = _post(client, signed_srt)

    check = response.context["check"]
    assert check["valid"] is False
    assert "NOT VALID" in response.content.decode()
    assert check["errors"][0]["sentence"].startswith(
        "The file has no embedded C2PA manifest and no sidecar was chosen, so there is nothing to check it against."
    )


def test_a_sidecar_for_other_bytes_is_not_valid(client, partner, signed_srt, tmp_path):
    changed = tmp_path / "changed.srt"
    changed.write_text(SUBTITLES.replace("Again", "Once more"), encoding="utf-8")

    response = _post(client, changed, sidecar_path(signed_srt))

    check = response.context["check"]
    assert check["valid"] is False
    assert check["sidecar_name_differs"] is True
    assert "not changed.srt.provenance.json" in response.content.decode()


def test_an_oversize_upload_is_refused_before_it_is_read(client, partner, signed, monkeypatch, temp_dirs):
    monkeypatch.setattr(views_provenance, "MAX_VERIFY_BYTES", 1000)
    monkeypatch.setattr(views_provenance.provenance, "verify", lambda path: pytest.fail("must not verify"))

    response = _post(client, signed("jpg"))

    assert response.status_code == 413
    assert "This check takes files up to 1000 bytes" in response.context["errors"]["file"]
    assert "Nothing was checked" in response.content.decode()
    assert temp_dirs == []  # not a byte written anywhere


def test_nothing_is_left_in_temp(client, partner, signed, temp_dirs, monkeypatch):
    seen = []
    real_verify = provenance.verify

    def verify(path):
        seen.append((path, sorted(p.name for p in path.parent.iterdir())))
        return real_verify(path)

    monkeypatch.setattr(views_provenance.provenance, "verify", verify)
    path = signed("jpg")

    response = _post(client, path, sidecar_path(path))

    assert response.context["check"]["valid"] is True
    assert len(temp_dirs) == 1
    (checked, names) = seen[0]
    assert checked.parent == temp_dirs[0]
    assert names == ["file.jpg", "file.jpg.provenance.json"]
    assert not temp_dirs[0].exists()


@pytest.mark.parametrize(
    ("filename", "saved_as"),
    [
        ("../../etc/cron.d/evil.sh", "file.bin"),
        ("graded-shot.JPG", "file.jpg"),
        ("no-extension", "file.bin"),
        ("..\\..\\windows\\cut.edl", "file.edl"),
        ("notes.provenance.json", "file.json"),
    ],
)
def test_the_upload_is_saved_under_a_fixed_name(client, partner, monkeypatch, filename, saved_as):
    seen = []
    real_verify = provenance.verify
    monkeypatch.setattr(views_provenance.provenance, "verify", lambda path: seen.append(path) or real_verify(path))

    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(URL, {"file": SimpleUploadedFile(filename, b"some bytes\n")})

    assert response.status_code == 200
    assert seen[0].name == saved_as
    assert views_provenance.temp_name(filename) == saved_as


def test_a_missing_file_is_asked_for(client, partner):
    response = client.post(URL, {})

    assert response.status_code == 400
    assert response.context["errors"]["file"] == "Choose a file to check."


def test_a_sidecar_too_big_to_be_one_is_refused(client, partner, signed_srt, tmp_path, monkeypatch):
    monkeypatch.setattr(views_provenance, "MAX_SIDECAR_BYTES", 10)

    response = _post(client, signed_srt, sidecar_path(signed_srt))

    assert response.status_code == 400
    assert "This is not a provenance sidecar" in response.context["errors"]["sidecar"]


def test_a_malformed_sidecar_is_reported_not_a_server_error(client, partner, signed_srt, tmp_path):
    bad = tmp_path / "subtitles.srt.provenance.json"
    bad.write_text('{"sha256": "00", "run": ["not", "a", "record"], "training_mining": "none"}')

    response = _post(client, signed_srt, bad)

    check = response.context["check"]
    assert response.status_code == 200
    assert check["valid"] is False
    assert check["record_readable"] is False


def test_staff_can_check_files_too(client, signed):
    client.force_login(StaffFactory())

    response = _post(client, signed("jpg"))

    assert response.status_code == 200
    assert response.context["check"]["valid"] is True


def test_signed_out_people_are_sent_to_sign_in(client, signed, temp_dirs):
    for response in (client.get(URL), _post(client, signed("jpg"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert temp_dirs == []


def test_a_post_without_the_csrf_token_is_refused(partner, signed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner.user)

    response = _post(client, signed("jpg"))

    assert response.status_code == 403


def test_a_post_with_the_csrf_token_is_checked(partner, signed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner.user)
    token = client.get(URL).context["csrf_token"]
    path = signed("jpg")

    with path.open("rb") as file:
        response = client.post(URL, {"file": file, "csrfmiddlewaretoken": str(token)})

    assert response.status_code == 200
    assert response.context["check"]["valid"] is True


def test_the_size_is_checked_before_the_csrf_check_reads_the_body(partner, signed, monkeypatch, temp_dirs):
    """CSRF middleware parses a multipart body to find its token: the view must refuse an oversize one first."""
    monkeypatch.setattr(views_provenance, "MAX_VERIFY_BYTES", 1000)
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner.user)

    response = _post(client, signed("jpg"))

    assert response.status_code == 413
    assert temp_dirs == []
