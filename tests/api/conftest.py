"""Fixtures for the pipeline API: studios with keys, and an API client that sends a key."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ApiKeyFactory, CohortFactory, OwnerFactory


def api_client(raw_key: str | None = None) -> APIClient:
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def owner():
    """An owner of a studio in an open cohort."""
    return OwnerFactory(organization__cohort=CohortFactory())


@pytest.fixture
def key(owner):
    """A read-and-write key of the owner's studio, created by the owner."""
    return ApiKeyFactory(organization=owner.organization, created_by=owner.user)


@pytest.fixture
def api(key):
    return api_client(key.raw_key)


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["type"] == f"/api/v1/problems/{slug}", body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body
