"""Job creation with an Idempotency-Key: the same key and body give one job (201, then 200 with the same job); a
different body is a 409; concurrent duplicates (threads, PostgreSQL row locks) still make one job."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from beta.models import Job
from tests.api.conftest import api_client, assert_problem
from tests.factories import ApiKeyFactory, AssetFactory

JOBS = "api:job-list"


def _post(client, body, key):
    return client.post(reverse(JOBS), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def body(owner):
    asset = AssetFactory(organization=owner.organization, sha256="a" * 64)
    return {"tool": "noop", "inputs": [asset.pk], "parameters": {}}


@pytest.mark.django_db
def test_the_same_key_and_body_give_one_job(api, body):
    first = _post(api, body, "ingest-2026-03-01-A001")
    assert first.status_code == 201, first.content
    second = _post(api, body, "ingest-2026-03-01-A001")
    assert second.status_code == 200, second.content
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["idempotency_key"] == "ingest-2026-03-01-A001"
    assert Job.objects.count() == 1
    assert first["Location"].endswith(reverse("api:job-detail", args=[first.json()["id"]]))


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_a_409(api, body, owner):
    assert _post(api, body, "k1").status_code == 201
    other = AssetFactory(organization=owner.organization)
    problem = assert_problem(_post(api, {**body, "inputs": [other.pk]}, "k1"), 409, "idempotency-key-reused")
    assert "different request" in problem["detail"]
    assert_problem(_post(api, {**body, "tool": "fail"}, "k1"), 409, "idempotency-key-reused")
    assert_problem(_post(api, {**body, "parameters": {"unknown": 1}}, "k1"), 409, "idempotency-key-reused")
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_each_request_makes_a_job(api, body):
    assert api.post(reverse(JOBS), body, format="json").status_code == 201
    assert api.post(reverse(JOBS), body, format="json").status_code == 201
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_keys_are_per_studio(api, body):
    assert _post(api, body, "shared-name").status_code == 201
    other_key = ApiKeyFactory()
    other_asset = AssetFactory(organization=other_key.organization)
    response = _post(api_client(other_key.raw_key), {**body, "inputs": [other_asset.pk]}, "shared-name")
    assert response.status_code == 201, response.content
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_an_overlong_key_is_a_validation_problem(api, body):
    problem = assert_problem(_post(api, body, "k" * 101), 400, "validation-error")
    assert problem["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_job(postgres_only, key, body):
    clients = [api_client(key.raw_key) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    results = []

    def submit(client):
        try:
            barrier.wait(timeout=10)
            response = _post(client, body, "concurrent-1")
            results.append((response.status_code, response.json().get("id")))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == len(clients)
    assert Job.objects.filter(idempotency_key="concurrent-1").count() == 1
    job_id = Job.objects.get().pk
    assert {job for _, job in results} == {job_id}
    assert sorted(status for status, _ in results) == [200] * (len(clients) - 1) + [201]
