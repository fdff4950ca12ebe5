"""Verification and renditions of real media, and the whole pipeline through a real Celery worker."""

import hashlib

import pytest
from django.urls import reverse

from assets import media
from assets.models import Asset, Rendition
from assets.storage import get_store
from tests.assets.test_uploads import _complete_and_verify, _start, _upload_local
from tests.conftest import wait_for
from tests.factories import OwnerFactory


@pytest.fixture
def partner(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    return owner


@pytest.mark.django_db
def test_a_video_is_probed_and_gets_thumbnail_poster_contact_sheet_and_540p_proxy(
    client, partner, sample_video_720p, tmp_path
):
    data = sample_video_720p.read_bytes()
    asset = _complete_and_verify(client, _upload_local(client, "A001_C002 plate.mp4", data, "video/mp4"))
    assert asset.status == "ready", asset.rejection_reason
    assert (asset.kind, asset.content_type) == ("video", "video/mp4")
    assert (asset.width, asset.height, asset.video_codec) == (1280, 720, "h264")
    assert asset.duration_seconds == pytest.approx(media.probe(sample_video_720p).duration, abs=0.1)
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.previews == "ready"
    renditions = {r.kind: r for r in asset.renditions.all()}
    assert set(renditions) == {"thumbnail", "poster", "contact_sheet", "proxy"}
    proxy = tmp_path / "proxy.mp4"
    with get_store().open(renditions["proxy"].storage_key) as fh:
        proxy.write_bytes(fh.read())
    info = media.probe(proxy)
    assert (info.width, info.height, info.video_codec) == (960, 540, "h264")
    for kind in ("thumbnail", "poster", "contact_sheet"):
        with get_store().open(renditions[kind].storage_key) as fh:
            assert fh.read(3) == b"\xff\xd8\xff"  # JPEG
        assert renditions[kind].storage_key.startswith(f"orgs/{partner.organization.uuid}/assets/{asset.uuid}/")

    page = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert reverse("assets:rendition", args=[asset.pk, "proxy"]) in page
    assert reverse("assets:rendition", args=[asset.pk, "poster"]) in page
    played = client.get(reverse("assets:rendition", args=[asset.pk, "proxy"]))
    assert played.status_code == 200
    assert played["Content-Type"] == "video/mp4"
    assert played["Content-Disposition"].startswith("inline;")
    assert b"".join(played.streaming_content)[4:8] == b"ftyp"  # reading it to the end also closes the file


@pytest.mark.django_db
def test_an_image_gets_a_thumbnail_and_audio_gets_no_previews(client, partner, sample_image_png, sample_audio_wav):
    image = _complete_and_verify(client, _upload_local(client, "still.png", sample_image_png.read_bytes(), "image/png"))
    assert image.status == "ready"
    assert list(image.renditions.values_list("kind", flat=True)) == ["thumbnail"]
    audio = _complete_and_verify(client, _upload_local(client, "room tone.wav", sample_audio_wav.read_bytes()))
    assert (audio.status, audio.kind, audio.previews) == ("ready", "audio", "none")
    assert audio.audio_codec.startswith("pcm")


@pytest.mark.django_db
def test_a_fountain_script_is_ready_without_previews(client, partner, sample_fountain):
    script = _complete_and_verify(client, _upload_local(client, "battle.fountain", sample_fountain.read_bytes()))
    assert (script.status, script.kind, script.previews) == ("ready", "script", "none")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_upload_pipeline_runs_in_a_real_worker(client, partner, sample_video, celery_worker_process):
    data = sample_video.read_bytes()
    state = _start(client, "plate.mp4", len(data), "video/mp4").json()
    for n, url in {
        int(k): v
        for k, v in client.post(
            state["parts_url"],
            {"part_numbers": list(range(1, state["part_count"] + 1))},
            content_type="application/json",
        )
        .json()["urls"]
        .items()
    }.items():
        client.put(
            url, data[(n - 1) * state["part_size"] : n * state["part_size"]], content_type="application/octet-stream"
        )
    assert client.post(state["complete_url"]).json()["status"] == "verifying"
    asset = wait_for(
        lambda: Asset.objects.filter(pk=state["asset_id"], previews="ready").first(),
        timeout=90,
        message="the worker to verify the upload and make its previews",
    )
    assert asset.status == "ready"
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert Rendition.objects.filter(asset=asset).count() == 4


@pytest.mark.django_db
def test_local_previews_answer_range_requests_so_the_player_can_seek(client, partner, sample_video):
    from portal.models import AuditEvent

    data = sample_video.read_bytes()
    asset = _complete_and_verify(client, _upload_local(client, "plate.mp4", data, "video/mp4"))
    proxy = asset.renditions.get(kind="proxy")
    with get_store().open(proxy.storage_key) as fh:
        stored = fh.read()
    url = reverse("assets:rendition", args=[asset.pk, "proxy"])

    whole = client.get(url, HTTP_RANGE="bytes=0-")
    assert whole.status_code == 206
    assert b"".join(whole.streaming_content) == stored
    middle = client.get(url, HTTP_RANGE="bytes=100-199")
    assert middle.status_code == 206
    assert middle["Content-Range"] == f"bytes 100-199/{len(stored)}"
    assert b"".join(middle.streaming_content) == stored[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-50")
    assert b"".join(tail.streaming_content) == stored[-50:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(stored)}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(stored)}"
    # One playback is one audit event, however many pieces the player asks for.
    assert AuditEvent.objects.filter(action="asset.viewed", target_id=str(asset.pk)).count() == 1
