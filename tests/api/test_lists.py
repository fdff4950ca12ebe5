"""The lists: cursor pagination, filters checked (a bad value is a problem, not ignored), and a number of queries that
does not grow with the rows shown."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beta.models import Job, JobInput, JobOutput
from tests.api.conftest import assert_problem
from tests.factories import AssetFactory, JobFactory

pytestmark = pytest.mark.django_db


def _jobs(owner, count, **fields):
    asset = AssetFactory(organization=owner.organization)
    for _ in range(count):
        job = JobFactory(organization=owner.organization, submitted_by=owner.user, **fields)
        JobInput.objects.create(job=job, asset=asset, position=0, sha256="a" * 64)
        JobOutput.objects.create(job=job, asset=AssetFactory(organization=owner.organization), label="ok.txt")


def _queries(api, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured)


def test_the_job_list_costs_the_same_queries_for_3_or_30_jobs(owner, api, django_assert_max_num_queries):
    api.get(reverse("api:me"))  # the once-a-minute "used" record is not part of a list's cost
    _jobs(owner, 3)
    few = _queries(api, reverse("api:job-list"))
    _jobs(owner, 27)
    with django_assert_max_num_queries(few):
        page = api.get(reverse("api:job-list")).json()
    assert len(page["results"]) == 25
    assert page["next"]
    assert page["results"][0]["outputs"][0]["download_url"].endswith("/download/")
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 5
    assert rest["next"] is None
    assert not {j["id"] for j in page["results"]} & {j["id"] for j in rest["results"]}


def test_job_filters(owner, api):
    _jobs(owner, 2, status="failed")
    _jobs(owner, 1, status="succeeded", error="")
    Job.objects.filter(status="succeeded").update(queued_at=timezone.now() - timedelta(days=10))
    assert len(api.get(reverse("api:job-list"), {"status": "failed"}).json()["results"]) == 2
    assert len(api.get(reverse("api:job-list"), {"tool": "dailies"}).json()["results"]) == 0
    day = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert len(api.get(reverse("api:job-list"), {"created_before": day}).json()["results"]) == 1
    assert len(api.get(reverse("api:job-list"), {"created_after": day}).json()["results"]) == 2
    problem = assert_problem(api.get(reverse("api:job-list"), {"status": "nope"}), 400, "validation-error")
    assert problem["errors"][0]["field"] == "status"


def test_the_asset_list_filters_and_paginates(owner, api, django_assert_max_num_queries):
    for _ in range(3):
        AssetFactory(organization=owner.organization, kind="image")
    AssetFactory(organization=owner.organization, kind="video", original_filename="A001_C002.mov")
    AssetFactory()  # another studio's
    api.get(reverse("api:me"))
    few = _queries(api, reverse("api:asset-list"))
    for _ in range(30):
        AssetFactory(organization=owner.organization)
    with django_assert_max_num_queries(few):
        assert len(api.get(reverse("api:asset-list")).json()["results"]) == 25
    assert [a["filename"] for a in api.get(reverse("api:asset-list"), {"q": "A001"}).json()["results"]] == [
        "A001_C002.mov"
    ]
    assert len(api.get(reverse("api:asset-list"), {"kind": "image"}).json()["results"]) == 3
    assert_problem(api.get(reverse("api:asset-list"), {"kind": "hologram"}), 400, "validation-error")
