"""Feedback and webhook endpoints through the API: the same services as their pages, answered as JSON or problems."""

import pytest
from django.urls import reverse

from beta.feedback.services import feedback_reply
from beta.models import FeedbackComment, FeedbackReport
from tests.api.conftest import api_client, assert_problem
from tests.factories import ApiKeyFactory, JobFactory, MembershipFactory, StaffFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
ANSWERS = {"overall_rating": 4, "quality_rating": 5, "usefulness_rating": 4, "production_fit": "with_changes",
           "hours_saved": "2.5", "categories": ["artefacts"], "text": "Cuts land on the frame; one flash cut missed."}


def test_a_studio_files_feedback_and_reads_the_teams_reply(owner, api):
    job = JobFactory(organization=owner.organization, status="succeeded", error="")
    response = api.post(reverse("api:job-feedback", args=[job.pk]), ANSWERS, format="json")
    assert response.status_code == 201, response.content
    report = response.json()
    assert report["status"] == "new"
    assert report["job_id"] == job.pk
    assert report["revision"] == 1
    assert report["categories"] == ["artefacts"]
    assert report["replies"] == []
    staff = StaffFactory()
    feedback_reply(user=staff, report=FeedbackReport.objects.get(), body="Thanks: fixed in 0.8.")
    FeedbackComment.objects.create(report=FeedbackReport.objects.get(), author=staff, kind="internal",
                                   body="Internal: never shown")
    listed = api.get(reverse("api:feedback-list")).json()["results"]
    assert [r["id"] for r in listed] == [report["id"]]
    assert [r["body"] for r in listed[0]["replies"]] == ["Thanks: fixed in 0.8."]
    detail = api.get(reverse("api:feedback-detail", args=[report["id"]])).json()
    assert [r["body"] for r in detail["replies"]] == ["Thanks: fixed in 0.8."]
    # Filing again revises the same report.
    again = api.post(reverse("api:job-feedback", args=[job.pk]), {**ANSWERS, "overall_rating": 5}, format="json")
    assert again.json()["id"] == report["id"]
    assert again.json()["revision"] == 2


def test_feedback_answers_are_checked_field_by_field(owner, api):
    job = JobFactory(organization=owner.organization, status="succeeded")
    body = assert_problem(
        api.post(reverse("api:job-feedback", args=[job.pk]), {"overall_rating": 9}, format="json"),
        400, "validation-error",
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"overall_rating", "quality_rating", "production_fit"} <= fields


def test_feedback_waits_for_the_job_to_finish(owner, api):
    job = JobFactory(organization=owner.organization, status="running", error="")
    assert_problem(api.post(reverse("api:job-feedback", args=[job.pk]), ANSWERS, format="json"), 409, "conflict")


def test_viewers_cannot_file_feedback(owner):
    viewer = MembershipFactory(organization=owner.organization, role="viewer").user
    job = JobFactory(organization=owner.organization, status="succeeded")
    key = ApiKeyFactory(organization=owner.organization, created_by=viewer)
    assert_problem(api_client(key.raw_key).post(reverse("api:job-feedback", args=[job.pk]), ANSWERS, format="json"),
                   403, "forbidden")


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = ["127.0.0.0/8"]


def test_an_owner_manages_webhook_endpoints_through_the_api(loopback_allowed, api):
    created = api.post(reverse("api:webhook-list"), {"url": "http://127.0.0.1:9/hooks", "events": ["job.succeeded"],
                                                     "description": "Render farm"}, format="json")
    assert created.status_code == 201, created.content
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.get().secret == endpoint["secret"]
    listed = api.get(reverse("api:webhook-list")).json()
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]

    url = reverse("api:webhook-detail", args=[endpoint["id"]])
    updated = api.patch(url, {"events": ["job.failed", "job.succeeded"]}, format="json")
    assert updated.status_code == 200
    assert updated.json()["events"] == ["job.succeeded", "job.failed"]
    rotated = api.post(reverse("api:webhook-rotate-secret", args=[endpoint["id"]])).json()["secret"]
    assert rotated.startswith("whsec_")
    assert rotated != endpoint["secret"]

    sent = api.post(reverse("api:webhook-test", args=[endpoint["id"]]))
    assert sent.status_code == 202
    assert sent.json()["event_type"] == "webhook.test"
    log = api.get(reverse("api:webhook-deliveries", args=[endpoint["id"]])).json()
    assert [d["message_id"] for d in log] == [WebhookDelivery.objects.get().message_id]

    assert api.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_unsafe_webhook_targets_are_validation_problems(api):
    body = assert_problem(
        api.post(reverse("api:webhook-list"), {"url": "http://10.0.0.1/hook", "events": ["job.nope"]}, format="json"),
        400, "validation-error",
    )
    assert {e["field"] for e in body["errors"]} == {"url", "events"}


def test_members_cannot_manage_webhooks(loopback_allowed, owner):
    member = MembershipFactory(organization=owner.organization).user
    key = ApiKeyFactory(organization=owner.organization, created_by=member)
    response = api_client(key.raw_key).post(
        reverse("api:webhook-list"), {"url": "http://127.0.0.1:9/h", "events": ["job.succeeded"]}, format="json"
    )
    assert_problem(response, 403, "forbidden")
