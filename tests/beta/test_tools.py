"""The tools in beta/tools, called directly: inputs, validated parameters and a progress callback, no Django."""

import csv
import io
import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import jsonschema
import numpy as np
import opentimelineio as otio
import pytest

from beta.tools import dailies, diagnostics, shot_detect
from beta.tools.base import JobCanceled, ToolContext, ToolError, TransientToolError
from beta.tools.common import filter_value
from beta.tools.dailies import DailiesTool
from beta.tools.shot_detect import ShotDetectTool
from media.probe import probe, source_timecode
from media.timecode import Rate, frames_to_timecode, timecode_to_frames
from tests.beta.conftest import (
    CUT_CLIP_TIMECODE,
    CUT_FRAMES,
    DROP_FRAME_TIMECODE,
    FPS,
    ProgressRecorder,
    video_input,
)

ROOT = Path(__file__).resolve().parents[2]
ALL_TOOLS = [
    *dailies.TOOLS,
    *shot_detect.TOOLS,
    *diagnostics.TOOLS,
]
PAL = Rate(25.0)
NTSC_DF = Rate(30000 / 1001, drop_frame=True)


def read_edl(text: str, rate: float) -> otio.schema.Timeline:
    """A CMX 3600 EDL as OpenTimelineIO's reader sees it: one video track, a clip per event."""
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=rate)
    assert len(timeline.video_tracks()) == 1
    return timeline


def edl_timecodes(text: str, rate: float, *, drop_frame: bool = False) -> list[tuple[str, str]]:
    """(source in, source out) of each event of an EDL, read by OpenTimelineIO."""
    timeline = read_edl(text, rate)  # held: a track does not keep its timeline alive
    return [
        (otio.opentime.to_timecode(clip.source_range.start_time, rate, drop_frame=drop_frame),
         otio.opentime.to_timecode(clip.source_range.end_time_exclusive(), rate, drop_frame=drop_frame))
        for clip in timeline.video_tracks()[0]
    ]  # fmt: skip


def gray_frame(path: Path, frame: int, width: int, height: int) -> np.ndarray:
    """Frame number `frame` of a video, scaled to width x height, as 8-bit gray pixels."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
               "-vf", f"select=eq(n\\,{frame}),scale={width}:{height}", "-frames:v", "1",
               "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, timeout=60, check=True)
    return np.frombuffer(result.stdout, dtype=np.uint8).reshape(height, width).astype(np.int16)


def is_jpeg(path: Path) -> bool:
    data = path.read_bytes()
    return data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"


def by_role(result) -> dict:
    return {output.role: output for output in result.outputs}


# The catalogue -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool_class", ALL_TOOLS, ids=lambda cls: cls.slug)
def test_each_tool_declares_a_valid_schema_whose_defaults_validate(tool_class):
    tool = tool_class()
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    jsonschema.validate(tool.defaults(), tool.parameters)
    assert tool.parameters.get("additionalProperties") is False
    assert tool.queue == "cpu"
    assert tool.soft_time_limit < tool.time_limit
    assert tool.input_kinds


def test_slugs_are_unique_and_as_published():
    slugs = [cls.slug for cls in ALL_TOOLS]
    assert len(slugs) == len(set(slugs))
    assert {"dailies", "shot-detect", "noop", "ping", "fail", "flaky", "slow", "crash"} == set(slugs)


def test_start_timecode_parameter_must_be_hh_mm_ss_ff():
    schema = DailiesTool.parameters
    jsonschema.validate({"start_timecode": "10:00:00:00"}, schema)
    for bad in ["10:00:00", "10:00:00;00", "1:00:00:00", "10:00:00:00\n"]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"start_timecode": bad}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"height": 2160}, schema)


# Timecode and escaping helpers ---------------------------------------------------------------------------------------


def test_non_drop_timecode_converts_both_ways():
    assert timecode_to_frames("01:00:00:00", PAL) == 90000
    assert frames_to_timecode(90000 + 87, PAL) == "01:00:03:12"
    for frames in [0, 1, 24, 25, 1499, 1500, 89999, 90000, 2159999]:
        assert timecode_to_frames(frames_to_timecode(frames, PAL), PAL) == frames
    with pytest.raises(ValueError, match="not a valid timecode"):
        timecode_to_frames("00:00:00:25", PAL)


def test_drop_frame_timecode_skips_two_numbers_a_minute_except_every_tenth():
    assert frames_to_timecode(1799, NTSC_DF) == "00:00:59;29"
    assert frames_to_timecode(1800, NTSC_DF) == "00:01:00;02"
    assert frames_to_timecode(17982, NTSC_DF) == "00:10:00;00"
    assert timecode_to_frames("01:00:00;00", NTSC_DF) == 107892
    for frames in [0, 1799, 1800, 3597, 3598, 17981, 17982, 107891, 107892, 500000]:
        assert timecode_to_frames(frames_to_timecode(frames, NTSC_DF), NTSC_DF) == frames


def test_source_timecode_is_read_from_the_files_timecode_track(cut_clip, dailies_clip):
    assert source_timecode(cut_clip) == CUT_CLIP_TIMECODE
    assert source_timecode(dailies_clip) is None


def test_filter_values_are_escaped_for_both_levels_of_ffmpegs_parsing():
    # The worked example in ffmpeg's filter documentation ("Notes on filtergraph escaping").
    text = "this is a 'string': may contain one, or more, special characters"
    assert filter_value(text) == r"this is a \\\'string\\\'\\: may contain one\, or more\, special characters"


# Dailies -------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dailies_run(dailies_clip, tmp_path_factory):
    """One dailies run on the 854x480 clip at 360 lines, with a start timecode since the clip has none."""
    work_dir = tmp_path_factory.mktemp("dailies")
    progress = ProgressRecorder()
    params = {**DailiesTool().defaults(), "height": 360, "start_timecode": "10:00:00:00"}
    result = DailiesTool().run(
        [video_input(dailies_clip)], params, progress, ToolContext(work_dir=work_dir, studio_name="Northlight Pictures")
    )
    return result, progress


def test_dailies_makes_a_proxy_at_the_requested_height_with_audio_and_timecode(dailies_run):
    result, _progress = dailies_run
    outputs = by_role(result)
    assert set(outputs) == {"proxy", "poster", "contact_sheet"}
    proxy = outputs["proxy"]
    assert proxy.kind == "video"
    assert proxy.content_type == "video/mp4"
    info = probe(proxy.path)
    assert (info.width, info.height) == (640, 360)
    assert info.video_codec == "h264"
    assert info.has_audio  # the source had a sine tone
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert result.summary["height"] == 360
    assert result.summary["start_timecode"] == "10:00:00:00"
    assert result.summary["duration"] == pytest.approx(3.0, abs=0.1)
    # The proxy carries the timecode as a track, so shot detection on it yields the clip's timecode.
    assert source_timecode(proxy.path) == "10:00:00:00"


def test_dailies_makes_a_poster_and_a_contact_sheet(dailies_run):
    result, _ = dailies_run
    outputs = by_role(result)
    for role in ["poster", "contact_sheet"]:
        assert outputs[role].kind == "image"
        assert outputs[role].content_type == "image/jpeg"
        assert is_jpeg(outputs[role].path)
    sheet = probe(outputs["contact_sheet"].path)
    assert sheet.width > 4 * 300  # four tiles of 320 px, with padding


def test_dailies_reports_rising_progress_with_the_encode_below_90_percent(dailies_run):
    _, progress = dailies_run
    percents = progress.percents
    assert percents == sorted(percents)
    assert percents[-1] == 100
    encode = [call[0] for call in progress.calls if call[1] == "Encoding the review copy"]
    assert encode
    assert max(encode) <= 90
    assert len(encode) >= 2


def test_dailies_burns_a_visible_watermark_into_the_centre(dailies_clip, dailies_run, tool_context):
    # Given the same frame of the source, of the proxy, and of a proxy made without the watermark, as 640x360 gray,
    result, _ = dailies_run
    plain = DailiesTool().run(
        [video_input(dailies_clip)], {"height": 360, "watermark": False}, ProgressRecorder(), tool_context
    )
    source = gray_frame(dailies_clip, 30, 640, 360)
    marked = np.abs(source - gray_frame(by_role(result)["proxy"].path, 30, 640, 360))
    unmarked = np.abs(source - gray_frame(by_role(plain)["proxy"].path, 30, 640, 360))
    # when we look at the band the two centred lines are drawn in (they span about x 137-502, y 148-200 at 360p)
    # and at a patch of colour bars above it that no overlay touches,
    band, clean = np.s_[144:204, 128:512], np.s_[36:108, 24:200]
    # then only the watermarked proxy differs clearly in the band. Measured on frames 10, 30 and 60: 14.5-15.1 in the
    # band with the watermark (white at 45% with a dark border over testsrc2, text covering part of the band),
    # 0.1-0.7 without it (CRF 23 noise on testsrc2's moving edges), and 0.06-0.6 in the clean patch of either. The
    # bounds leave room for encoder and scaler changes while failing if the text vanishes or turns faint.
    assert marked[band].mean() > 8, marked[band].mean()
    assert marked[band].mean() > 5 * unmarked[band].mean(), (marked[band].mean(), unmarked[band].mean())
    assert marked[clean].mean() < 3, marked[clean].mean()
    assert unmarked[band].mean() < 3, unmarked[band].mean()


def test_dailies_never_upscales_and_uses_the_source_timecode(cut_clip, tool_context):
    progress = ProgressRecorder()
    params = {**DailiesTool().defaults(), "height": 720, "watermark": False, "timecode": False}
    result = DailiesTool().run([video_input(cut_clip)], params, progress, tool_context)
    info = probe(by_role(result)["proxy"].path)
    assert (info.width, info.height) == (640, 360)
    assert result.summary["height"] == 360
    assert result.summary["start_timecode"] == CUT_CLIP_TIMECODE
    assert "not upscaled" in progress.logs


def test_dailies_keeps_drop_frame_timecode_and_a_studio_name_that_looks_like_ffmpeg_syntax(drop_frame_clip, tmp_path):
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    context = ToolContext(work_dir=work_dir, studio_name="O'Brien: 100% [Films], %{pts}; \\n Ltd")
    result = DailiesTool().run([video_input(drop_frame_clip)], {"height": 360}, ProgressRecorder(), context)
    assert result.summary["start_timecode"] == DROP_FRAME_TIMECODE
    assert result.summary["height"] == 180
    assert source_timecode(by_role(result)["proxy"].path) == DROP_FRAME_TIMECODE
    assert sorted(path.name for path in work_dir.iterdir()) == sorted(output.filename for output in result.outputs)


def test_canceling_dailies_stops_ffmpeg(long_clip, tool_context, monkeypatch):
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    class RecordingPopen(real_popen):
        def __init__(self, args, *rest, **kwargs):
            super().__init__(args, *rest, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    progress = ProgressRecorder(cancel_at=30)
    with pytest.raises(JobCanceled):
        DailiesTool().run([video_input(long_clip)], {"height": 360}, progress, tool_context)

    encodes = [process for process in started if "-progress" in process.args]
    assert len(encodes) == 1
    # Killed mid-encode (not finished on its own), and reaped: nothing is left running.
    assert encodes[0].returncode == -signal.SIGKILL
    assert all(process.poll() is not None for process in started)
    assert max(progress.percents) < 90
    assert not list(tool_context.work_dir.glob("*.mp4"))
    assert not list(tool_context.work_dir.glob(".*.part"))


def test_dailies_refuses_a_file_that_is_not_video(text_file, tool_context):
    with pytest.raises(ToolError, match="could not be read as video") as caught:
        DailiesTool().run([video_input(text_file)], {}, ProgressRecorder(), tool_context)
    assert "ffmpeg" not in str(caught.value).lower()


def test_dailies_refuses_a_start_timecode_past_the_frame_rate(dailies_clip, tool_context):
    with pytest.raises(ToolError, match="not valid for this clip's 25 frames per second"):
        DailiesTool().run(
            [video_input(dailies_clip)], {"start_timecode": "00:00:00:27"}, ProgressRecorder(), tool_context
        )


# Shot detection ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shots_run(cut_clip, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("shots")
    progress = ProgressRecorder()
    result = ShotDetectTool().run(
        [video_input(cut_clip)],
        ShotDetectTool().defaults(),
        progress,
        ToolContext(work_dir=work_dir, studio_name="Northlight Pictures"),
    )
    return result, progress


def test_shot_detection_finds_the_known_cuts_within_a_frame(shots_run):
    result, progress = shots_run
    shots = result.summary["shots"]
    assert len(shots) == len(CUT_FRAMES) - 1
    for shot, start, end in zip(shots, CUT_FRAMES[:-1], CUT_FRAMES[1:], strict=True):
        assert abs(shot["start_seconds"] * FPS - start) <= 1
        assert abs(shot["end_seconds"] * FPS - end) <= 1
        assert shot["duration"] == pytest.approx(shot["end_seconds"] - shot["start_seconds"], abs=1e-3)
    assert [shot["number"] for shot in shots] == [1, 2, 3]
    assert result.summary["fps"] == FPS
    assert result.summary["start_timecode"] == CUT_CLIP_TIMECODE
    assert shots[1]["start_tc"] == "01:00:02:00"
    assert progress.percents == sorted(progress.percents)
    assert progress.percents[-1] == 100


def test_shot_detection_makes_a_jpeg_thumbnail_per_shot(shots_run):
    result, _ = shots_run
    outputs = by_role(result)
    for shot in result.summary["shots"]:
        thumbnail = outputs[shot["thumbnail_role"]]
        assert thumbnail.kind == "image"
        assert thumbnail.content_type == "image/jpeg"
        assert is_jpeg(thumbnail.path)
        assert probe(thumbnail.path).width == 480
    # The middle frames of three different sources are three different pictures.
    means = [gray_frame(outputs[s["thumbnail_role"]].path, 0, 64, 36).mean() for s in result.summary["shots"]]
    assert len({round(m) for m in means}) == 3


def test_the_edl_parses_back_to_one_event_per_shot_with_the_right_timecodes(shots_run):
    result, _ = shots_run
    edl = by_role(result)["edl"]
    assert edl.kind == "document"
    assert edl.filename.endswith(".edl")
    text = edl.path.read_text()
    assert text.startswith("TITLE: A001.mp4 shots\nFCM: NON-DROP FRAME\n")
    timeline = read_edl(text, FPS)
    clips = list(timeline.video_tracks()[0])
    events = edl_timecodes(text, FPS)
    shots = result.summary["shots"]
    assert len(clips) == len(events) == len(shots)
    start = timecode_to_frames(CUT_CLIP_TIMECODE, PAL)
    for clip, (src_in, src_out), shot, truth_in, truth_out in zip(
        clips, events, shots, CUT_FRAMES[:-1], CUT_FRAMES[1:], strict=True
    ):
        assert isinstance(clip, otio.schema.Clip)  # a cut: no transition, no gap
        assert (src_in, src_out) == (shot["start_tc"], shot["end_tc"])
        # The record side runs from the clip's own start timecode, so record in and out equal source in and out.
        record = clip.range_in_parent()
        assert record.start_time.to_frames() + start == clip.source_range.start_time.to_frames()
        assert record.duration == clip.source_range.duration
        assert abs(timecode_to_frames(src_in, PAL) - start - truth_in) <= 1
        assert abs(timecode_to_frames(src_out, PAL) - start - truth_out) <= 1
        assert clip.name == "A001.mp4"
    # Events butt up against each other: a cut list with no gaps.
    assert all(
        a.range_in_parent().end_time_exclusive() == b.range_in_parent().start_time for a, b in itertools.pairwise(clips)
    )
    event_lines = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    assert [fields[:4] for fields in event_lines] == [[f"{s['number']:03d}", "AX", "V", "C"] for s in shots]
    assert all(fields[4:6] == fields[6:8] for fields in event_lines)  # record in/out = source in/out
    assert text.splitlines()[3] == f"001  AX       V     C        {shots[0]['start_tc']} {shots[0]['end_tc']} " + (
        f"{shots[0]['start_tc']} {shots[0]['end_tc']}"
    )


def test_the_csv_and_the_otio_agree_with_the_shot_list(shots_run):
    result, _ = shots_run
    outputs = by_role(result)
    shots = result.summary["shots"]
    rows = list(csv.DictReader(io.StringIO(outputs["csv"].path.read_text())))
    assert [int(row["shot"]) for row in rows] == [shot["number"] for shot in shots]
    for row, shot in zip(rows, shots, strict=True):
        assert (row["start_timecode"], row["end_timecode"]) == (shot["start_tc"], shot["end_tc"])
        assert (int(row["start_frame"]), int(row["end_frame"])) == (shot["start_frame"], shot["end_frame"])
        assert float(row["duration_seconds"]) == pytest.approx(shot["duration"], abs=1e-3)

    raw = json.loads(outputs["otio"].path.read_text())
    assert raw["OTIO_SCHEMA"] == "Timeline.1"
    assert raw["tracks"]["OTIO_SCHEMA"] == "Stack.1"
    track = raw["tracks"]["children"][0]
    assert track["OTIO_SCHEMA"] == "Track.1"
    assert track["kind"] == "Video"
    assert [clip["OTIO_SCHEMA"] for clip in track["children"]] == ["Clip.2"] * len(shots)

    timeline = otio.adapters.read_from_string(outputs["otio"].path.read_text(), "otio_json")
    clips = list(timeline.find_clips())
    assert len(clips) == len(shots)
    for clip, shot in zip(clips, shots, strict=True):
        assert otio.opentime.to_timecode(clip.source_range.start_time, FPS) == shot["start_tc"]
        assert otio.opentime.to_timecode(clip.source_range.end_time_exclusive(), FPS) == shot["end_tc"]
        assert clip.media_reference.target_url == "A001.mp4"
    assert timeline.duration().to_frames() == CUT_FRAMES[-1]


def test_a_clip_without_cuts_is_one_shot_in_the_start_timecode_given(dailies_clip, tool_context):
    params = {**ShotDetectTool().defaults(), "start_timecode": "10:00:00:00"}
    result = ShotDetectTool().run([video_input(dailies_clip)], params, ProgressRecorder(), tool_context)
    shots = result.summary["shots"]
    assert len(shots) == 1
    assert (shots[0]["start_tc"], shots[0]["end_tc"]) == ("10:00:00:00", "10:00:03:00")
    assert [src_in for src_in, _ in edl_timecodes(by_role(result)["edl"].path.read_text(), FPS)] == ["10:00:00:00"]


def test_a_drop_frame_clip_gives_a_drop_frame_cut_list(drop_frame_clip, tool_context):
    result = ShotDetectTool().run([video_input(drop_frame_clip)], {}, ProgressRecorder(), tool_context)
    assert result.summary["drop_frame"] is True
    assert [(s["start_tc"], s["end_tc"]) for s in result.summary["shots"]] == [
        ("00:59:59;28", "01:00:00;28"),
        ("01:00:00;28", "01:00:01;28"),
    ]
    text = by_role(result)["edl"].path.read_text()
    assert "FCM: DROP FRAME" in text
    assert edl_timecodes(text, 30000 / 1001, drop_frame=True) == [
        (s["start_tc"], s["end_tc"]) for s in result.summary["shots"]
    ]
    timeline = otio.adapters.read_from_string(by_role(result)["otio"].path.read_text(), "otio_json")
    first = next(iter(timeline.find_clips()))
    assert first.source_range.start_time.rate == pytest.approx(30000 / 1001)
    assert otio.opentime.to_timecode(first.source_range.start_time, 30000 / 1001, drop_frame=True) == "00:59:59;28"


def test_canceling_shot_detection_stops_it(cut_clip, tool_context, monkeypatch):
    monkeypatch.setattr(shot_detect, "PROGRESS_INTERVAL", 0.0)
    progress = ProgressRecorder(cancel_at=30)
    with pytest.raises(JobCanceled):
        ShotDetectTool().run([video_input(cut_clip)], {}, progress, tool_context)
    assert max(progress.percents) < 80
    assert not list(tool_context.work_dir.iterdir())


def test_shot_detection_refuses_a_file_that_is_not_video(text_file, tool_context):
    with pytest.raises(ToolError, match="could not be read as video"):
        ShotDetectTool().run([video_input(text_file)], {}, ProgressRecorder(), tool_context)


# Diagnostics ---------------------------------------------------------------------------------------------------------


def test_noop_returns_the_inputs_sha256(text_file, tool_context):
    progress = ProgressRecorder()
    result = diagnostics.NoopTool().run([video_input(text_file, kind="document")], {}, progress, tool_context)
    (output,) = result.outputs
    assert output.path.name == "ok.txt"
    assert output.path.parent == tool_context.work_dir
    assert video_input(text_file).sha256 in output.path.read_text()
    assert result.summary["matches_input"] is True
    assert progress.percents == [0, 100]


def test_fail_raises_the_message_given(text_file, tool_context):
    params = {"message": "The frame rate is wrong."}
    with pytest.raises(ToolError, match=r"^The frame rate is wrong\.$") as caught:
        diagnostics.FailTool().run([video_input(text_file)], params, ProgressRecorder(), tool_context)
    assert not isinstance(caught.value, TransientToolError)


def test_flaky_fails_transiently_the_given_number_of_times_then_succeeds(
    text_file, tool_context, monkeypatch, tmp_path
):
    monkeypatch.setenv(diagnostics.DIAGNOSTICS_DIR_ENV, str(tmp_path / "diagnostics"))
    tool, inputs = diagnostics.FlakyTool(), [video_input(text_file)]
    for attempt in (1, 2):
        with pytest.raises(TransientToolError, match=f"{attempt} of 2"):
            tool.run(inputs, {"fail_times": 2, "key": "job-7"}, ProgressRecorder(), tool_context)
    result = tool.run(inputs, {"fail_times": 2, "key": "job-7"}, ProgressRecorder(), tool_context)
    assert result.summary["attempt"] == 3
    # Another key counts separately.
    with pytest.raises(TransientToolError, match="1 of 1"):
        tool.run(inputs, {"fail_times": 1, "key": "job-8"}, ProgressRecorder(), tool_context)
    assert len(list((tmp_path / "diagnostics").iterdir())) == 2


def test_slow_reports_progress_and_stops_when_canceled(text_file, tool_context):
    progress = ProgressRecorder()
    diagnostics.SlowTool().run([video_input(text_file)], {"seconds": 0.35}, progress, tool_context)
    assert len(progress.calls) >= 4
    assert progress.percents[-1] == 100

    canceled = ProgressRecorder(cancel_at=20)
    started = time.monotonic()
    with pytest.raises(JobCanceled):
        diagnostics.SlowTool().run([video_input(text_file)], {"seconds": 2}, canceled, tool_context)
    assert time.monotonic() - started < 1.0
    assert max(canceled.percents) < 25


def test_crash_kills_the_process_running_it(text_file, tmp_path):
    script = (
        "import sys; from pathlib import Path\n"
        "from beta.tools.base import ToolContext, ToolInput\n"
        "from beta.tools.diagnostics import CrashTool\n"
        "CrashTool().run([ToolInput(Path(sys.argv[1]), 'document', 'notes.txt', 'x')], {}, lambda *a, **k: None,\n"
        "                ToolContext(work_dir=Path(sys.argv[2]), studio_name='Northlight Pictures'))\n"
        "print('still alive')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(text_file), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "still alive" not in result.stdout
