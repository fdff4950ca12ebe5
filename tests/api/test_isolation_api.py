"""Every API route that takes an object id answers 404 to another studio's key, for every method, and changes
nothing. The routes are discovered from the URL patterns (as tests/test_isolation.py does for the pages, whose
builders this sweep reuses), so a new endpoint is covered as soon as it exists."""

import tempfile
from pathlib import Path

import pytest
from django.core import signing
from django.forms.models import model_to_dict
from django.urls import reverse

from api.views.resources import CONTENT_SALT
from assets.models import Asset
from assets.storage import get_store
from tests.api.conftest import api_client
from tests.factories import ApiKeyFactory, CohortFactory, OwnerFactory
from tests.test_isolation import BUILDERS, QUALIFIERS, model_for_kwarg, object_patterns, pattern_kwargs

API_PATTERNS = [p for p in object_patterns() if p[0].startswith("api:")]
METHODS = ("get", "post", "put", "patch", "delete")


def test_the_sweep_finds_the_api_object_routes():
    names = {name for name, _, _ in API_PATTERNS}
    assert {"api:job-detail", "api:job-cancel", "api:job-retry", "api:asset-detail", "api:asset-parts",
            "api:asset-part", "api:asset-complete", "api:asset-download", "api:asset-content"} <= names


def _with_bytes(asset: Asset) -> Asset:
    """Store a few real bytes for the asset (local storage), so that the rightful owner's download works."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(b"frames")
        get_store().put_file(path, asset.storage_key, "application/octet-stream")
    return asset


def _status(client, method: str, url: str) -> int:
    response = getattr(client, method)(url, {}, format="json")
    if response.streaming:
        b"".join(response.streaming_content)  # read to the end, which closes the file
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "kwargs", "view"), API_PATTERNS, ids=[p[0] for p in API_PATTERNS])
def test_another_studios_object_answers_404_to_its_key(url_name, kwargs, view, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    studio_a = OwnerFactory(organization__cohort=CohortFactory()).organization
    owner_a = studio_a.memberships.get().user
    attacker = ApiKeyFactory()  # a read-and-write key of another studio, made by its owner
    objects = {}
    for kwarg in kwargs:
        model = model_for_kwarg(kwarg)
        assert model in BUILDERS, f"teach tests/test_isolation.py to build a {model.__name__} (for {url_name})"
        objects[kwarg] = BUILDERS[model](studio_a)
        if model is Asset:
            _with_bytes(objects[kwarg])
    url = reverse(
        url_name,
        kwargs={
            **{k: o.pk for k, o in objects.items()},
            **{k: v for k, v in QUALIFIERS.items() if k in pattern_kwargs(url_name)},
        },
    )
    before = {k: model_to_dict(o) for k, o in objects.items()}

    client = api_client(attacker.raw_key)
    statuses = {method: _status(client, method, url) for method in METHODS}
    assert set(statuses.values()) <= {404, 405}, f"{url_name} answered {statuses} to another studio's key"
    assert 404 in statuses.values()
    for kwarg, obj in objects.items():
        fresh = type(obj).objects.filter(pk=obj.pk).first()
        assert fresh is not None, f"{url_name}: another studio deleted the object"
        assert model_to_dict(fresh) == before[kwarg], f"{url_name}: another studio changed the object"

    # The control: the studio's own key does not get a 404 everywhere, so the test can tell the difference.
    rightful = api_client(ApiKeyFactory(organization=studio_a, created_by=owner_a).raw_key)
    if url_name == "api:asset-content":  # its permission is the signed token a download URL carries
        url += "?token=" + signing.TimestampSigner(salt=CONTENT_SALT).sign(str(objects["asset_id"].pk))
    rightful_statuses = {method: _status(rightful, method, url) for method in METHODS}
    assert any(status != 404 for status in rightful_statuses.values()), f"{url_name} 404s for everyone"
