"""Dailies' editorial deliverables: ProRes 422 HQ, ProRes 422 Proxy and DNxHR HQ beside the review copy.

The clips are made by ffmpeg (testsrc2 with a sine tone) at 23.976 and 25 fps, in QuickTime with a start timecode and
a reel name in their timecode track, as a camera or a DIT's transcode writes them. The outputs are read back with
PyAV: codec, profile, frame count, timecode, reel name, and a frame compared with the source (nothing burnt in).
"""

from fractions import Fraction

import av
import jsonschema
import numpy as np
import pytest

from beta.output_provenance import output_kind
from beta.tools import dailies
from beta.tools.base import ToolError
from beta.tools.dailies import DELIVERABLES, DailiesTool
from media import ffmpeg
from media.probe import probe
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input

RATES = {"23.976": ("24000/1001", 24, "01:00:00:00"), "25": ("25", 25, "10:00:00:00")}
REEL = "A001C003"
#: format -> (codec, profile) as FFmpeg reads them back
EXPECTED = {"prores_422_hq": ("prores", "HQ"), "prores_proxy": ("prores", "Proxy"), "dnxhr_hq": ("dnxhd", "DNXHR HQ")}


@pytest.fixture(scope="module", params=list(RATES))
def camera_clip(request, tmp_path_factory):
    """1 s of 480x270 picture with a tone, H.264 in .mov, a start timecode and a reel name in its timecode track."""
    rate, frames, timecode = RATES[request.param]
    path = tmp_path_factory.mktemp("camera") / f"A001C003_{request.param}.mov"
    run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=480x270:rate={rate}", "-f", "lavfi", "-i", "sine=sample_rate=48000",
        "-frames:v", str(frames), "-t", str(frames / float(Fraction(rate))),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
        "-metadata:s:v:0", f"timecode={timecode}", "-metadata:s:v:0", f"reel_name={REEL}", str(path),
    )  # fmt: skip
    return path, rate, frames, timecode


def frame_count(path):
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def middle_frame(path, width, height):
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="gray", width=width, height=height) for f in container.decode(video=0)]
    return frames[len(frames) // 2].astype(np.float32)


@pytest.mark.parametrize("fmt", list(DELIVERABLES))
def test_each_deliverable_has_its_codec_profile_frames_timecode_and_reel_name(camera_clip, fmt, tool_context):
    path, rate, frames, timecode = camera_clip
    progress = ProgressRecorder()

    result = DailiesTool().run([video_input(path, "A001C003.mov")], {"format": fmt, "height": 360}, progress,
                               tool_context)  # fmt: skip

    outputs = {output.role: output for output in result.outputs}
    assert set(outputs) == {"proxy", "poster", "contact_sheet", "deliverable"}
    deliverable = outputs["deliverable"]
    assert deliverable.path.suffix == ".mov"
    assert deliverable.content_type == "video/quicktime"
    assert not deliverable.web_ready
    info = probe(deliverable.path)
    assert (info.video_codec, info.video_profile) == EXPECTED[fmt]
    assert info.container.startswith("mov")
    assert info.rate == Fraction(rate)
    assert (info.width, info.height) == (480, 270)  # the clip's own size, not the review copy's
    assert info.timecode == timecode
    assert info.reel_name == REEL
    assert info.audio_codec == "pcm_s24le"
    assert frame_count(deliverable.path) == frames
    assert result.summary["deliverable"]["reel_name"] == REEL
    assert result.summary["deliverable"]["profile"] == EXPECTED[fmt][1]
    # The review copy is still made as before: H.264 with the same timecode.
    proxy = probe(outputs["proxy"].path)
    assert (proxy.video_codec, proxy.timecode) == ("h264", timecode)
    assert frame_count(outputs["proxy"].path) == frames
    assert output_kind("dailies", "deliverable").action == "c2pa.transcoded"


def test_a_deliverable_has_nothing_burnt_in_while_the_review_copy_keeps_its_watermark(camera_clip, tool_context):
    path, *_ = camera_clip
    params = {"format": "prores_422_hq", "height": 360, "watermark": True, "timecode": True}
    result = DailiesTool().run([video_input(path)], params, ProgressRecorder(), tool_context)
    outputs = {output.role: output for output in result.outputs}
    source = middle_frame(path, 480, 270)

    deliverable_error = np.abs(middle_frame(outputs["deliverable"].path, 480, 270) - source)
    review_error = np.abs(middle_frame(outputs["proxy"].path, 480, 270) - source)

    assert deliverable_error.mean() < 2.0  # a faithful transcode
    # The watermark sits across the centre of the review copy, the timecode at its foot: both differ from the source.
    assert review_error[100:170].mean() > 2 * deliverable_error[100:170].mean() + 3
    assert review_error[230:].mean() > 2 * deliverable_error[230:].mean() + 3


def test_the_reel_name_parameter_is_used_when_the_clip_has_none(dailies_clip, tool_context):
    params = {"format": "dnxhr_hq", "height": 360, "reel_name": "B002", "start_timecode": "02:00:00:00"}

    result = DailiesTool().run([video_input(dailies_clip)], params, ProgressRecorder(), tool_context)

    deliverable = next(o for o in result.outputs if o.role == "deliverable")
    info = probe(deliverable.path)
    assert (info.reel_name, info.timecode) == ("B002", "02:00:00:00")


def test_a_format_the_ffmpeg_build_cannot_encode_is_refused_before_any_work(camera_clip, tool_context, monkeypatch):
    path, *_ = camera_clip
    # Given an ffmpeg build whose encoder list has H.264 and AAC but no ProRes
    monkeypatch.setattr(dailies, "encoders", lambda: ffmpeg.parse_encoders(
        " V....D = Video\n ------\n V....D libx264  libx264 H.264\n A....D aac  AAC\n"))
    progress = ProgressRecorder()

    with pytest.raises(ToolError, match=r"ProRes 422 HQ is not available on this portal.*prores_ks"):
        DailiesTool().run([video_input(path)], {"format": "prores_422_hq"}, progress, tool_context)

    assert progress.calls == []  # refused before reading the clip
    assert list(tool_context.work_dir.iterdir()) == []


def test_the_encoder_list_is_read_once_and_has_the_deliverables_encoders(monkeypatch):
    ffmpeg.encoders.cache_clear()
    calls = []
    real_run = ffmpeg.run
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: calls.append(args) or real_run(args, **kw))

    first, second = ffmpeg.encoders(), ffmpeg.encoders()

    assert first is second
    assert calls == [["-encoders"]]
    assert {"prores_ks", "dnxhd", "libx264", "aac", "pcm_s24le"} <= first
    assert "Video" not in first  # the legend above the table is not read as encoders
    assert "=" not in first


def test_the_format_parameter_takes_only_known_formats():
    schema = DailiesTool.parameters
    for fmt in ["h264", "prores_422_hq", "prores_proxy", "dnxhr_hq"]:
        jsonschema.validate({"format": fmt}, schema)
    for bad in [{"format": "prores_4444"}, {"reel_name": "A001 C003"}, {"reel_name": "x" * 33}]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    assert DailiesTool().defaults()["format"] == "h264"


def test_h264_alone_makes_no_deliverable(camera_clip, tool_context):
    path, *_ = camera_clip
    result = DailiesTool().run([video_input(path)], {"height": 360}, ProgressRecorder(), tool_context)
    assert {o.role for o in result.outputs} == {"proxy", "poster", "contact_sheet"}
    assert "deliverable" not in result.summary
