"""Bad input is a client error, never a server error: JSON nested deeper than JSON_MAX_DEPTH or larger than the
body limit (the API's parser and the pages' JSON endpoints share one reader), and ids beyond what the database
stores (one bounded id field for serializers and forms). Schemathesis then fuzzes the whole API with bodies made
deeper and integers made bigger than its own generation gives (tests/api/schemathesis_hooks.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from portal.safejson import JsonLimitError, depth, loads_limited
from tests.api.conftest import api_client, assert_problem
from tests.factories import ApiKeyFactory, AssetFactory, CohortFactory, JobFactory, OwnerFactory

ROOT = Path(__file__).resolve().parents[2]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# --- The reader -------------------------------------------------------------------------------------------------------
def test_depth_counts_containers_without_recursion():
    assert depth(1) == 0
    assert depth([]) == 1
    assert depth({"a": [{"b": []}]}) == 4
    value = []
    for _ in range(100_000):
        value = [value]
    assert depth(value) == 100_001


@pytest.mark.parametrize("raw", [deep(33), deep(100_000), '{"a": ' + deep(40) + "}"])
def test_the_reader_refuses_nesting_beyond_the_limit(settings, raw):
    settings.JSON_MAX_DEPTH = 32
    with pytest.raises(JsonLimitError, match="nested too deeply"):
        loads_limited(raw)
    assert loads_limited(deep(32)) is not None


def test_the_reader_refuses_a_body_over_its_size_and_nan():
    with pytest.raises(JsonLimitError) as caught:
        loads_limited(b"[" + b"1," * 100 + b"1]", max_bytes=100)
    assert caught.value.too_large
    with pytest.raises(JsonLimitError, match="not valid JSON"):
        loads_limited(b'{"x": NaN}')


# --- The API ----------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("levels", [40, 5_000, 200_000])
@pytest.mark.parametrize("where", ["jobs", "uploads", "parts"])
def test_deeply_nested_json_is_a_400_problem(settings, api, owner, levels, where):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
    asset = AssetFactory(organization=owner.organization, status="uploading")
    url, body = {
        "jobs": (reverse("api:job-list"), '{"tool": "noop", "inputs": [1], "parameters": {"x": %s}}'),
        "uploads": (reverse("api:asset-list"), '{"filename": "a.mov", "size": %s}'),
        "parts": (reverse("api:asset-parts", args=[asset.pk]), '{"part_numbers": %s}'),
    }[where]
    response = api.generic("POST", url, body % deep(levels), content_type="application/json")
    body = assert_problem(response, 400, "malformed-request")
    assert "nested too deeply" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("inputs", [[2**70], [2**63], [-(2**70)], [1, 99999999999999999999]])
def test_an_id_beyond_64_bits_is_a_field_error(api, inputs):
    response = api.post(reverse("api:job-list"), {"tool": "noop", "inputs": inputs}, format="json")
    body = assert_problem(response, 400, "validation-error")
    assert {e["field"] for e in body["errors"]} == {f"inputs.{len(inputs) - 1}"}, body


@pytest.mark.django_db
def test_the_largest_id_is_an_ordinary_not_found(api):
    response = api.post(reverse("api:job-list"), {"tool": "noop", "inputs": [2**63 - 1]}, format="json")
    assert response.status_code in (400, 403, 404), response.content  # refused by the service, not a crash
    assert api.get(f"/api/v1/jobs/{2**70}/").status_code == 404


# --- The pages' JSON endpoints ----------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("levels", [40, 100_000])
def test_the_upload_pages_refuse_deep_json_as_a_400(client, owner, levels):
    client.force_login(owner.user)
    asset = AssetFactory(organization=owner.organization, status="uploading")
    for url, body in ((reverse("assets:upload-start"), '{"filename": "a.mov", "size": %s}'),
                      (reverse("assets:upload-parts", args=[asset.pk]), '{"part_numbers": %s}')):
        # 100,000 levels is 200 kB, over the pages' 64 kB limit: refused for size before it is parsed
        raw = body % deep(levels)
        response = client.generic("POST", url, raw, content_type="application/json")
        assert response.status_code == 400, response.content
        assert "too" in response.json()["error"]


# --- Fuzzing ----------------------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_schemathesis_with_deeper_bodies_and_bigger_integers_finds_no_server_error(live_server, settings, tmp_path):
    settings.API_THROTTLE_KEY_RATE = settings.API_THROTTLE_USER_RATE = "100000/min"
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = OwnerFactory(organization__cohort=CohortFactory())
    key = ApiKeyFactory(organization=owner.organization, created_by=owner.user)
    AssetFactory(organization=owner.organization)
    JobFactory(organization=owner.organization)
    assert api_client(key.raw_key).get(reverse("api:me")).status_code == 200
    command = [
        sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "run", f"{live_server.url}{reverse('api:schema')}",
        "--header", f"Authorization: Bearer {key.raw_key}",
        "--checks", "not_a_server_error,content_type_conformance",
        "--phases", "fuzzing", "--mode", "positive", "--max-examples", "12", "--seed", "11", "--workers", "1",
        "--request-timeout", "20", "--generation-database", "none", "--no-color",
        "--report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, timeout=110, check=False, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
