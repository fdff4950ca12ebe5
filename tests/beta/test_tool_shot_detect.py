"""Shot detection's gradual transitions: dissolves and fades of known start and length, made with ffmpeg's `xfade` and
`fade`, found within two frames and written as CMX 3600 dissolve events and OpenTimelineIO transitions."""

import re
from fractions import Fraction

import opentimelineio as otio
import pytest

from beta.tools.base import ToolContext
from beta.tools.shot_detect import ShotDetectTool, Transition, build_shots, write_edl
from media.timecode import Rate, timecode_to_frames
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input

#: The clip, in seconds: testsrc2 dissolves (1 s) into SMPTE bars at 2 s; the bars fade to black (1 s) at 5 s; black
#: holds half a second; a Mandelbrot zoom fades in from black (0.75 s) at 6.5 s and dissolves (0.5 s) into
#: testsrc at 8.5 s. (xfade's output lasts offset + the second input.)
TRUTH = [("dissolve", 2.0, 1.0), ("fade-out", 5.0, 1.0), ("fade-in", 6.5, 0.75), ("dissolve", 8.5, 0.5)]
START_TC = "01:00:00:00"
RATES = {"25": Fraction(25), "23.976": Fraction(24000, 1001)}


def make_transitions_clip(path, rate: str) -> None:
    size = "size=480x270"
    run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2={size}:rate={rate}:duration=4",
        "-f", "lavfi", "-i", f"smptehdbars={size}:rate={rate}:duration=4",
        "-f", "lavfi", "-i", f"color=black:{size}:rate={rate}:duration=0.5",
        "-f", "lavfi", "-i", f"mandelbrot={size}:rate={rate}",
        "-f", "lavfi", "-i", f"testsrc={size}:rate={rate}:duration=2",
        "-filter_complex",
        "[0:v][1:v]xfade=transition=fade:duration=1:offset=2,fade=t=out:st=5:d=1[ab];"
        "[3:v]trim=duration=2.5,setpts=PTS-STARTPTS,fade=t=in:st=0:d=0.75[c];"
        "[c][4:v]xfade=transition=fade:duration=0.5:offset=2[cd];"
        "[ab][2:v][cd]concat=n=3:v=1:a=0,format=yuv420p[v]",
        "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-threads", "2",
        "-metadata", f"timecode={START_TC}", str(path),
    )  # fmt: skip


@pytest.fixture(scope="module", params=list(RATES))
def transitions_run(request, tmp_path_factory):
    rate = request.param
    folder = tmp_path_factory.mktemp("transitions")
    clip = folder / "transitions.mp4"
    make_transitions_clip(clip, str(RATES[rate]))
    work_dir = folder / "work"
    work_dir.mkdir()
    result = ShotDetectTool().run(
        [video_input(clip)], {}, ProgressRecorder(), ToolContext(work_dir=work_dir, studio_name="Northlight")
    )
    return rate, RATES[rate], result


def outputs_by_role(result):
    return {output.role: output for output in result.outputs}


def truth_frames(fps: Fraction) -> list[tuple[str, int, int]]:
    return [(kind, round(start * fps), round(length * fps)) for kind, start, length in TRUTH]


def test_dissolves_and_fades_are_found_within_two_frames(transitions_run):
    _, fps, result = transitions_run
    found = result.summary["transitions"]
    assert [t["kind"] for t in found] == [kind for kind, _, _ in TRUTH]
    for transition, (kind, start, length) in zip(found, truth_frames(fps), strict=True):
        assert abs(transition["start_frame"] - start) <= 2, (kind, transition, start)
        assert abs(transition["frames"] - length) <= 2, (kind, transition, length)
    # No cut is reported inside a transition: shots are the five pictures and the black between the fades.
    shots = result.summary["shots"]
    assert [shot["transition_in"] for shot in shots] == ["cut", "dissolve", "fade-out", "fade-in", "dissolve"]
    assert [shot["black"] for shot in shots] == [False, False, True, False, False]
    assert not shots[2]["thumbnail_role"]  # no thumbnail of black
    assert {output.role for output in result.outputs if output.kind == "image"} == {
        shot["thumbnail_role"] for shot in shots if not shot["black"]
    }


def test_the_edl_writes_dissolve_events_and_its_rate(transitions_run):
    rate, fps, result = transitions_run
    edl = outputs_by_role(result)["edl"]
    assert edl.filename == f"A001_{rate}fps.edl"
    text = edl.path.read_text()
    assert f"* FRAME RATE: {rate} FPS\n" in text
    assert "FCM: NON-DROP FRAME" in text
    found = result.summary["transitions"]
    # The standard two-line form: the outgoing source as a zero-length cut, then the incoming one with D and frames.
    pairs = re.findall(r"^(\d{3})  (\w+) +V +C +(\S+) (\S+) (\S+) (\S+)\n\1  (\w+) +V +D +(\d{3}) ", text, re.M)
    assert [(out_reel, in_reel, int(frames)) for _, out_reel, *_, in_reel, frames in pairs] == [
        ("AX", "AX", found[0]["frames"]), ("AX", "BL", found[1]["frames"]),
        ("BL", "AX", found[2]["frames"]), ("AX", "AX", found[3]["frames"]),
    ]  # fmt: skip
    for _, _, src_in, src_out, rec_in, rec_out, *_ in pairs:
        assert src_in == src_out  # zero length
        assert rec_in == rec_out

    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))
    track = timeline.video_tracks()[0]
    transitions = [item for item in track if isinstance(item, otio.schema.Transition)]
    assert [t.out_offset.to_frames() for t in transitions] == [t["frames"] for t in found]
    assert all(t.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve for t in transitions)
    # The fade out dissolves into black; black runs until the fade in.
    clips = list(track.find_clips())
    assert isinstance(clips[2].media_reference, otio.schema.GeneratorReference)
    assert clips[2].media_reference.generator_kind == "black"
    start = timecode_to_frames(START_TC, Rate(fps))
    for clip, shot in zip(clips, result.summary["shots"], strict=True):
        assert clip.range_in_parent().start_time.to_frames() == shot["start_frame"]
        assert clip.source_range.duration.to_frames() == shot["end_frame"] - shot["start_frame"]
        if not shot["black"]:
            assert clip.source_range.start_time.to_frames() == start + shot["start_frame"]


def test_the_otio_timeline_holds_the_transitions(transitions_run):
    _, fps, result = transitions_run
    timeline = otio.adapters.read_from_string(outputs_by_role(result)["otio"].path.read_text(), "otio_json")
    track = timeline.video_tracks()[0]
    transitions = [item for item in track if isinstance(item, otio.schema.Transition)]
    found = result.summary["transitions"]
    assert [t.metadata["greenlight"]["kind"] for t in transitions] == [t["kind"] for t in found]
    for transition, truth in zip(transitions, found, strict=True):
        assert transition.in_offset.to_frames() == 0
        assert transition.out_offset.to_frames() == truth["frames"]
        assert transition.out_offset.rate == pytest.approx(float(fps))
        # The transition begins where the incoming shot does, at the detected start.
        assert track.range_of_child(transition).start_time.to_frames() == truth["start_frame"]
    assert timeline.duration().to_frames() == result.summary["frames"]


def test_a_drop_frame_dissolve_keeps_drop_frame_timecode(tmp_path, tool_context):
    clip = tmp_path / "df.mov"
    run_ffmpeg(
        "-f", "lavfi", "-i", "smptehdbars=size=320x180:rate=30000/1001:duration=3",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30000/1001:duration=3",
        "-filter_complex", "[0:v][1:v]xfade=transition=fade:duration=1:offset=1.5,format=yuv420p[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", "-threads", "2", "-metadata", "timecode=00:59:59;00", str(clip),
    )  # fmt: skip
    result = ShotDetectTool().run([video_input(clip)], {}, ProgressRecorder(), tool_context)
    (transition,) = result.summary["transitions"]
    assert abs(transition["start_frame"] - 45) <= 2
    assert abs(transition["frames"] - 30) <= 2
    edl = outputs_by_role(result)["edl"]
    assert edl.filename == "A001_29.97fps.edl"
    text = edl.path.read_text()
    assert "FCM: DROP FRAME" in text
    assert "* FRAME RATE: 29.97 FPS DROP FRAME" in text
    assert f"002  AX       V     D    {transition['frames']:03d} {transition['start_tc']} " in text
    assert ";" in transition["start_tc"]
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=30000 / 1001)
    (read_back,) = [item for item in timeline.video_tracks()[0] if isinstance(item, otio.schema.Transition)]
    assert read_back.out_offset.to_frames() == transition["frames"]


def test_gradual_detection_can_be_switched_off(tmp_path, tool_context):
    # Cuts only: none of the gradual transitions is a cut, so the clip is fewer shots and no D event.
    clip = tmp_path / "t.mp4"
    make_transitions_clip(clip, "25")
    params = {**ShotDetectTool().defaults(), "gradual_transitions": False}
    result = ShotDetectTool().run([video_input(clip)], params, ProgressRecorder(), tool_context)
    assert result.summary["transitions"] == []
    assert " D " not in outputs_by_role(result)["edl"].path.read_text()


# The shot list from cuts and transitions (no media) ------------------------------------------------------------------


def test_a_cut_inside_a_dissolve_belongs_to_the_dissolve():
    shots = build_shots(100, [0, 30, 62], [Transition("dissolve", 58, 8)])
    assert [(s.start_frame, s.end_frame, s.transition_in) for s in shots] == [
        (0, 30, None), (30, 58, None), (58, 100, Transition("dissolve", 58, 8)),
    ]  # fmt: skip


def test_a_fade_out_starts_a_black_shot_that_a_fade_in_ends():
    shots = build_shots(100, [0], [Transition("fade-out", 20, 10), Transition("fade-in", 40, 10)])
    assert [(s.start_frame, s.end_frame, s.black) for s in shots] == [(0, 20, False), (20, 40, True), (40, 100, False)]
    text = write_edl("T", "A001.mp4", shots, 0, Rate(25))
    assert "002  AX       V     C        00:00:00:20 00:00:00:20 00:00:00:20 00:00:00:20\n" in text
    assert "002  BL       V     D    010 00:00:00:00 00:00:00:20 00:00:00:20 00:00:01:15\n" in text
    assert "003  BL       V     C        00:00:00:20 00:00:00:20 00:00:01:15 00:00:01:15\n" in text
    assert "003  AX       V     D    010 00:00:01:15 00:00:04:00 00:00:01:15 00:00:04:00\n" in text
