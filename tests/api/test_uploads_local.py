"""Local storage (the embedded default) through the API: parts go to the API's own chunk endpoint, and downloads are
signed, short-lived links to the API's streaming endpoint. No worker: verification is called here (the S3 flow with a
real worker is tests/api/test_api_flow.py)."""

import pytest
from django.core import signing
from django.urls import reverse

from assets.services import asset_verify
from tests.api.conftest import api_client, assert_problem
from tests.assets.conftest import pdf_bytes

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


@pytest.fixture
def local_mode(settings, tmp_path):
    settings.USE_S3 = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_PART_SIZE = 5 * MiB


def test_local_mode_upload_and_download_through_the_api(local_mode, key, monkeypatch):
    api = api_client(key.raw_key)
    data = pdf_bytes("Call sheet, day 12")
    state = api.post(reverse("api:asset-list"), {"filename": "call-sheet.pdf", "size": len(data)}, format="json").json()
    assert state["mode"] == "local"
    assert state["part_count"] == 1
    urls = api.post(state["parts_url"], {"part_numbers": [1]}, format="json").json()["urls"]
    assert urls["1"].endswith(reverse("api:asset-part", args=[state["asset"]["id"], 1]))
    stored = api.put(urls["1"], data, content_type="application/octet-stream")
    assert stored.status_code == 200, stored.content
    assert api.get(state["parts_url"]).json()["parts"][0]["size"] == len(data)
    assert api.post(state["complete_url"]).json()["asset"]["status"] == "verifying"
    asset_verify(asset_id=state["asset"]["id"])

    download = api.get(reverse("api:asset-download", args=[state["asset"]["id"]])).json()
    anonymous = api_client()  # the link itself is the permission, like a presigned S3 URL
    response = anonymous.get(download["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert "attachment" in response["Content-Disposition"]

    later = signing.time.time() + download["expires_in"] + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert_problem(anonymous.get(download["url"]), 404, "not-found")
