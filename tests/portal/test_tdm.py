"""Machine-readable "not for training" (W3C TDMRep): the policy page, /.well-known/tdmrep.json, robots.txt, and the
headers on every media and export response the portal serves itself (local storage)."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from assets import keys
from assets.models import Rendition
from tests.api.conftest import api_client
from tests.factories import AdminFactory, ApiKeyFactory, AssetFactory, DeletionReceiptFactory, OwnerFactory

pytestmark = pytest.mark.django_db


def assert_not_for_training(response):
    assert response["tdm-reservation"] == "1"
    assert response["tdm-policy"] == "http://testserver/tdm-policy/"
    assert response["Cache-Control"] == "private, no-store"
    if response.streaming:
        b"".join(response.streaming_content)  # read to the end: the test client then closes the file


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.SITE_URL = "http://testserver"
    settings.MEDIA_ROOT = tmp_path / "media"


def stored(settings, asset, data: bytes, key: str | None = None):
    key = key or keys.original_key(asset)
    path = Path(settings.MEDIA_ROOT) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


@pytest.fixture
def owner_client(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    client.owner = owner
    return client


def test_the_policy_page_is_public_and_says_what_is_reserved(client):
    page = client.get(reverse("portal:tdm-policy"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Not for text and data mining or AI training" in text
    assert "Article 4(3)" in text
    assert 'href="/.well-known/tdmrep.json"' in text


def test_well_known_tdmrep_reserves_every_path():
    from django.test import Client

    response = Client().get("/.well-known/tdmrep.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == [
        {"location": "/*", "tdm-reservation": 1, "tdm-policy": "http://testserver/tdm-policy/"}
    ]


def test_robots_txt_disallows_everything(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /" in lines


def test_the_policy_files_stay_reachable_for_a_partner_who_has_not_accepted_the_agreement(owner_client):
    from tests.factories import AgreementVersionFactory

    AgreementVersionFactory()
    assert owner_client.get("/dashboard/").status_code == 302  # the gate is on
    for url in ("/tdm-policy/", "/.well-known/tdmrep.json", "/robots.txt"):
        assert owner_client.get(url).status_code == 200, url


def test_downloads_previews_and_range_responses_say_not_for_training(owner_client, settings):
    asset = AssetFactory(organization=owner_client.owner.organization, size_bytes=10)
    asset.storage_key = stored(settings, asset, b"0123456789")
    asset.save(update_fields=["storage_key"])
    key = stored(settings, asset, b"proxy-bytes", keys.rendition_key(asset, "proxy", "mp4"))
    Rendition.objects.create(asset=asset, kind="proxy", storage_key=key, content_type="video/mp4", size_bytes=11)

    download = owner_client.get(reverse("assets:download", args=[asset.pk]))
    assert download.status_code == 200
    assert_not_for_training(download)
    preview = owner_client.get(reverse("assets:rendition", args=[asset.pk, "proxy"]))
    assert preview.status_code == 200
    assert_not_for_training(preview)
    ranged = owner_client.get(reverse("assets:rendition", args=[asset.pk, "proxy"]), HTTP_RANGE="bytes=2-4")
    assert ranged.status_code == 206
    assert b"".join(ranged.streaming_content) == b"oxy"
    assert_not_for_training(ranged)


def test_api_downloads_in_local_mode_say_not_for_training(settings):
    owner = OwnerFactory()
    key = ApiKeyFactory(organization=owner.organization, created_by=owner.user)
    asset = AssetFactory(organization=owner.organization, size_bytes=5)
    asset.storage_key = stored(settings, asset, b"bytes")
    asset.save(update_fields=["storage_key"])
    url = api_client(key.raw_key).get(reverse("api:asset-download", args=[asset.pk])).json()["url"]
    content = api_client().get(url)
    assert content.status_code == 200
    assert b"".join(content.streaming_content) == b"bytes"
    assert_not_for_training(content)


def test_deletion_receipts_say_not_for_training(client):
    client.force_login(AdminFactory())
    receipt = DeletionReceiptFactory()
    response = client.get(reverse("assets:receipt", args=[receipt.pk]))
    assert response.status_code == 200
    assert_not_for_training(response)
