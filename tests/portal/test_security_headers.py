"""Browser hardening on every page: a Content-Security-Policy without inline script and without framing, no inline
script left in any template, and signed-in HTML never stored by a cache. (tests/browser/test_csp.py loads the key
pages in Chromium and counts CSP violations.)"""

import json
import os
import re
import subprocess
import sys

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import ROOT
from tests.factories import AdminFactory, AssetFactory, JobFactory, OwnerFactory

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _plain_get_paths(resolver=None, prefix: str = "") -> list[str]:
    """Every URL of the site that takes no argument (a page you can open as it is)."""
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            paths += _plain_get_paths(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            paths.append("/" + prefix + route)
    return [p for p in paths if not p.startswith(("/static/", "/media/"))]


def test_no_template_has_an_inline_script_or_event_handler():
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for attributes in SCRIPT_TAG.findall(text):
                if "src=" not in attributes and 'type="application/json"' not in attributes:
                    found.append(f"{path.relative_to(ROOT)}: <script{attributes}> without src")
            if EVENT_ATTRIBUTE.search(text):
                found.append(f"{path.relative_to(ROOT)}: an on*= event attribute")
            if "javascript:" in text.lower():
                found.append(f"{path.relative_to(ROOT)}: a javascript: URL")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("who", ["anonymous", "partner", "staff"])
def test_every_page_has_the_policy(client, who, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if who == "partner":
        owner = OwnerFactory()
        client.force_login(owner.user)
        extra = [f"/assets/{AssetFactory(organization=owner.organization).pk}/",
                 f"/jobs/{JobFactory(organization=owner.organization).pk}/"]
    elif who == "staff":
        client.force_login(AdminFactory())
        extra = []
    else:
        extra = []
    checked = 0
    for path in [*_plain_get_paths(), *extra]:
        response = client.get(path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        checked += 1
        policy = _directives(response.get("Content-Security-Policy", ""))
        assert policy.get("default-src") == ["'self'"], (path, response.status_code)
        assert policy.get("frame-ancestors") == ["'none'"], path
        assert "'unsafe-inline'" not in policy.get("script-src", []), path
        assert "'unsafe-eval'" not in policy.get("script-src", []), path
    assert checked >= 3 if who == "anonymous" else checked >= 10


def test_error_pages_have_the_policy_too(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_signed_in_pages_are_not_stored_and_anonymous_ones_may_be(client):
    landing = client.get("/")
    assert "no-store" not in landing.get("Cache-Control", "")
    owner = OwnerFactory()
    client.force_login(owner.user)
    for path in ("/", "/assets/", "/jobs/", "/assets/upload/"):
        response = client.get(path, follow=True)
        assert response["Content-Type"].startswith("text/html")
        assert "no-store" in response["Cache-Control"], (path, response.get("Cache-Control"))
    status = client.get(f"/assets/{AssetFactory(organization=owner.organization).pk}/status/")
    assert "no-store" in status["Cache-Control"]  # htmx fragments are signed-in HTML too


def _policy_with(**env) -> dict:
    """The policy as config/settings.py builds it from this environment (in a fresh process)."""
    code = "import json; from config import settings; print(json.dumps(settings.CONTENT_SECURITY_POLICY))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                            text=True, timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["DIRECTIVES"]


def test_presigned_media_origins_are_allowed_only_when_s3_is_configured():
    local = _policy_with()
    assert local["media-src"] == ["'self'"]
    assert local["img-src"] == ["'self'", "data:"]
    s3 = _policy_with(AWS_STORAGE_BUCKET_NAME="gl-media", AWS_S3_PUBLIC_ENDPOINT_URL="https://media.studio.example:9000/x")
    for directive in ("media-src", "img-src", "connect-src"):
        assert "https://media.studio.example:9000" in s3[directive]
    assert "https://media.studio.example:9000" not in s3["script-src"]
    aws = _policy_with(AWS_STORAGE_BUCKET_NAME="gl-media", AWS_S3_REGION_NAME="eu-west-2")
    assert "https://gl-media.s3.eu-west-2.amazonaws.com" in aws["media-src"]
