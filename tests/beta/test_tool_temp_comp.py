"""The temp-comp tool end to end: a green-screen clip made by ffmpeg over a still background."""

import cv2
import opentimelineio as otio
import pytest

from beta.tools.base import ToolError
from beta.tools.temp_comp import NO_SCREEN, Frames, TempCompTool
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
    assert probe(by_role["matte"].path).video_codec == "prores"
    # The box (80 x 100 of 320 x 180) is in the matte, and only the box.
    mattes = Frames(by_role["matte"].path, 320, 180, rate, grey=True)
    first = comp.to_unit(next(iter(mattes)))
    mattes.close()
    assert (first > 0.5).sum() == pytest.approx(80 * 100, rel=0.05)
    assert first[90, 60] > 0.9
    assert probe(by_role["review"].path).video_codec == "h264"
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
