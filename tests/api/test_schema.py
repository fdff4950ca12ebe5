"""The OpenAPI schema validates as OpenAPI 3, the docs are served with local assets (no CDN) to partners and staff
only, and schemathesis, run against a live test server, finds no server error and no response that breaks the
schema."""

import re
import subprocess
import sys

import pytest
import yaml
from django.urls import reverse
from openapi_spec_validator import validate

from tests.api.conftest import api_client
from tests.factories import (
    ApiKeyFactory,
    AssetFactory,
    CohortFactory,
    JobFactory,
    OwnerFactory,
    StaffFactory,
    UserFactory,
)


@pytest.fixture
def schema(db, api):
    response = api.get(reverse("api:schema"))
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ("/api/v1/jobs/", "/api/v1/jobs/{job_id}/", "/api/v1/jobs/{job_id}/cancel/", "/api/v1/assets/",
                 "/api/v1/assets/{asset_id}/parts/", "/api/v1/assets/{asset_id}/download/", "/api/v1/tools/"):
        assert path in paths, path
    create = paths["/api/v1/jobs/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "application/problem+json" in create["responses"]["409"]["content"]
    assert "application/problem+json" in create["responses"]["429"]["content"]
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "gl_live_<8 hex>_<secret>",
        "description": "A studio's API key, created by an owner on the API keys page.",
    }


@pytest.mark.django_db
def test_anonymous_visitors_get_no_schema_and_are_sent_to_sign_in_for_the_docs(client):
    schema = client.get(reverse("api:schema"))
    assert schema.status_code == 401
    assert schema["Content-Type"].startswith("application/problem+json")
    assert "openapi" not in schema.content.decode()
    for name in ("api:docs", "api:redoc"):
        page = client.get(reverse(name))
        assert page.status_code == 302
        assert page["Location"].startswith(reverse("account_login") + "?next=")
    wrong_key = client.get(reverse("api:schema"), HTTP_AUTHORIZATION="Bearer gl_live_00000000_nope")
    assert wrong_key.status_code == 401


@pytest.mark.django_db
def test_a_signed_in_person_without_a_studio_is_refused_the_schema(client):
    client.force_login(UserFactory())
    assert client.get(reverse("api:schema")).status_code == 403


@pytest.mark.django_db
def test_staff_read_the_docs_with_their_session(client):
    from allauth.mfa.models import Authenticator

    staff = StaffFactory()
    assert Authenticator.objects.filter(user=staff).exists()  # staff pass the MFA gate
    client.force_login(staff)
    assert client.get(reverse("api:schema")).status_code == 200
    assert client.get(reverse("api:docs")).status_code == 200


@pytest.mark.django_db
def test_the_docs_load_their_assets_locally(client, owner):
    client.force_login(owner.user)
    page = client.get(reverse("api:docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets, html[:2000]
    for url in assets:
        assert url.startswith("/static/drf_spectacular_sidecar/"), f"{url} is not served by the portal"
        response = client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content) if response.streaming else None
    assert "cdn" not in html.lower()
    redoc = client.get(reverse("api:redoc"))
    assert redoc.status_code == 200
    assert "/static/drf_spectacular_sidecar/redoc" in redoc.content.decode()


def test_unknown_api_paths_are_problems(client, db):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/not-found"


@pytest.mark.django_db
def test_a_too_large_body_is_a_413_problem(settings, key, api):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(reverse("api:job-list"), {"tool": "noop", "inputs": [1], "parameters": {"x": "y" * 2000}},
                        format="json")
    assert response.status_code == 413
    assert response.json()["type"] == "/api/v1/problems/request-too-large"


@pytest.mark.django_db
def test_validation_problems_name_each_failing_field(api):
    response = api.post(reverse("api:job-list"), {"inputs": ["x"], "parameters": []}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "/api/v1/problems/validation-error"
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"tool", "inputs.0", "parameters"}, body
    assert all(e["pointer"] == "#/" + e["field"].replace(".", "/") for e in body["errors"])


@pytest.mark.django_db
def test_a_bad_parameter_names_it(api, owner):
    asset = AssetFactory(organization=owner.organization)
    response = api.post(reverse("api:job-list"), {"tool": "dailies", "inputs": [asset.pk],
                                                  "parameters": {"height": 5}}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errors"][0]["field"] == "parameters.height", body


@pytest.mark.django_db
def test_malformed_json_is_a_problem(api):
    response = api.generic("POST", reverse("api:job-list"), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "/api/v1/problems/malformed-request"


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, settings, tmp_path):
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
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--phases", "examples,fuzzing", "--max-examples", "8", "--seed", "7", "--workers", "1",
        "--request-timeout", "20", "--generation-database", "none", "--no-color",
        "--report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=110, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_problem_types_resolve(client, db):
    listed = client.get(reverse("api:problem-types")).json()
    assert {p["slug"] for p in listed} >= {"not-found", "rate-limited", "idempotency-key-reused", "validation-error"}
    for item in listed:
        response = client.get(item["type"])  # each `type` URI answers its description
        assert response.status_code == 200
        assert response.json()["status"] == item["status"]


def test_server_errors_under_api_are_problems_and_pages_keep_their_own():
    from django.test import RequestFactory

    from config.errors import handler500

    response = handler500(RequestFactory().get("/api/v1/jobs/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.content.decode().count("/api/v1/problems/server-error") == 1
    page = handler500(RequestFactory().get("/jobs/"))
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
