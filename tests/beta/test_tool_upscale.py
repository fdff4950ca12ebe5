"""Image upscaling (beta/tools/upscale.py): Real-ESRGAN x2 on the CPU on pictures made here with NumPy and OpenCV;
the pixel limit; its job page's before/after slider; and one run through a real worker."""

import re

import cv2
import jsonschema
import numpy as np
import pytest
from django.urls import reverse

from assets.models import Asset
from assets.provenance import verify
from assets.services import asset_create_from_file
from assets.storage import get_store
from beta.jobs.submit import job_submit
from beta.models import Job, JobOutput
from beta.tools import get_tool, upscale
from beta.tools.base import JobCanceled, ToolError
from beta.tools.upscale import UpscaleTool, upscale_bgr
from tests.beta.conftest import ProgressRecorder, video_input
from tests.conftest import wait_for
from tests.factories import OwnerFactory


def make_picture(width: int, height: int, channels: int = 3, dtype=np.uint8) -> np.ndarray:
    """A synthetic plate: a colour gradient with a few hard-edged shapes and some text."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    image[..., 1] = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    image[..., 2] = 96
    cv2.rectangle(image, (width // 8, height // 8), (width // 3, height // 2), (255, 255, 255), -1)
    cv2.circle(image, (2 * width // 3, height // 2), max(4, min(width, height) // 5), (20, 20, 200), -1)
    cv2.putText(image, "GL", (width // 10, 9 * height // 10), cv2.FONT_HERSHEY_SIMPLEX, height / 80, (0, 0, 0), 2)
    if channels == 1:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif channels == 4:
        alpha = np.full((height, width, 1), 255, np.uint8)
        alpha[:, : width // 2] = 128
        image = np.concatenate([image, alpha], axis=2)
    if dtype == np.uint16:
        image = image.astype(np.uint16) * 257
    return image



@pytest.fixture
def picture(tmp_path):
    def make(name="plate.png", width=96, height=64, **kwargs):
        path = tmp_path / name
        assert cv2.imwrite(str(path), make_picture(width, height, **kwargs))
        return path

    return make


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def by_role(result):
    return {o.role: o for o in result.outputs}


def test_the_tool_is_in_the_catalogue():
    tool = get_tool("upscale")
    assert isinstance(tool, UpscaleTool)
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    jsonschema.validate(tool.defaults(), tool.parameters)
    assert tool.parameters["additionalProperties"] is False
    assert tool.soft_time_limit < tool.time_limit
    assert tool.input_kinds == ("image",)
    assert tool.queue == "cpu"


def test_upscaling_doubles_the_dimensions_into_a_png_that_resembles_the_picture(picture, tool_context):
    source = picture(width=96, height=64)
    recorder = ProgressRecorder()
    result = UpscaleTool().run([video_input(source, "plate.png", "image")], {}, recorder, tool_context)
    outputs = by_role(result)
    assert list(outputs) == ["upscaled", "compare_before", "compare_after"]
    upscaled = outputs["upscaled"]
    assert upscaled.path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (upscaled.kind, upscaled.content_type) == ("image", "image/png")
    out = cv2.imread(str(upscaled.path), cv2.IMREAD_UNCHANGED)
    assert out.shape == (128, 192, 3)
    # It is the same picture, enlarged: close to plain bicubic resizing, yet not the same pixels.
    bicubic = cv2.resize(cv2.imread(str(source)), (192, 128), interpolation=cv2.INTER_CUBIC)
    assert 20 < psnr(out, bicubic) < 60
    assert result.summary["width"] == 192
    assert result.summary["height"] == 128
    assert result.summary["input_width"] == 96
    assert result.summary["model"] == "realesr-animevideov3-x2"
    # The before/after pair: the same detail, same size (here the whole picture, smaller than 480 x 320).
    before = cv2.imread(str(outputs["compare_before"].path))
    after = cv2.imread(str(outputs["compare_after"].path))
    assert before.shape == after.shape == (128, 192, 3)
    assert np.array_equal(after, out)
    assert recorder.percents == sorted(recorder.percents)
    assert recorder.percents[-1] == 100


def test_a_picture_larger_than_a_tile_has_no_seams(picture, tool_context):
    # 300 x 270 is cut into 2 x 2 tiles of 256; the result must match the network run on the whole picture.
    image = make_picture(300, 270)
    tiled = upscale_bgr(image)
    whole = upscale._network().process_cv2(image)
    assert tiled.shape == whole.shape == (540, 600, 3)
    assert np.abs(tiled.astype(int) - whole.astype(int)).mean() < 1.0


def test_alpha_grey_and_16_bit_pictures_are_upscaled(picture, tool_context):
    rgba = UpscaleTool().run([video_input(picture("a.png", 40, 30, channels=4), "a.png", "image")], {},
                             ProgressRecorder(), tool_context)  # fmt: skip
    out = cv2.imread(str(by_role(rgba)["upscaled"].path), cv2.IMREAD_UNCHANGED)
    assert out.shape == (60, 80, 4)
    assert abs(int(out[30, 10, 3]) - 128) <= 2
    assert out[30, 70, 3] == 255
    assert rgba.summary["alpha"] is True

    grey = UpscaleTool().run([video_input(picture("g.png", 40, 30, channels=1), "g.png", "image")], {},
                             ProgressRecorder(), tool_context)  # fmt: skip
    assert cv2.imread(str(by_role(grey)["upscaled"].path), cv2.IMREAD_UNCHANGED).shape == (60, 80, 3)

    deep = UpscaleTool().run([video_input(picture("d.png", 40, 30, dtype=np.uint16), "d.png", "image")], {},
                             ProgressRecorder(), tool_context)  # fmt: skip
    out = cv2.imread(str(by_role(deep)["upscaled"].path), cv2.IMREAD_UNCHANGED)
    assert out.shape == (60, 80, 3)
    assert out.dtype == np.uint8


def test_a_photo_is_turned_upright_as_its_exif_orientation_says(tmp_path, tool_context):
    from PIL import Image

    # Stored 40 wide and 30 high, with "rotate 90 degrees clockwise to view" (orientation 6): upright it is 30 x 40.
    pixels = make_picture(40, 30)
    pixels[:, :10] = (0, 0, 255)  # a red band on the stored picture's left: upright, it is along the top
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)).save(path, quality=95, exif=exif)
    result = UpscaleTool().run([video_input(path, "phone.jpg", "image")], {}, ProgressRecorder(), tool_context)
    out = cv2.imread(str(by_role(result)["upscaled"].path), cv2.IMREAD_UNCHANGED)
    assert out.shape == (80, 60, 3)
    blue, green, red = out[4, 30].astype(int)
    assert red > 200 > max(blue, green)
    assert result.summary["input_width"] == 30


def test_a_picture_over_the_pixel_limit_is_refused_with_the_numbers(picture, tool_context, settings):
    settings.UPSCALE_MAX_PIXELS = 5000
    source = picture(width=100, height=60)
    with pytest.raises(ToolError) as caught:
        UpscaleTool().run([video_input(source, "plate.png", "image")], {}, ProgressRecorder(), tool_context)
    message = str(caught.value)
    assert "100 × 60 = 6,000 pixels" in message
    assert "up to 5,000 pixels" in message
    assert not list(tool_context.work_dir.iterdir())
    # At the limit exactly, it runs.
    settings.UPSCALE_MAX_PIXELS = 6000
    result = UpscaleTool().run([video_input(source, "plate.png", "image")], {}, ProgressRecorder(), tool_context)
    assert result.summary["width"] == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"These are notes, not a picture.\n" * 10, "cannot read this image for upscaling"),
        # The signature and a whole IHDR chunk (its header reads), then nothing: no pixels to decode.
        (cv2.imencode(".png", np.zeros((16, 16, 3), np.uint8))[1].tobytes()[:33], "cannot (?:read|decode) this image"),
    ],
    ids=["text", "truncated-png"],
)
def test_a_file_that_is_not_a_readable_picture_is_refused(tmp_path, tool_context, data, message):
    path = tmp_path / "broken.png"
    path.write_bytes(data)
    with pytest.raises(ToolError, match=message):
        UpscaleTool().run([video_input(path, "broken.png", "image")], {}, ProgressRecorder(), tool_context)


def test_canceling_stops_between_tiles(tool_context, tmp_path):
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), make_picture(600, 300))  # 3 x 2 tiles
    recorder = ProgressRecorder(cancel_at=10)
    with pytest.raises(JobCanceled):
        UpscaleTool().run([video_input(path, "big.png", "image")], {}, recorder, tool_context)
    assert not any(p.suffix == ".png" for p in tool_context.work_dir.iterdir())


# The job page ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_job_page_shows_a_keyboard_operable_before_after_slider(client, picture, tool_context):
    source = picture(width=96, height=64)
    result = UpscaleTool().run([video_input(source, "plate.png", "image")], {}, ProgressRecorder(), tool_context)
    owner = OwnerFactory()
    client.force_login(owner.user)
    job = Job.objects.create(
        organization=owner.organization, submitted_by=owner.user, tool_slug="upscale", tool_version="1.0.0",
        status="succeeded", progress=100, summary=result.summary,
    )  # fmt: skip
    for output in result.outputs:
        asset = asset_create_from_file(
            organization=owner.organization, created_by=owner.user, path=output.path, kind=output.kind,
            filename=output.filename, content_type=output.content_type, make_previews=False,
        )  # fmt: skip
        JobOutput.objects.create(job=job, asset=asset, role=output.role, label=output.label)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()

    slider = re.search(r"<input [^>]*type=\"range\"[^>]*>", body).group(0)
    assert f'id="compare-{job.pk}"' in slider
    assert f'aria-controls="compare-after-{job.pk}"' in slider
    assert f'<label for="compare-{job.pk}">' in body
    assert f'id="compare-after-{job.pk}"' in body
    before = job.job_outputs.get(role="compare_before").asset
    after = job.job_outputs.get(role="compare_after").asset
    figure = re.search(r"<figure class=\"before-after\".*?</figure>", body, re.S).group(0)
    assert figure.index(reverse("assets:download", args=[before.pk])) < figure.index(
        reverse("assets:download", args=[after.pk])
    )
    assert "js/before-after.js" in body
    assert "96 × 64" in body
    assert "<strong>192 × 128</strong>" in body


# Through the real pipeline --------------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upscale_job_runs_in_a_real_worker_with_provenance_and_its_page_shows_the_slider(
    celery_worker_process, client, picture, tmp_path
):
    owner = OwnerFactory(organization__max_concurrent_jobs=2)
    source = picture(width=120, height=80)
    asset = asset_create_from_file(
        organization=owner.organization, created_by=owner.user, path=source, kind="image",
        filename="plate.png", content_type="image/png",
    )  # fmt: skip
    job = job_submit(actor=owner.user, tool_slug="upscale", asset_ids=[asset.pk], parameters={})
    job = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(), timeout=90,
                   message="upscale")  # fmt: skip
    assert job.status == "succeeded", job.error or job.log
    outputs = {o.role: o for o in job.job_outputs.select_related("asset")}
    assert set(outputs) == {"upscaled", "compare_before", "compare_after"}
    upscaled = outputs["upscaled"]
    assert upscaled.asset.status == Asset.Status.READY
    assert (upscaled.asset.width, upscaled.asset.height) == (240, 160)
    assert upscaled.provenance_embedded  # PNG carries a signed C2PA manifest
    local = tmp_path / upscaled.asset.original_filename
    with get_store().open(upscaled.asset.storage_key) as fh:
        local.write_bytes(fh.read())
    with get_store().open(upscaled.provenance_key) as fh:
        (tmp_path / (local.name + ".provenance.json")).write_bytes(fh.read())
    checked = verify(local)
    assert checked.valid, checked.errors
    assert cv2.imread(str(local)).shape == (160, 240, 3)

    client.force_login(owner.user)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert 'class="before-after__range"' in body
    assert "<strong>240 × 160</strong>" in body
