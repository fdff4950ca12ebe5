"""The temp-comp tool end to end: a green-screen clip made by ffmpeg over a still background."""

import cv2
import opentimelineio as otio
import pytest

from beta.tools.base import ToolError
from beta.tools.temp_comp import NO_SCREEN, Encoding, Frames, TempCompTool, review_size
from media import comp
from media.probe import probe
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input


def green_plate(path, rate, timecode):
    # A moving orange box over a pure green screen, 1 second.
    run_ffmpeg("-f", "lavfi", "-i", f"color=c=0x00E000:size=320x180:rate={rate}:duration=1",
               "-f", "lavfi", "-i", f"color=c=0xD07040:size=80x100:rate={rate}:duration=1",
               "-filter_complex", "[0:v][1:v]overlay=x='20+t*100':y=40",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-metadata", f"timecode={timecode}",
               str(path))  # fmt: skip
    return path


@pytest.fixture
def background_still(tmp_path):
    path = tmp_path / "bg.png"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360", "-frames:v", "1", str(path))
    return path


@pytest.mark.parametrize(
    ("rate", "fps", "frames", "timecode"),
    [("24000/1001", 24000 / 1001, 24, "01:00:10:00"), ("25", 25.0, 25, "10:00:00:12")],
)
def test_temp_comp_makes_prores_with_the_plates_timecode_and_an_edl(
    tmp_path, tool_context, background_still, rate, fps, frames, timecode
):
    plate = green_plate(tmp_path / "plate.mp4", rate, timecode)
    result = TempCompTool().run(
        [video_input(plate), video_input(background_still, "bg.png", "image")], {}, ProgressRecorder(), tool_context
    )
    by_role = {o.role: o for o in result.outputs}
    info = probe(by_role["comp"].path)
    assert info.video_codec == "prores"
    assert round(info.duration * fps) == frames
    assert info.timecode == timecode
    assert info.video_profile == "HQ"
    # The matte is DNxHR LB (cheaper to encode than ProRes, issue 19's speed work), at the plate's timecode.
    matte_info = probe(by_role["matte"].path)
    assert (matte_info.video_codec, matte_info.video_profile) == ("dnxhd", "DNXHR LB")
    assert matte_info.timecode == timecode
    assert by_role["matte"].label == "Matte (DNxHR LB)"
    # The box (80 x 100 of 320 x 180) is in the matte, and only the box.
    mattes = Frames(by_role["matte"].path, 320, 180, rate, grey=True)
    first = comp.to_unit(next(iter(mattes)))
    mattes.close()
    assert (first > 0.5).sum() == pytest.approx(80 * 100, rel=0.05)
    assert first[90, 60] > 0.9
    # The review copy is at most 720p: a 180p plate keeps its size (no upscaling).
    review = probe(by_role["review"].path)
    assert (review.video_codec, review.width, review.height) == ("h264", 320, 180)
    assert by_role["review"].label == "Temp comp review copy (H.264, 180p)"
    timeline = otio.adapters.read_from_string(by_role["edl"].path.read_text(), "cmx_3600", rate=fps)
    clip = next(iter(timeline.find_clips()))
    assert otio.opentime.to_timecode(clip.source_range.start_time, fps) == timecode
    assert clip.source_range.duration.to_frames() == frames


def test_crowd_mode_runs(tmp_path, tool_context, background_still):
    plate = green_plate(tmp_path / "plate.mp4", "25", "00:00:00:00")
    result = TempCompTool().run(
        [video_input(plate), video_input(background_still, "bg.png", "image")],
        {"mode": "crowd", "crowd_copies": 12},
        ProgressRecorder(),
        tool_context,
    )
    assert probe(result.outputs[0].path).video_codec == "prores"
    mattes = Frames(result.outputs[2].path, 320, 180, "25", grey=True)
    first = comp.to_unit(next(iter(mattes)))
    mattes.close()
    assert cv2.connectedComponents((first > 0.5).astype("uint8"))[0] - 1 >= 6  # copies, some overlapping


@pytest.mark.parametrize(
    ("width", "height", "limit", "expected"),
    [(1920, 1080, 720, (1280, 720)), (3840, 2160, 720, (1280, 720)), (320, 180, 720, (320, 180)),
     (321, 181, 720, (320, 180)), (1920, 1080, None, (1920, 1080)), (2048, 858, 720, (1718, 720))],
)  # fmt: skip
def test_the_review_copy_is_at_most_720p_with_even_sides(width, height, limit, expected):
    assert review_size(width, height, limit) == expected


def test_a_review_copy_is_scaled_down_and_a_small_plates_matte_is_prores(tmp_path, tool_context, background_still):
    # DNxHR takes pictures from 256 x 120: a smaller plate's matte is ProRes 422 HQ. The review limit (here 90 lines,
    # as 720 is for 1080p) brings the copy down with its aspect kept.
    plate = tmp_path / "small.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "color=c=0x00E000:size=240x112:rate=25:duration=0.4",
               "-f", "lavfi", "-i", "color=c=0xD07040:size=60x50:rate=25:duration=0.4",
               "-filter_complex", "[0:v][1:v]overlay=x=20:y=20", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv444p", str(plate))  # fmt: skip

    class SmallReview(TempCompTool):
        encoding = Encoding(review_height=90)

    result = SmallReview().run(
        [video_input(plate), video_input(background_still, "bg.png", "image")], {}, ProgressRecorder(), tool_context
    )
    by_role = {o.role: o for o in result.outputs}
    matte = probe(by_role["matte"].path)
    assert (matte.video_codec, matte.video_profile) == ("prores", "HQ")
    assert by_role["matte"].label == "Matte (ProRes 422 HQ)"
    review = probe(by_role["review"].path)
    assert (review.video_codec, review.width, review.height) == ("h264", 192, 90)
    assert by_role["review"].label == "Temp comp review copy (H.264, 90p)"


def test_a_plate_without_a_screen_is_refused(tmp_path, tool_context, background_still):
    plate = tmp_path / "plain.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1", "-pix_fmt", "yuv420p", str(plate))
    with pytest.raises(ToolError, match=NO_SCREEN):
        TempCompTool().run(
            [video_input(plate), video_input(background_still, "bg.png", "image")], {}, ProgressRecorder(), tool_context
        )


def test_a_short_background_is_refused_when_asked(tmp_path, tool_context):
    plate = green_plate(tmp_path / "plate.mp4", "25", "00:00:00:00")
    bg = tmp_path / "bg.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=0.4", "-pix_fmt", "yuv420p", str(bg))
    with pytest.raises(ToolError, match="refuse a length mismatch"):
        TempCompTool().run(
            [video_input(plate), video_input(bg, "bg.mp4")],
            {"length_mismatch": "refuse"},
            ProgressRecorder(),
            tool_context,
        )


def test_a_plate_above_the_size_cap_is_refused(tmp_path, tmp_path_factory, background_still):
    from beta.tools.base import ToolContext

    plate = green_plate(tmp_path / "plate.mp4", "25", "00:00:00:00")
    context = ToolContext(work_dir=tmp_path, studio_name="S", settings={"TEMP_COMP_MAX_PIXELS": 1000})
    with pytest.raises(ToolError, match="up to 1,000 pixels"):
        TempCompTool().run(
            [video_input(plate), video_input(background_still, "bg.png", "image")], {}, ProgressRecorder(), context
        )


def first_matte(path):
    mattes = Frames(path, 320, 180, "25", grey=True)
    first = comp.to_unit(next(iter(mattes)))
    mattes.close()
    return first


def test_a_matte_clip_keys_a_plate_without_a_screen(tmp_path, tool_context, background_still):
    plate = tmp_path / "plain.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1", "-pix_fmt", "yuv420p", str(plate))
    matte = tmp_path / "matte.mp4"
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:size=320x180:rate=25:duration=1",
        "-vf",
        "drawbox=x=0:y=0:w=160:h=180:color=white:t=fill",
        "-pix_fmt",
        "yuv420p",
        str(matte),
    )
    result = TempCompTool().run(
        [video_input(plate), video_input(background_still, "bg.png", "image"), video_input(matte, "matte.mp4")],
        {},
        ProgressRecorder(),
        tool_context,
    )
    first = first_matte(result.outputs[2].path)
    assert first[:, :150].mean() > 0.95
    assert first[:, 170:].mean() < 0.05


def test_the_garbage_matte_limits_the_key_and_a_short_clip_background_loops(tmp_path, tool_context):
    plate = green_plate(tmp_path / "plate.mp4", "25", "00:00:00:00")
    bg = tmp_path / "bg.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=0.4", "-pix_fmt", "yuv420p", str(bg))
    params = {"garbage_matte": [[0, 0], [0.25, 0], [0.25, 1], [0, 1]], "length_mismatch": "loop"}
    result = TempCompTool().run(
        [video_input(plate), video_input(bg, "bg.mp4")], params, ProgressRecorder(), tool_context
    )
    assert result.summary["frames"] == 25
    first = first_matte(result.outputs[2].path)
    assert first[:, 85:].max() < 0.05  # the box's right part is outside the polygon
    assert first[90, 40] > 0.9


# Through the real pipeline --------------------------------------------------------------------------------------------


def _stored(asset, key: str, path):
    from assets.storage import get_store

    with get_store().open(key) as fh:
        path.write_bytes(fh.read())
    return path


def _active_action(local, manifest_bytes: bytes) -> dict:
    """The comp's last action, read with c2pa's Reader from the stored `.c2pa` manifest store; it must validate."""
    import json

    import c2pa

    with open(local, "rb") as stream, c2pa.Reader("application/octet-stream", stream, manifest_bytes) as reader:
        store = json.loads(reader.json())
    assert store["validation_state"] in ("Valid", "Trusted"), store.get("validation_results")
    manifest = store["manifests"][store["active_manifest"]]
    actions = next(a["data"] for a in manifest["assertions"] if a["label"] == "c2pa.actions.v2")["actions"]
    return actions[-1]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_temp_comp_job_runs_in_a_real_worker_and_an_ai_background_is_recorded_as_such(
    celery_worker_process, tmp_path, background_still
):
    from assets.services import asset_create_from_file
    from beta.jobs.submit import job_submit
    from beta.models import Job, JobOutput
    from tests.conftest import wait_for
    from tests.factories import JobFactory, OwnerFactory

    owner = OwnerFactory(organization__max_concurrent_jobs=2)

    def upload(path, kind, content_type):
        return asset_create_from_file(organization=owner.organization, created_by=owner.user, path=path, kind=kind,
                                      filename=path.name, content_type=content_type)  # fmt: skip

    plate = upload(green_plate(tmp_path / "plate.mp4", "25", "01:00:00:00"), "video", "video/mp4")
    camera = upload(background_still, "image", "image/png")
    # A background the portal made: an output of a generate-image job of the studio's.
    made = upload(background_still.rename(tmp_path / "nova.png"), "image", "image/png")
    maker = JobFactory(organization=owner.organization, tool_slug="generate-image", status="succeeded", error="")
    JobOutput.objects.create(job=maker, asset=made, role="image-1", label="Generated image")
    results = {}
    for name, background in (("camera", camera), ("ai", made)):
        job = job_submit(actor=owner.user, tool_slug="temp-comp", asset_ids=[plate.pk, background.pk], parameters={})
        results[name] = wait_for(lambda job=job: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(),
                                 timeout=180, message="temp comp")  # fmt: skip
    for name, job in results.items():
        assert job.status == "succeeded", job.error or job.log
        outputs = {o.role: o for o in job.job_outputs.select_related("asset")}
        assert set(outputs) == {"comp", "review", "matte", "edl", "otio"}
        comp_output = outputs["comp"]
        assert comp_output.manifest_key.endswith(".c2pa")
        local = _stored(comp_output.asset, comp_output.asset.storage_key, tmp_path / f"{name}.mov")
        manifest = _stored(comp_output.asset, comp_output.manifest_key, tmp_path / f"{name}.mov.c2pa").read_bytes()
        step = _active_action(local, manifest)
        assert step["action"] == "c2pa.edited"
        if name == "ai":
            assert step["digitalSourceType"].endswith("/compositeWithTrainedAlgorithmicMedia")
            assert job.summary["review_label"] == "TEMP COMP · AI background"
        else:
            assert "digitalSourceType" not in step
            assert job.summary["review_label"] == "TEMP COMP"


@pytest.mark.django_db
def test_a_background_from_another_studio_is_refused_before_any_work(tmp_path, background_still):
    from assets.services import asset_create_from_file
    from beta.errors import JobError
    from beta.jobs.submit import job_submit
    from beta.models import Job
    from tests.factories import OwnerFactory

    owner, other = OwnerFactory(), OwnerFactory()
    plate = asset_create_from_file(organization=owner.organization, created_by=owner.user,
                                   path=green_plate(tmp_path / "plate.mp4", "25", "00:00:00:00"), kind="video",
                                   filename="plate.mp4", content_type="video/mp4")  # fmt: skip
    theirs = asset_create_from_file(organization=other.organization, created_by=other.user, path=background_still,
                                    kind="image", filename="bg.png", content_type="image/png")  # fmt: skip
    with pytest.raises(JobError, match=f"File {theirs.pk} is not one of your studio's files"):
        job_submit(actor=owner.user, tool_slug="temp-comp", asset_ids=[plate.pk, theirs.pk], parameters={})
    assert not Job.objects.exists()
