"""assets: multipart uploads (S3 over HTTP via moto, and local chunks), limits, verification, downloads, deletion."""

import hashlib
import json
import os
import struct
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assets import keys, services
from assets.models import Asset, DeletionReceipt
from assets.storage import get_store, s3_client
from portal.models import AuditEvent
from tests.factories import AdminFactory, CohortFactory, MembershipFactory, OwnerFactory

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


@pytest.fixture
def s3_mode(s3_bucket, settings):
    """The portal in S3 mode against moto's server over HTTP, with 5 MiB parts."""
    settings.USE_S3 = True
    settings.AWS_STORAGE_BUCKET_NAME = s3_bucket["bucket"]
    settings.AWS_S3_ENDPOINT_URL = settings.AWS_S3_PUBLIC_ENDPOINT_URL = s3_bucket["endpoint"]
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.UPLOAD_PART_SIZE = 5 * MiB
    s3_client.cache_clear()
    yield s3_bucket
    s3_client.cache_clear()


@pytest.fixture
def partner(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    return owner


def _document(size: int) -> bytes:
    line = b"INT. WAREHOUSE - NIGHT. The crowd widens as far as the eye can see.\n"
    return (line * (size // len(line) + 1))[:size]


def _start(client, filename, size, content_type="text/plain"):
    return client.post(
        reverse("assets:upload-start"),
        {"filename": filename, "size": size, "content_type": content_type},
        content_type="application/json",
    )


def _urls(client, state, numbers):
    response = client.post(state["parts_url"], {"part_numbers": numbers}, content_type="application/json")
    assert response.status_code == 200, response.content
    return {int(k): v for k, v in response.json()["urls"].items()}


def _put_s3(url, data):
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request) as response:  # straight to S3: not through Django
        return response.headers["ETag"].strip('"')


def _slices(data, state):
    size = state["part_size"]
    return {n: data[(n - 1) * size : n * size] for n in range(1, state["part_count"] + 1)}


def _complete_and_verify(client, state):
    response = client.post(state["complete_url"], content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verifying"
    return services.asset_verify(asset_id=state["asset_id"])


# --- S3 mode ----------------------------------------------------------------------------------------------------------
def test_s3_multipart_upload_in_parallel_parts_is_verified(
    client, partner, s3_mode, django_capture_on_commit_callbacks
):
    data = _document(12 * MiB + 12345)
    state = _start(client, "breakdown notes.txt", len(data)).json()
    assert state["mode"] == "s3"
    assert state["part_count"] == 3
    urls = _urls(client, state, [1, 2, 3])
    assert all(urlsplit(u).netloc == urlsplit(s3_mode["endpoint"]).netloc for u in urls.values())
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda n: _put_s3(urls[n], _slices(data, state)[n]), urls))

    asset = _complete_and_verify(client, state)
    assert asset.status == Asset.Status.READY, asset.rejection_reason
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.kind == "document"
    head = s3_mode["client"].head_object(Bucket=s3_mode["bucket"], Key=asset.storage_key)
    assert head["ContentLength"] == len(data)
    assert head["ServerSideEncryption"] == "AES256"
    assert asset.storage_key == f"orgs/{partner.organization.uuid}/assets/{asset.uuid}/original"


def test_s3_upload_resumes_after_losing_the_client_state(client, partner, s3_mode):
    data = _document(11 * MiB)
    state = _start(client, "notes.txt", len(data)).json()
    urls = _urls(client, state, [1, 3])
    parts = _slices(data, state)
    _put_s3(urls[1], parts[1])
    _put_s3(urls[3], parts[3])
    # The browser reloads: all it knows is the asset. The portal lists what S3 already has.
    listed = client.get(state["parts_url"]).json()
    assert [(p["part_number"], p["size"]) for p in listed["parts"]] == [(1, 5 * MiB), (3, MiB)]
    missing = [n for n in range(1, listed["part_count"] + 1) if n not in {p["part_number"] for p in listed["parts"]}]
    assert missing == [2]
    _put_s3(_urls(client, state, missing)[2], parts[2])
    asset = _complete_and_verify(client, state)
    assert asset.status == Asset.Status.READY
    assert asset.sha256 == hashlib.sha256(data).hexdigest()


def test_s3_objects_use_the_studios_kms_key_when_set(client, partner, s3_mode):
    partner.organization.kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/greenlight-northlight"
    partner.organization.save()
    data = _document(100_000)
    state = _start(client, "notes.txt", len(data)).json()
    _put_s3(_urls(client, state, [1])[1], data)
    asset = _complete_and_verify(client, state)
    head = s3_mode["client"].head_object(Bucket=s3_mode["bucket"], Key=asset.storage_key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("greenlight-northlight")


def test_s3_download_is_a_presigned_url_of_at_most_five_minutes_and_audited(client, partner, s3_mode):
    data = _document(50_000)
    state = _start(client, 'Scène "12" – take 3.txt', len(data)).json()
    _put_s3(_urls(client, state, [1])[1], data)
    asset = _complete_and_verify(client, state)
    response = client.get(reverse("assets:download", args=[asset.pk]))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    with urllib.request.urlopen(response.url) as download:
        assert download.read() == data
        disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Sc%C3%A8ne%20%2212%22%20%E2%80%93%20take%203.txt" in disposition
    event = AuditEvent.objects.get(action="asset.downloaded")
    assert event.actor == partner.user
    assert event.target_id == str(asset.pk)


def test_s3_objects_and_presigned_downloads_say_not_for_training(client, partner, s3_mode):
    """S3 cannot answer arbitrary headers on a presigned GET: the reservation is the object's metadata, and the
    URL asks S3 for Cache-Control: no-store. The portal's redirect itself carries the TDMRep headers."""
    data = _document(20_000)
    state = _start(client, "notes.txt", len(data)).json()
    _put_s3(_urls(client, state, [1])[1], data)
    asset = _complete_and_verify(client, state)
    head = s3_mode["client"].head_object(Bucket=s3_mode["bucket"], Key=asset.storage_key)
    assert head["Metadata"]["tdm-reservation"] == "1"
    assert head["Metadata"]["tdm-policy"].endswith("/tdm-policy/")
    response = client.get(reverse("assets:download", args=[asset.pk]))
    assert response.status_code == 302
    assert response["tdm-reservation"] == "1"
    assert response["Cache-Control"] == "private, no-store"
    with urllib.request.urlopen(response.url) as download:
        assert download.read() == data
        assert download.headers["Cache-Control"] == "private, no-store"
        assert download.headers["x-amz-meta-tdm-reservation"] == "1"


def test_s3_deletion_and_offboarding_leave_nothing_under_the_studios_prefix(client, partner, s3_mode):
    s3 = s3_mode["client"]
    other = OwnerFactory()
    assets = []
    for name in ("a.txt", "b.txt"):
        data = _document(10_000)
        state = _start(client, name, len(data)).json()
        _put_s3(_urls(client, state, [1])[1], data)
        assets.append(_complete_and_verify(client, state))
    unfinished = _start(client, "c.txt", 6 * MiB).json()
    _put_s3(_urls(client, unfinished, [1])[1], _document(5 * MiB))
    other_key = f"orgs/{other.organization.uuid}/assets/x/original"
    s3.put_object(Bucket=s3_mode["bucket"], Key=other_key, Body=b"theirs")

    receipt = services.asset_delete(actor=partner.user, asset=assets[0])
    assert receipt.object_count == 1
    assert not s3.list_objects_v2(Bucket=s3_mode["bucket"], Prefix=keys.asset_prefix(assets[0])).get("Contents")
    tombstone = Asset.objects.get(pk=assets[0].pk)
    assert (tombstone.status, tombstone.original_filename, tombstone.storage_key) == ("deleted", "", "")

    call_command("offboard_studio", partner.organization.slug, "--by", AdminFactory().email)
    # The bytes go in a worker after commit (tests/portal/test_lifecycle.py); here, what that worker does:
    services.deletion_receipt_complete(receipt_id=DeletionReceipt.objects.get(scope="studio").pk)
    prefix = keys.organization_prefix(partner.organization)
    assert not s3.list_objects_v2(Bucket=s3_mode["bucket"], Prefix=prefix).get("Contents")
    assert not s3.list_multipart_uploads(Bucket=s3_mode["bucket"], Prefix=prefix).get("Uploads")
    receipt = DeletionReceipt.objects.get(scope="studio")
    assert receipt.asset_count == 2  # the remaining ready asset and the unfinished upload
    assert receipt.object_key_hashes == [hashlib.sha256(assets[1].storage_key.encode()).hexdigest()]
    assert s3.get_object(Bucket=s3_mode["bucket"], Key=other_key)["Body"].read() == b"theirs"
    partner.organization.refresh_from_db()
    assert not partner.organization.is_active


# --- Limits, refused before any byte ----------------------------------------------------------------------------------
def test_oversize_is_refused_before_upload(client, partner, settings):
    settings.ASSET_MAX_BYTES = 10 * MiB
    response = _start(client, "huge.mov", 10 * MiB + 1, "video/quicktime")
    assert response.status_code == 400
    assert "10.0 MB" in response.json()["error"]
    assert not Asset.objects.exists()


def test_over_quota_is_refused_with_the_numbers(client, partner):
    partner.organization.storage_quota_bytes = 20 * MiB
    partner.organization.save()
    assert _start(client, "one.txt", 15 * MiB).status_code == 201
    response = _start(client, "two.txt", 6 * MiB)
    assert response.status_code == 400
    message = response.json()["error"]
    assert "quota" in message
    assert "15.0 MB of 20.0 MB used" in message
    assert Asset.objects.count() == 1


def test_kinds_the_beta_does_not_take_are_refused(client, partner):
    response = _start(client, "setup.exe", 1000, "application/octet-stream")
    assert response.status_code == 400
    assert "not a kind of file" in response.json()["error"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"filename": "a.txt", "size": "12"}', b'{"size": -3}'])
def test_malformed_requests_get_a_clear_error_and_change_nothing(client, partner, body):
    response = client.post(reverse("assets:upload-start"), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Asset.objects.exists()


def test_viewers_cannot_upload_and_closed_cohorts_are_read_only(client):
    viewer = MembershipFactory(role="viewer")
    client.force_login(viewer.user)
    assert _start(client, "a.txt", 100).status_code == 403
    closed = MembershipFactory(
        organization__cohort=CohortFactory(
            opens_at=timezone.now() - timedelta(days=9), closes_at=timezone.now() - timedelta(days=1)
        )
    )
    client.force_login(closed.user)
    response = _start(client, "a.txt", 100)
    assert response.status_code == 400
    assert "read-only" in response.json()["error"]


# --- Local mode (the embedded default) --------------------------------------------------------------------------------
def _upload_local(client, filename, data, content_type="text/plain", parts=None):
    response = _start(client, filename, len(data), content_type)
    assert response.status_code == 201, response.content
    state = response.json()
    assert state["mode"] == "local"
    slices = _slices(data, state)
    urls = _urls(client, state, parts or list(slices))
    for n, url in urls.items():
        put = client.put(url, slices[n], content_type="application/octet-stream")
        assert put.status_code == 200, put.content
        assert put["ETag"].strip('"') == hashlib.md5(slices[n], usedforsecurity=False).hexdigest()
    return state


def test_local_upload_uses_the_same_protocol(client, partner, settings):
    settings.UPLOAD_PART_SIZE = 5 * MiB
    data = _document(11 * MiB)
    state = _upload_local(client, "notes.txt", data)
    assert state["part_count"] == 3
    asset = _complete_and_verify(client, state)
    assert asset.status == "ready"
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    path = os.path.join(settings.MEDIA_ROOT, asset.storage_key)
    assert os.path.getsize(path) == len(data)
    download = client.get(reverse("assets:download", args=[asset.pk]))
    assert b"".join(download.streaming_content) == data
    assert download["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.filter(action="asset.downloaded").count() == 1


def test_content_that_is_not_what_its_name_claims_is_rejected_and_deleted(client, partner, settings):
    state = _upload_local(client, "plate.mp4", _document(20_000), content_type="video/mp4")
    asset = _complete_and_verify(client, state)
    assert asset.status == "rejected"
    assert "named like a video" in asset.rejection_reason
    assert get_store().list_keys(keys.asset_prefix(asset)) == []
    page = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert "named like a video" in page


def test_a_truncated_upload_is_rejected_for_its_size(client, partner, settings):
    settings.UPLOAD_PART_SIZE = 5 * MiB
    data = _document(6 * MiB)
    state = _start(client, "notes.txt", len(data)).json()
    urls = _urls(client, state, [1, 2])
    client.put(urls[1], data[: 5 * MiB], content_type="application/octet-stream")
    client.put(urls[2], data[5 * MiB : 5 * MiB + 100], content_type="application/octet-stream")  # cut short
    asset = _complete_and_verify(client, state)
    assert asset.status == "rejected"
    assert "incomplete" in asset.rejection_reason
    assert get_store().list_keys(keys.asset_prefix(asset)) == []


def test_completing_with_a_missing_part_asks_to_resume(client, partner, settings):
    settings.UPLOAD_PART_SIZE = 5 * MiB
    data = _document(6 * MiB)
    state = _upload_local(client, "notes.txt", data, parts=[2])
    response = client.post(state["complete_url"], content_type="application/json")
    assert response.status_code == 400
    assert "Part 1 has not arrived" in response.json()["error"]
    assert Asset.objects.get().status == "uploading"


def test_hostile_filenames_are_stored_safely_and_shown_safely(client, partner):
    name = '../../etc/"quoted" <img src=x onerror=alert(1)> Scène №1.txt'
    state = _upload_local(client, name, _document(5000))
    asset = _complete_and_verify(client, state)
    assert "/" not in asset.original_filename
    assert asset.original_filename.endswith("Scène №1.txt")
    assert ".." not in asset.storage_key
    assert asset.storage_key.startswith(f"orgs/{partner.organization.uuid}/assets/")
    page = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Scène №1" in page


def test_abandoned_uploads_are_aborted_by_the_scheduled_task(client, partner, settings):
    state = _upload_local(client, "notes.txt", _document(6 * MiB), parts=[1])
    asset = Asset.objects.get(pk=state["asset_id"])
    Asset.objects.filter(pk=asset.pk).update(created_at=timezone.now() - timedelta(hours=49))
    upload_dir = os.path.join(settings.MEDIA_ROOT, ".uploads", asset.upload_id)
    assert os.path.isdir(upload_dir)
    assert services.uploads_abort_abandoned() == 1
    asset.refresh_from_db()
    assert asset.status == "deleted"
    assert "not finished" in asset.rejection_reason
    assert not os.path.exists(upload_dir)


def test_retention_purges_studios_whose_cohort_closed_long_ago(client, partner, settings):
    asset = _complete_and_verify(client, _upload_local(client, "notes.txt", _document(5000)))
    cohort = partner.organization.cohort
    cohort.opens_at = timezone.now() - timedelta(days=100)
    cohort.closes_at = timezone.now() - timedelta(days=settings.RETENTION_DAYS_AFTER_CLOSE + 1)
    cohort.save()
    [receipt] = services.studios_purge_expired()
    assert receipt.scope == "retention"
    assert receipt.asset_count == 1
    assert Asset.objects.get(pk=asset.pk).status == "deleted"
    assert get_store().list_keys(keys.organization_prefix(partner.organization)) == []


def test_admin_downloads_the_deletion_receipt(client, partner):
    asset = _complete_and_verify(client, _upload_local(client, "notes.txt", _document(5000)))
    receipt = services.asset_delete(actor=partner.user, asset=asset)
    client.force_login(AdminFactory())
    response = client.get(reverse("assets:receipt", args=[receipt.pk]))
    body = json.loads(response.content)
    assert body["objects"] == 1
    assert body["object_key_sha256"] == receipt.object_key_hashes
    assert response["Content-Disposition"].startswith("attachment;")


# --- Decompression bombs ----------------------------------------------------------------------------------------------
def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims `width` x `height` (1-bit grey; only the first rows' data is there)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(min(height, 64))) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("side", "pixels"), [(50_000, "2,500,000,000"), (12_000, "144,000,000")])
def test_an_image_over_the_pixel_limit_is_rejected_with_the_numbers(client, partner, settings, side, pixels):
    # Given a limit of 100 MP: 50,000 x 50,000 is past Pillow's own refusal, 12,000 x 12,000 only past ours
    settings.ASSET_MAX_IMAGE_PIXELS = 100_000_000
    state = _upload_local(client, "plate.png", _png_claiming(side, side), content_type="image/png")
    asset = _complete_and_verify(client, state)
    assert asset.status == "rejected", (asset.width, asset.height)
    assert pixels in asset.rejection_reason
    assert "100,000,000" in asset.rejection_reason
    assert get_store().list_keys(keys.asset_prefix(asset)) == []


def test_an_image_under_the_pixel_limit_is_ready_with_its_size(client, partner, settings, sample_image_png):
    settings.ASSET_MAX_IMAGE_PIXELS = 100_000_000
    state = _upload_local(client, "still.png", sample_image_png.read_bytes(), content_type="image/png")
    asset = _complete_and_verify(client, state)
    assert asset.status == "ready", asset.rejection_reason
    assert asset.width > 0
    assert asset.height > 0
    settings.ASSET_MAX_IMAGE_PIXELS = asset.width * asset.height - 1
    state = _upload_local(client, "still2.png", sample_image_png.read_bytes(), content_type="image/png")
    assert "the limit is" in _complete_and_verify(client, state).rejection_reason
