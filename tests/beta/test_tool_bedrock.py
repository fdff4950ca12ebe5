"""generate-image (Nova Canvas) and generate-video (Nova Reel) on Amazon Bedrock, offline.

Bedrock is replaced by botocore's `Stubber` on the client the adapter's one factory returns
(`beta.tools.bedrock.runtime_client`): every request is checked against the real input shape of `invoke_model`,
`start_async_invoke` or `get_async_invoke`, and every canned answer against the real output shape. The S3 bucket
Nova Reel "wrote" to is moto's server, holding a real MP4 made by ffmpeg. The worker test runs the real pipeline in a
real Celery worker, whose stub answers come from a file (`BEDROCK_STUB_FILE`, set by `celery_worker_process`).
"""

import base64
import datetime as dt
import io
import json
import re

import jsonschema
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assets import keys
from assets.provenance import TRAINED_ALGORITHMIC_MEDIA, manifest_summary, verify
from assets.storage import get_store
from beta.errors import JobError
from beta.jobs import dispatch
from beta.jobs.control import job_cancel
from beta.jobs.execute import job_execute
from beta.jobs.submit import job_submit
from beta.jobs.sweep import jobs_sweep
from beta.models import Job
from beta.tool_settings import ToolSettings
from beta.tools import bedrock
from beta.tools.base import ToolError, ToolInput, TransientToolError
from beta.tools.generate import GenerateImageTool, GenerateVideoTool
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, sha256_of
from tests.conftest import wait_for
from tests.factories import AdminFactory, AssetFactory, OwnerFactory

INVOCATION_ID = "abcdef123456"
ARN = f"arn:aws:bedrock:us-east-1:123456789012:async-invoke/{INVOCATION_ID}"
REEL_MODEL_ARN = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-reel-v1:1"
PROMPT = "A lighthouse on a cliff at dusk, 35 mm, slow push in"
TRANSIENT = ["ThrottlingException", "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException"]


class JsonBody:
    """Matches a request body (a JSON string) by its parsed value, for the Stubber's expected_params."""

    def __init__(self, expected):
        self.expected = expected

    def __eq__(self, other):
        return json.loads(other) == self.expected

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return f"JsonBody({self.expected!r})"


class RetryRequested(Exception):
    """What Celery's retry does to the task: it stops here and is sent again after the countdown."""


@pytest.fixture(scope="session")
def png_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bedrock") / "still.png"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=480x360", "-frames:v", "1", str(path))
    return path


@pytest.fixture(scope="session")
def reel_mp4(tmp_path_factory):
    """What Nova Reel writes: an H.264 MP4 (here 1 s at 320x180, made by ffmpeg)."""
    path = tmp_path_factory.mktemp("bedrock") / "output.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=1", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path))  # fmt: skip
    return path


@pytest.fixture
def bedrock_on(settings):
    settings.BEDROCK_ENABLED = True
    settings.BEDROCK_REGION = "us-east-1"
    settings.BEDROCK_ENDPOINT_URL = None
    settings.BEDROCK_AWS_ACCESS_KEY_ID = "testing"
    settings.BEDROCK_AWS_SECRET_ACCESS_KEY = "testing"
    settings.BEDROCK_IMAGE_MODEL_ID = "amazon.nova-canvas-v1:0"
    settings.BEDROCK_VIDEO_MODEL_ID = "amazon.nova-reel-v1:1"
    settings.BEDROCK_OUTPUT_BUCKET = ""
    settings.BEDROCK_S3_ENDPOINT_URL = None
    settings.BEDROCK_POLL_SECONDS = 7
    settings.BEDROCK_STUB_FILE = ""
    bedrock.clear_clients()
    yield settings
    bedrock.clear_clients()


@pytest.fixture
def reel_bucket(bedrock_on, s3_bucket):
    bedrock_on.BEDROCK_OUTPUT_BUCKET = s3_bucket["bucket"]
    bedrock_on.BEDROCK_S3_ENDPOINT_URL = s3_bucket["endpoint"]
    return s3_bucket


@pytest.fixture
def stub(bedrock_on, reel_bucket_if_any):
    """A Stubber on the very client the adapter's factory returns (after the configuration is final)."""
    stubber = Stubber(bedrock.runtime_client(bedrock.config(ToolSettings())))
    stubber.activate()
    yield stubber
    stubber.deactivate()
    stubber.assert_no_pending_responses()


@pytest.fixture
def reel_bucket_if_any(request):
    return request.getfixturevalue("reel_bucket") if "reel_bucket" in request.fixturenames else None


@pytest.fixture
def owner(db):
    return OwnerFactory(organization__max_concurrent_jobs=4)


def canvas_answer(*images: bytes, error: str | None = None) -> dict:
    payload = {"images": [base64.b64encode(i).decode() for i in images]}
    if error is not None:
        payload["error"] = error
    raw = json.dumps(payload).encode()
    return {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}


def canvas_request(prompt=PROMPT, **config) -> dict:
    return {
        "modelId": "amazon.nova-canvas-v1:0",
        "contentType": "application/json",
        "accept": "application/json",
        "body": JsonBody({
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": prompt},
            "imageGenerationConfig": {"numberOfImages": 1, "width": 1024, "height": 1024, "quality": "standard",
                                      "cfgScale": 6.5, "seed": 0, **config},
        }),
    }


def reel_status(status: str, *, folder: str = "", bucket: str = "", failure: str = "") -> dict:
    answer = {
        "invocationArn": ARN,
        "modelArn": REEL_MODEL_ARN,
        "status": status,
        "submitTime": timezone.now(),
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/{folder}"}},
    }
    if failure:
        answer["failureMessage"] = failure
    return answer


def submit(owner, tool="generate-image", asset_ids=(), **params):
    return job_submit(actor=owner.user, tool_slug=tool, asset_ids=list(asset_ids),
                               parameters={"prompt": PROMPT, **params})


def stored_copy(asset, tmp_path):
    """The stored output and its provenance sidecar, copied out of the studio's storage side by side."""
    local = tmp_path / asset.original_filename
    with get_store().open(asset.storage_key) as fh:
        local.write_bytes(fh.read())
    with get_store().open(keys.provenance_key(asset)) as fh:
        (tmp_path / f"{local.name}.provenance.json").write_bytes(fh.read())
    return local


def assert_ai_generated(local):
    result = verify(local)
    assert result.valid, result.errors
    assert result.embedded  # PNG and MP4 carry a signed C2PA manifest
    assert manifest_summary(result)["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    sidecar = json.loads(local.with_name(f"{local.name}.provenance.json").read_text())
    assert sidecar["ai_generated"] is True
    assert sidecar["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA


# --- The adapter alone ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tool_class", [GenerateImageTool, GenerateVideoTool], ids=lambda cls: cls.slug)
def test_each_generative_tool_declares_a_valid_schema_on_the_external_queue(tool_class):
    tool = tool_class()
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    jsonschema.validate({**tool.defaults(), "prompt": PROMPT}, tool.parameters)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(tool.defaults(), tool.parameters)  # a prompt is required
    assert tool.parameters["additionalProperties"] is False
    assert (tool.queue, tool.min_inputs, tool.max_inputs) == ("external", 0, 1)
    assert tool.input_kinds == (("image", "video") if tool.slug == "generate-image" else ("image",))
    assert tool.soft_time_limit < tool.time_limit


def test_text_to_image_sends_nova_canvas_its_body_and_returns_the_pngs(stub, png_file, tool_context):
    png = png_file.read_bytes()
    stub.add_response("invoke_model", canvas_answer(png, png),
                      expected_params=canvas_request(numberOfImages=2, width=1280, height=720, seed=42))
    result = GenerateImageTool().run([], {"prompt": PROMPT, "number_of_images": 2, "size": "1280x720", "seed": 42},
                                     ProgressRecorder(), tool_context)
    assert [o.role for o in result.outputs] == ["image-1", "image-2"]
    assert all(o.path.read_bytes() == png and o.kind == "image" for o in result.outputs)
    assert result.summary["task"] == "TEXT_IMAGE"
    assert result.pending is None


def test_an_input_image_asks_for_variations_of_it(stub, png_file, tool_context):
    captured = {}

    class Capture(JsonBody):
        def __eq__(self, other):
            captured.update(json.loads(other))
            return True

    stub.add_response("invoke_model", canvas_answer(png_file.read_bytes()),
                      expected_params={"modelId": ANY, "contentType": ANY, "accept": ANY, "body": Capture(None)})
    image = ToolInput(path=png_file, kind="image", filename="plate.png", sha256=sha256_of(png_file),
                      width=480, height=360)
    result = GenerateImageTool().run([image], {"prompt": PROMPT, "similarity": 0.5, "style": "PHOTOREALISM"},
                                     ProgressRecorder(), tool_context)
    assert captured["taskType"] == "IMAGE_VARIATION"
    params = captured["imageVariationParams"]
    assert params["similarityStrength"] == 0.5
    assert params["text"] == PROMPT
    assert "style" not in params  # a text-to-image option only
    assert base64.b64decode(params["images"][0]).startswith(b"\x89PNG")
    assert result.outputs[0].label.startswith("Variation 1")


def test_an_input_image_too_small_for_nova_canvas_is_refused_with_its_size(bedrock_on, png_file, tool_context):
    image = ToolInput(path=png_file, kind="image", filename="tiny.png", sha256="ab" * 32, width=200, height=120)
    with pytest.raises(ToolError, match=r"tiny.png is 200x120 pixels; Nova Canvas needs at least 320"):
        GenerateImageTool().run([image], {"prompt": PROMPT}, ProgressRecorder(), tool_context)


@pytest.mark.parametrize("code", TRANSIENT)
def test_busy_service_errors_are_transient(stub, tool_context, code):
    stub.add_client_error("invoke_model", service_error_code=code, service_message="Please slow down.",
                          http_status_code=429 if code == "ThrottlingException" else 503)
    with pytest.raises(TransientToolError, match=code):
        GenerateImageTool().run([], {"prompt": PROMPT}, ProgressRecorder(), tool_context)


def test_an_answer_with_no_image_says_why(stub, tool_context):
    blocked = "All of the generated images were blocked by content filters."
    stub.add_response("invoke_model", canvas_answer(error=blocked))
    with pytest.raises(ToolError, match="made no image: All of the generated images were blocked") as caught:
        GenerateImageTool().run([], {"prompt": PROMPT}, ProgressRecorder(), tool_context)
    assert not caught.value.transient


def test_the_tools_refuse_to_run_when_bedrock_is_off(settings, tool_context):
    settings.BEDROCK_ENABLED = False
    with pytest.raises(ToolError, match="Not configured"):
        GenerateImageTool().run([], {"prompt": PROMPT}, ProgressRecorder(), tool_context)
    settings.BEDROCK_ENABLED = True
    settings.BEDROCK_OUTPUT_BUCKET = ""
    assert GenerateImageTool().configuration_problem() == ""
    assert "output bucket" in GenerateVideoTool().configuration_problem()


def test_a_long_video_needs_nova_reel_1_1_and_no_first_frame(bedrock_on, png_file, tool_context):
    tool = GenerateVideoTool()
    params = {**tool.defaults(), "prompt": PROMPT, "duration_seconds": 12}
    assert tool.model_input([], params, "amazon.nova-reel-v1:1", tool_context.work_dir)["taskType"] == (
        "MULTI_SHOT_AUTOMATED")
    with pytest.raises(ToolError, match=r"need Nova Reel 1\.1"):
        tool.model_input([], params, "amazon.nova-reel-v1:0", tool_context.work_dir)
    image = ToolInput(path=png_file, kind="image", filename="plate.png", sha256="ab" * 32)
    with pytest.raises(ToolError, match="6-second videos only"):
        tool.model_input([image], params, "amazon.nova-reel-v1:1", tool_context.work_dir)
    first = tool.model_input([image], {**params, "duration_seconds": 6}, "amazon.nova-reel-v1:0", tool_context.work_dir)
    frame = base64.b64decode(first["textToVideoParams"]["images"][0]["source"]["bytes"])
    assert frame[16:24] == (1280).to_bytes(4, "big") + (720).to_bytes(4, "big")  # the PNG's IHDR: fitted to 1280x720


# --- Through the pipeline (in this process) -------------------------------------------------------------------------
def test_a_text_to_image_job_stores_its_images_marked_ai_generated(stub, owner, png_file, tmp_path, client):
    stub.add_response("invoke_model", canvas_answer(png_file.read_bytes()), expected_params=canvas_request())
    job = submit(owner)
    assert job.queue == "external"
    assert job_execute(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    [output] = job.job_outputs.select_related("asset")
    assert output.role == "image-1"
    assert output.asset.kind == "image"
    assert output.asset.organization == owner.organization
    assert output.provenance_embedded
    assert_ai_generated(stored_copy(output.asset, tmp_path))
    client.force_login(owner.user)
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "Made by Amazon Nova Canvas" in page
    assert PROMPT in page


def test_throttling_is_retried_by_the_pipeline_with_backoff_then_succeeds(stub, owner, png_file, settings):
    stub.add_client_error("invoke_model", service_error_code="ThrottlingException",
                          service_message="Too many requests, please wait before trying again.", http_status_code=429)
    stub.add_response("invoke_model", canvas_answer(png_file.read_bytes()), expected_params=canvas_request())
    countdowns = []

    def retry(countdown):
        countdowns.append(countdown)
        raise RetryRequested

    job = submit(owner)
    with pytest.raises(RetryRequested):
        job_execute(job_id=job.pk, retry=retry)
    job.refresh_from_db()
    assert job.status == "retrying"
    assert countdowns == [settings.JOB_RETRY_BACKOFF]
    assert "ThrottlingException" in job.log
    assert "will retry" in job.log
    assert job_execute(job_id=job.pk, retry=retry) == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.attempts == 2
    assert job.job_outputs.count() == 1


def test_a_validation_error_is_shown_to_the_partner_and_not_retried(stub, owner):
    message = ("This request has been blocked by our content filters. "
               "Please adjust your text prompt to submit a new request.")
    stub.add_client_error("invoke_model", service_error_code="ValidationException", service_message=message,
                          http_status_code=400)
    job = submit(owner)

    def retry(countdown):
        raise AssertionError("a refused request must not be retried")

    assert job_execute(job_id=job.pk, retry=retry) == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == f"Amazon Bedrock refused the request: {message}"
    assert not job.job_outputs.exists()


def test_missing_model_access_is_said_plainly(stub, owner):
    stub.add_client_error("invoke_model", service_error_code="AccessDeniedException", http_status_code=403,
                          service_message="You don't have access to the model with the specified model ID.")
    job = submit(owner)
    assert job_execute(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.error.startswith("Model access is not configured")
    assert "specified model ID" in job.error


@pytest.fixture
def sent(monkeypatch):
    """The tasks the pipeline sends after commit (job id, task id, countdown), instead of the broker."""
    calls = []
    monkeypatch.setattr(dispatch, "send", lambda job, countdown=None: calls.append(
        (job.pk, job.celery_task_id, countdown)))
    return calls


def _start_video(stub, owner, bucket, sent, django_capture_on_commit_callbacks):
    job = submit(owner, "generate-video")
    prefix = f"orgs/{owner.organization.uuid}/jobs/{job.pk}/bedrock/"
    stub.add_response("start_async_invoke", {"invocationArn": ARN}, expected_params={
        "modelId": "amazon.nova-reel-v1:1",
        "modelInput": {"taskType": "TEXT_VIDEO", "textToVideoParams": {"text": PROMPT},
                       "videoGenerationConfig": {"durationSeconds": 6, "fps": 24, "dimension": "1280x720", "seed": 0}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/{prefix}"}},
        "clientRequestToken": ANY,
    })
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, task_id=job.celery_task_id) == "waiting"
    job.refresh_from_db()
    return job, prefix


def test_a_video_job_waits_on_bedrock_without_a_worker_then_its_video_is_copied_into_the_studio(
    stub, reel_bucket, owner, reel_mp4, sent, django_capture_on_commit_callbacks, tmp_path
):
    bucket, s3 = reel_bucket["bucket"], reel_bucket["client"]
    job, prefix = _start_video(stub, owner, bucket, sent, django_capture_on_commit_callbacks)
    # Parked: running, no worker holds it, a poll task is sent with the poll delay.
    assert job.status == "running"
    assert job.worker == ""
    assert job.summary["pending"]["invocation_arn"] == ARN
    assert job.stage == "Amazon Nova Reel is making the video"
    assert sent == [(job.pk, job.celery_task_id, 7)]
    first_poll = job.celery_task_id

    stub.add_response("get_async_invoke", reel_status("InProgress", bucket=bucket, folder=prefix + INVOCATION_ID),
                      expected_params={"invocationArn": ARN})
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, task_id=first_poll) == "waiting"
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts, job.deliveries) == ("running", "", 1, 0)
    assert job.summary["pending"]["polls"] == 1
    assert job.celery_task_id != first_poll
    assert job_execute(job_id=job.pk, task_id=first_poll) == "skipped"  # an old poll delivered again

    # Nova Reel wrote its files under the studio's prefix of the output bucket.
    folder = f"{prefix}{INVOCATION_ID}"
    s3.upload_file(str(reel_mp4), bucket, f"{folder}/output.mp4")
    s3.put_object(Bucket=bucket, Key=f"{folder}/manifest.json", Body=b"{}")
    stub.add_response("get_async_invoke", reel_status("Completed", bucket=bucket, folder=folder),
                      expected_params={"invocationArn": ARN})
    assert job_execute(job_id=job.pk, task_id=job.celery_task_id) == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert "pending" not in job.summary
    assert job.summary["invocation_arn"] == ARN
    [output] = job.job_outputs.select_related("asset")
    assert (output.role, output.asset.kind, output.asset.content_type) == ("video", "video", "video/mp4")
    assert output.asset.storage_key.startswith(f"orgs/{owner.organization.uuid}/")
    local = stored_copy(output.asset, tmp_path)
    assert_ai_generated(local)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount") == 0  # Bedrock's copy is removed


def test_a_failed_video_generation_shows_bedrocks_reason(
    stub, reel_bucket, owner, sent, django_capture_on_commit_callbacks
):
    job, prefix = _start_video(stub, owner, reel_bucket["bucket"], sent, django_capture_on_commit_callbacks)
    stub.add_response("get_async_invoke", reel_status("Failed", bucket=reel_bucket["bucket"], folder=prefix,
                                                      failure="The prompt was blocked by the content filters."))
    assert job_execute(job_id=job.pk, task_id=job.celery_task_id) == "failed"
    job.refresh_from_db()
    assert job.error == "Amazon Nova Reel could not make the video: The prompt was blocked by the content filters."


def test_a_video_job_canceled_while_bedrock_works_ends_at_its_next_poll(
    stub, reel_bucket, owner, sent, django_capture_on_commit_callbacks
):
    job, _ = _start_video(stub, owner, reel_bucket["bucket"], sent, django_capture_on_commit_callbacks)
    job_cancel(actor=owner.user, job=job)
    assert job_execute(job_id=job.pk, task_id=job.celery_task_id) == "skipped"  # no call to Bedrock
    job.refresh_from_db()
    assert job.status == "canceled"


def test_the_sweeper_resends_a_lost_poll_and_never_fails_a_job_waiting_on_bedrock(
    stub, reel_bucket, owner, sent, django_capture_on_commit_callbacks, settings
):
    job, prefix = _start_video(stub, owner, reel_bucket["bucket"], sent, django_capture_on_commit_callbacks)
    # Its poll task never reached the broker, and it has been silent far past the heartbeat timeout.
    long_ago = timezone.now() - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT * 10)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=long_ago, dispatched_at=long_ago)
    lost_poll = job.celery_task_id
    for _ in range(settings.JOB_MAX_DELIVERIES + 1):
        with django_capture_on_commit_callbacks(execute=True):
            jobs_sweep()
        job.refresh_from_db()
        assert job.status == "running"
        assert job.celery_task_id != lost_poll
        assert sent[-1] == (job.pk, job.celery_task_id, None)
        stub.add_response("get_async_invoke", reel_status("InProgress", bucket=reel_bucket["bucket"], folder=prefix))
        assert job_execute(job_id=job.pk, task_id=job.celery_task_id) == "waiting"
        job.refresh_from_db()
        lost_poll = job.celery_task_id
        Job.objects.filter(pk=job.pk).update(heartbeat_at=long_ago, dispatched_at=long_ago)
    assert (job.status, job.deliveries, job.attempts, job.error) == ("running", 0, 1, "")


# --- The catalogue: only when configured ------------------------------------------------------------------------------
def test_the_bedrock_tools_are_hidden_and_refused_when_not_configured(client, owner, settings):
    settings.BEDROCK_ENABLED = False
    client.force_login(owner.user)
    body = client.get(reverse("beta:catalogue")).content.decode()
    assert "Generate image" not in body
    assert "Generate video" not in body
    assert client.get(reverse("beta:submit", args=["generate-image"])).status_code == 404
    # The API's catalogue says the same.
    api_tools = {tool["slug"] for tool in client.get(reverse("api:tool-list")).json()}
    assert "dailies" in api_tools
    assert not api_tools & {"generate-image", "generate-video"}
    assert client.get(reverse("api:tool-detail", args=["generate-image"])).status_code == 404
    with pytest.raises(JobError, match="Not configured"):
        submit(owner)
    assert not Job.objects.exists()
    # Staff see them, marked, where tools are switched on and off.
    client.force_login(AdminFactory(is_superuser=True))
    add = client.get(reverse("admin:beta_toolswitch_add")).content.decode()
    assert "Generate image — Not configured: Amazon Bedrock is not enabled on this portal." in add


def test_the_bedrock_tools_are_offered_when_configured(client, owner, bedrock_on):
    client.force_login(owner.user)
    body = client.get(reverse("beta:catalogue")).content.decode()
    assert "Generate image" in body
    assert "Generate video" not in body  # no output bucket for Nova Reel yet
    bedrock_on.BEDROCK_OUTPUT_BUCKET = "studio-bedrock-out"
    body = client.get(reverse("beta:catalogue")).content.decode()
    assert reverse("beta:submit", args=["generate-image"]) in body
    assert reverse("beta:submit", args=["generate-video"]) in body
    api_tools = {tool["slug"] for tool in client.get(reverse("api:tool-list")).json()}
    assert {"generate-image", "generate-video"} <= api_tools


def test_text_to_image_is_submitted_from_its_form_without_a_file(client, owner, bedrock_on):
    client.force_login(owner.user)
    form = client.get(reverse("beta:submit", args=["generate-image"])).content.decode()
    assert "Generate image runs without one." in form  # no image in the library: text to image
    assert "disabled>Run" not in form
    response = client.post(reverse("beta:submit", args=["generate-image"]),
                           {"idempotency_key": "form-1", "assets": "", "prompt": PROMPT, "size": "1280x720",
                            "number_of_images": "1", "quality": "standard", "cfg_scale": "6.5", "similarity": "0.7",
                            "seed": "3"})  # fmt: skip
    job = Job.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("beta:job-detail", args=[job.pk])
    assert job.tool_slug == "generate-image"
    assert not job.job_inputs.exists()
    assert job.parameters["size"] == "1280x720"
    # With an image in the library, "No file" is offered and chosen unless the partner picks the image.
    AssetFactory(organization=owner.organization, kind="image", original_filename="plate.png")
    form = client.get(reverse("beta:submit", args=["generate-image"])).content.decode()
    assert re.search(r'id="asset-none" checked', form)
    assert "plate.png" in form


# --- A real worker ----------------------------------------------------------------------------------------------------
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_video_job_runs_in_a_real_worker_and_polls_bedrock_without_holding_it(
    celery_worker_process, bedrock_on, reel_bucket, reel_mp4, tmp_path
):
    """The worker's Bedrock client is a Stubber fed from the stub file; the output bucket is moto's server."""
    bucket, s3 = reel_bucket["bucket"], reel_bucket["client"]
    owner = OwnerFactory(organization__max_concurrent_jobs=4)
    stub_file = celery_worker_process.bedrock_stub_file
    with transaction.atomic():  # the job is sent to the worker on commit: the stub is ready by then
        job = submit(owner, "generate-video", seed=11)
        folder = f"orgs/{owner.organization.uuid}/jobs/{job.pk}/bedrock/{INVOCATION_ID}"
        s3.upload_file(str(reel_mp4), bucket, f"{folder}/output.mp4")

        def status(state):
            answer = reel_status(state, bucket=bucket, folder=folder)
            answer["submitTime"] = answer["submitTime"].isoformat()
            return {"operation": "get_async_invoke", "response": answer}

        stub_file.write_text(json.dumps({
            "config": {"enabled": True, "region": "us-east-1", "output_bucket": bucket, "poll_seconds": 1,
                       "s3_endpoint_url": reel_bucket["endpoint"], "access_key_id": "testing",
                       "secret_access_key": "testing"},
            "responses": [{"operation": "start_async_invoke", "response": {"invocationArn": ARN}},
                          status("InProgress"), status("InProgress"), status("Completed")],
        }))
    try:
        parked = wait_for(lambda: Job.objects.filter(pk=job.pk, status="running", worker="",
                                                     summary__has_key="pending").exists(),
                          timeout=60, interval=0.05, message="the job parked on Bedrock")
        assert parked
        job = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(), timeout=60,
                       message="the video job to finish")
        assert job.status == "succeeded", job.error or job.log
        assert job.deliveries == 0
        assert job.attempts == 1
        calls = json.loads(stub_file.read_text())["calls"]
        assert [c["operation"] for c in calls] == ["start_async_invoke", *["get_async_invoke"] * 3]
        start = calls[0]["params"]
        assert start["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"] == (
            f"s3://{bucket}/orgs/{owner.organization.uuid}/jobs/{job.pk}/bedrock/")
        assert start["modelInput"]["videoGenerationConfig"]["seed"] == 11
        [output] = job.job_outputs.select_related("asset")
        assert_ai_generated(stored_copy(output.asset, tmp_path))
    finally:
        stub_file.unlink(missing_ok=True)  # the worker's Bedrock is off again for other tests


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_image_job_runs_in_a_real_worker_through_throttling_to_ai_generated_stills(
    celery_worker_process, bedrock_on, png_file, tmp_path
):
    """Nova Canvas throttles once: the worker's Celery retry runs it again with backoff, and the still is stored."""
    owner = OwnerFactory(organization__max_concurrent_jobs=4)
    stub_file = celery_worker_process.bedrock_stub_file
    with transaction.atomic():  # the job is sent to the worker on commit: the stub is ready by then
        job = submit(owner, "generate-image", seed=5)
        stub_file.write_text(json.dumps({
            "config": {"enabled": True, "region": "us-east-1"},
            "responses": [
                {"operation": "invoke_model", "error": {"code": "ThrottlingException", "status": 429,
                                                        "message": "Too many requests, please wait."}},
                {"operation": "invoke_model",
                 "response": {"body_json": {"images": [base64.b64encode(png_file.read_bytes()).decode()]}}},
            ],
        }))
    try:
        job = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(), timeout=90,
                       message="the image job to finish")
        assert job.status == "succeeded", job.error or job.log
        assert job.attempts == 2
        assert "ThrottlingException" in job.log
        calls = json.loads(stub_file.read_text())["calls"]
        assert [c["operation"] for c in calls] == ["invoke_model", "invoke_model"]
        assert calls[1]["params"]["body"]["imageGenerationConfig"]["seed"] == 5
        [output] = job.job_outputs.select_related("asset")
        assert output.asset.kind == "image"
        assert_ai_generated(stored_copy(output.asset, tmp_path))
    finally:
        stub_file.unlink(missing_ok=True)  # the worker's Bedrock is off again for other tests


# --- Set extension: inpainting and outpainting of a plate -------------------------------------------------------------
class CaptureBody(JsonBody):
    """Accepts any JSON body and keeps it, so the test can read the images it carries."""

    def __init__(self, into):
        super().__init__(None)
        self.into = into

    def __eq__(self, other):
        self.into.update(json.loads(other))
        return True


def edit_request(captured) -> dict:
    return {"modelId": "amazon.nova-canvas-v1:0", "contentType": "application/json", "accept": "application/json",
            "body": CaptureBody(captured)}


def png_of(width, height, value=90) -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.full((height, width, 3), value, np.uint8))
    assert ok
    return data.tobytes()


def decoded(b64_png):
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(base64.b64decode(b64_png), np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def plate_video(tmp_path_factory):
    """A 480x360 plate at 23.976 fps whose first frame is red and whose later frames are blue."""
    path = tmp_path_factory.mktemp("bedrock") / "plate.mov"
    run_ffmpeg("-f", "lavfi", "-i", "color=c=red:size=480x360:rate=24000/1001:d=0.5",
               "-f", "lavfi", "-i", "color=c=blue:size=480x360:rate=24000/1001:d=0.5",
               "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-qp", "0", str(path))  # fmt: skip
    return path


def plate_input(path, kind="image", width=480, height=360):
    return ToolInput(path=path, kind=kind, filename=path.name, sha256=sha256_of(path), width=width, height=height)


def test_outpainting_extends_the_plate_and_masks_only_the_new_frame(stub, png_file, tool_context):
    import numpy as np

    captured = {}
    # 480x360 extended 25% left and right, 10% on top: 720 x 396, rounded up to 720 x 400 (the 4 rows go on top).
    stub.add_response("invoke_model", canvas_answer(png_of(720, 400)), expected_params=edit_request(captured))
    params = {"prompt": PROMPT, "task": "outpainting", "extend_left": 25, "extend_right": 25, "extend_top": 10,
              "outpainting_mode": "PRECISE", "seed": 7}

    result = GenerateImageTool().run([plate_input(png_file)], params, ProgressRecorder(), tool_context)

    assert captured["taskType"] == "OUTPAINTING"
    edit = captured["outPaintingParams"]
    assert set(edit) == {"image", "text", "maskImage", "outPaintingMode"}
    assert (edit["text"], edit["outPaintingMode"]) == (PROMPT, "PRECISE")
    assert captured["imageGenerationConfig"] == {"numberOfImages": 1, "quality": "standard", "cfgScale": 6.5, "seed": 7}
    image, mask = decoded(edit["image"]), decoded(edit["maskImage"])
    assert image.shape == mask.shape == (400, 720, 3)
    source = decoded(base64.b64encode(png_file.read_bytes()))
    assert np.array_equal(image[40:400, 120:600], source)  # the plate itself, untouched, where the mask keeps it
    assert set(np.unique(mask)) == {0, 255}  # pure black and white only, as Nova Canvas requires
    assert (mask[40:400, 120:600] == 0).all()  # black: kept
    kept = np.zeros(mask.shape[:2], bool)
    kept[40:400, 120:600] = True
    assert (mask[~kept] == 255).all()  # white: the new frame, to paint
    [output] = result.outputs
    assert (output.role, output.path.name) == ("outpainted-1", "extended-1.png")
    assert "AI-generated areas" in output.label
    assert result.summary["plate"] == {"x": 120, "y": 40, "width": 480, "height": 360}
    assert result.summary["size"] == "720x400"


def test_inpainting_repaints_inside_the_polygon_and_returns_the_plates_size(stub, png_file, tool_context):
    import cv2
    import numpy as np

    captured = {}
    stub.add_response("invoke_model", canvas_answer(png_of(480, 368)), expected_params=edit_request(captured))
    square = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]
    params = {"prompt": PROMPT, "task": "inpainting", "mask_polygon": square, "negative_prompt": "cranes"}

    result = GenerateImageTool().run([plate_input(png_file)], params, ProgressRecorder(), tool_context)

    assert captured["taskType"] == "INPAINTING"
    edit = captured["inPaintingParams"]
    assert set(edit) == {"image", "text", "negativeText", "maskImage"}
    mask = decoded(edit["maskImage"])
    assert mask.shape == (368, 480, 3)  # 360 is no multiple of 16: padded below, never stretched
    black = np.argwhere(mask[:, :, 0] == 0)
    assert black.min(axis=0).tolist() == [90, 120]
    assert black.max(axis=0).tolist() == [270, 360]
    assert len(black) == 181 * 241  # the polygon's pixels and nothing else
    [output] = result.outputs
    assert output.role == "inpainted-1"
    assert cv2.imread(str(output.path)).shape == (360, 480, 3)  # cut back to the plate
    assert result.summary["mask"] == "polygon"


def test_a_video_plate_gives_its_first_frame_and_a_mask_prompt_replaces_the_mask_image(stub, plate_video,
                                                                                     tool_context):
    captured = {}
    stub.add_response("invoke_model", canvas_answer(png_of(480, 368)), expected_params=edit_request(captured))
    params = {"prompt": PROMPT, "task": "inpainting", "mask_prompt": "the sky"}

    GenerateImageTool().run([plate_input(plate_video, kind="video")], params, ProgressRecorder(), tool_context)

    edit = captured["inPaintingParams"]
    assert edit["maskPrompt"] == "the sky"
    assert "maskImage" not in edit
    first = decoded(edit["image"])[:360]
    red, green, blue = (float(first[:, :, c].mean()) for c in range(3))
    assert red > 200  # the red first frame, not a later blue one
    assert max(green, blue) < 40


def test_the_generate_image_tool_takes_a_video_plate():
    assert GenerateImageTool.input_kinds == ("image", "video")


@pytest.mark.parametrize(("params", "message"), [
    ({"task": "outpainting", "extend_left": 10, "no_input": True}, "Outpainting needs a plate"),
    ({"task": "inpainting", "mask_prompt": "sky", "mask_polygon": [[0, 0], [1, 0], [0, 1]]}, "not both"),
    ({"task": "inpainting", "mask_prompt": "sky", "extend_top": 20}, "Extending the frame is outpainting"),
    ({"task": "inpainting"}, "Inpainting needs a mask"),
    ({"task": "outpainting"}, "Outpainting needs something to repaint"),
    ({"task": "inpainting", "mask_polygon": [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]}, r"encloses \(almost\) no area"),
    ({"task": "inpainting", "mask_polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}, "covers the whole plate"),
    ({"task": "outpainting", "mask_polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}, "Nothing is left to repaint"),
    ({"task": "outpainting", "extend_left": 100, "extend_right": 100, "wide": True}, "at most 4:1"),
    ({"task": "outpainting", "extend_top": 50, "small": True}, r"tiny.png is 300x200 pixels; Nova Canvas needs"),
], ids=["no-plate", "two-masks", "inpaint-extend", "no-mask", "nothing-to-paint", "flat-polygon", "whole-plate",
        "keep-everything", "too-wide", "too-small"])  # fmt: skip
def test_bad_edit_parameters_are_refused_before_any_call(stub, png_file, tool_context, tmp_path, params, message):
    params = dict(params)
    inputs = [plate_input(png_file)]
    if params.pop("no_input", False):
        inputs = []
    if params.pop("wide", False):  # a 2:1 plate extended by its width on each side: 6:1
        wide = tmp_path / "wide.png"
        run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=720x360", "-frames:v", "1", str(wide))
        inputs = [plate_input(wide, width=720, height=360)]
    if params.pop("small", False):
        inputs = [ToolInput(path=png_file, kind="image", filename="tiny.png", sha256="ab" * 32, width=300, height=200)]

    with pytest.raises(ToolError, match=message) as caught:
        GenerateImageTool().run(inputs, {"prompt": PROMPT, **params}, ProgressRecorder(), tool_context)

    assert not caught.value.transient
    # No response was queued: a call would have failed differently, and the Stubber has nothing pending or used.
    stub.assert_no_pending_responses()


def test_edit_parameters_out_of_range_are_refused_by_the_schema():
    schema = GenerateImageTool.parameters
    base = {"prompt": PROMPT}
    jsonschema.validate({**base, "task": "outpainting", "extend_left": 100, "mask_polygon": [[0, 0], [1, 0], [0, 1]]},
                        schema)  # fmt: skip
    for bad in [{"extend_left": 101}, {"extend_top": -1}, {"mask_polygon": [[0, 0], [1.5, 0], [0, 1]]},
                {"mask_polygon": [[0, 0], [1, 0]]}, {"task": "BACKGROUND_REMOVAL"}, {"outpainting_mode": "LOOSE"}]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**base, **bad}, schema)


def stored_plate(owner, source, tmp_path):
    """A ready image asset of the studio whose bytes are really stored (the plate to extend)."""
    from assets.models import Asset

    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind="image",
                                 original_filename="plate.png", size_bytes=source.stat().st_size,
                                 sha256=sha256_of(source), status="ready", previews="none", storage_key="",
                                 width=480, height=360)  # fmt: skip
    asset.storage_key = keys.original_key(asset)
    get_store().put_file(source, asset.storage_key, "image/png")
    asset.save()
    return asset


def test_a_set_extension_is_stored_as_a_composite_of_the_plate_and_offered_as_a_temp_comp_background(
    stub, owner, png_file, tmp_path, client
):
    from assets.provenance import COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA

    plate = stored_plate(owner, png_file, tmp_path)
    stub.add_response("invoke_model", canvas_answer(png_of(720, 368)), expected_params=edit_request({}))
    job = submit(owner, asset_ids=[plate.pk], task="outpainting", extend_left=25, extend_right=25)

    assert job_execute(job_id=job.pk) == "succeeded"

    job.refresh_from_db()
    [output] = job.job_outputs.select_related("asset")
    assert output.role == "outpainted-1"
    local = stored_copy(output.asset, tmp_path)
    result = verify(local)
    assert result.valid, result.errors
    summary = manifest_summary(result)
    assert summary["digital_source_type"] == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    client.force_login(owner.user)
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    link = f'{reverse("beta:submit", args=["temp-comp"])}?input={output.asset.pk}'
    assert f'href="{link}"' in page
    assert "Use as background" in page
    # Another studio sees neither the job nor the link.
    other = OwnerFactory()
    client.force_login(other.user)
    assert client.get(reverse("beta:job-detail", args=[job.pk])).status_code == 404


def test_the_form_takes_a_mask_polygon_as_json_and_says_what_is_wrong_with_a_bad_one(client, owner, bedrock_on):
    plate = AssetFactory(organization=owner.organization, kind="image", original_filename="plate.png")
    client.force_login(owner.user)
    fields = {"assets": plate.pk, "prompt": PROMPT, "task": "inpainting", "size": "1024x1024",
              "number_of_images": "1", "quality": "standard", "cfg_scale": "6.5", "similarity": "0.7", "seed": "0",
              "outpainting_mode": "DEFAULT", "extend_left": "0", "extend_right": "0", "extend_top": "0"}  # fmt: skip
    bad = client.post(reverse("beta:submit", args=["generate-image"]),
                      {**fields, "idempotency_key": "mask-1", "mask_polygon": "0.1 0.1, 0.9 0.1"})
    assert bad.status_code == 200
    assert "Enter a list in JSON" in bad.content.decode()
    assert not Job.objects.exists()

    response = client.post(reverse("beta:submit", args=["generate-image"]),
                           {**fields, "idempotency_key": "mask-2",
                            "mask_polygon": "[[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]"})  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Job.objects.get().parameters["mask_polygon"] == [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]
