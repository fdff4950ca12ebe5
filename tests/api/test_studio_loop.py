"""The whole loop a studio's pipeline drives with only the documented API: register a webhook, upload, be told the
file is ready, run a tool, be told the job succeeded, download the output, file feedback, be told of the reply.

Everything real: the embedded default's local storage, a real Celery worker verifying the upload, running the tool
and delivering the webhooks, and a receiver on loopback whose messages the `standardwebhooks` library verifies.
"""

import hashlib

import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from beta.feedback.services import feedback_reply
from beta.models import FeedbackReport
from tests.api.conftest import api_client
from tests.beta.conftest import run_ffmpeg
from tests.conftest import wait_for
from tests.factories import ApiKeyFactory, CohortFactory, OwnerFactory, StaffFactory
from tests.webhooks.conftest import receiver  # noqa: F401 (the loopback receiver fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "A002_C004.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=2", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    return path


def _messages(receiver, secret, event_type, count=1):  # noqa: F811 (the fixture's value)
    """The verified payloads of `event_type` the receiver has got, once there are `count` of them."""

    def arrived():
        payloads = [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]
        found = [p for p in payloads if p["type"] == event_type]
        return found if len(found) >= count else None

    return wait_for(arrived, timeout=90, interval=0.2, message=f"a signed {event_type} webhook")


def test_a_studio_drives_the_whole_loop_through_the_api(celery_worker_process, receiver, clip):  # noqa: F811
    owner = OwnerFactory(organization__cohort=CohortFactory())
    api = api_client(ApiKeyFactory(organization=owner.organization, created_by=owner.user).raw_key)

    # 1. Be told instead of polling.
    hook = api.post(reverse("api:webhook-list"), {
        "url": receiver.url, "events": ["asset.ready", "job.succeeded", "feedback.replied"],
    }, format="json")
    assert hook.status_code == 201, hook.content
    secret = hook.json()["secret"]

    # 2. Upload in parts to the portal's own part endpoint (local storage), then complete.
    data = clip.read_bytes()
    state = api.post(reverse("api:asset-list"), {"filename": clip.name, "size": len(data),
                                                 "content_type": "video/mp4"}, format="json").json()
    urls = api.post(state["parts_url"], {"part_numbers": list(range(1, state["part_count"] + 1))},
                    format="json").json()["urls"]
    for number, url in urls.items():
        start = (int(number) - 1) * state["part_size"]
        stored = api.put(url, data[start : start + state["part_size"]], content_type="application/octet-stream")
        assert stored.status_code == 200, stored.content
    assert api.post(state["complete_url"]).status_code == 200
    asset_id = state["asset"]["id"]

    [ready] = _messages(receiver, secret, "asset.ready")
    assert ready["data"]["asset_id"] == asset_id
    asset = api.get(reverse("api:asset-detail", args=[asset_id])).json()
    assert (asset["status"], asset["sha256"]) == ("ready", hashlib.sha256(data).hexdigest())

    # 3. Run a tool on it.
    created = api.post(reverse("api:job-list"), {"tool": "shot-detect", "inputs": [asset_id]}, format="json",
                       HTTP_IDEMPOTENCY_KEY="loop-1")
    assert created.status_code == 201, created.content
    job_id = created.json()["id"]
    [succeeded] = _messages(receiver, secret, "job.succeeded")
    assert (succeeded["data"]["job_id"], succeeded["data"]["status"]) == (job_id, "succeeded")

    # 4. Download an output through its short-lived link.
    job = api.get(reverse("api:job-detail", args=[job_id])).json()
    assert job["status"] == "succeeded"
    edl = next(o for o in job["outputs"] if o["filename"].endswith(".edl"))
    link = api.get(edl["download_url"]).json()
    content = b"".join(api_client().get(link["url"]).streaming_content)  # the link alone is the permission
    assert content.startswith(b"TITLE:")
    assert hashlib.sha256(content).hexdigest() == link["sha256"]

    # 5. File feedback on the run; the team replies; the studio is told and reads the reply.
    filed = api.post(reverse("api:job-feedback", args=[job_id]), {
        "overall_rating": 4, "quality_rating": 4, "usefulness_rating": 5, "production_fit": "yes",
        "hours_saved": "1.5", "categories": ["speed"], "text": "The EDL conformed first time.",
    }, format="json")
    assert filed.status_code == 201, filed.content
    feedback_reply(user=StaffFactory(), report=FeedbackReport.objects.get(pk=filed.json()["id"]),
                   body="Thanks: dissolves are next.")
    [replied] = _messages(receiver, secret, "feedback.replied")
    assert replied["data"]["report_id"] == filed.json()["id"]
    report = api.get(reverse("api:feedback-detail", args=[filed.json()["id"]])).json()
    assert [r["body"] for r in report["replies"]] == ["Thanks: dissolves are next."]
