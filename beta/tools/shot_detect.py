"""Shot detection: find the cuts, dissolves and fades in a clip and hand back a cut list an editor can load.

PySceneDetect's ContentDetector (OpenCV decoding) finds the cuts; a second pass over the same decoded frames finds
gradual transitions by twin comparison (`beta.tools.transitions`): dissolves, fades to black and fades from black. A
transition starts a new shot at its first frame. For each shot we make a thumbnail of its middle frame, and write the
list three ways: a CMX 3600 EDL (dissolves as `D` events in the standard two-line form, fades as dissolves to or from
black, `BL`), a CSV and an OpenTimelineIO timeline (`Transition`s between the clips). Timecodes are the clip's own (its
timecode track, else the `start_timecode` parameter); the record side of the EDL runs from the same timecode, so each
event's record in and out equal its source in and out. Every "end" or "out" is exclusive, as in an EDL: the first
frame after the shot. The EDL names its frame rate in a comment and in its file name (`A001_23.976fps.edl`): an EDL
counts frames, and a reader must know at what rate.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from beta.tools import transitions as gradual
from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult
from beta.tools.common import (
    FALLBACK_FPS,
    TIMECODE_SCHEMA,
    one_line,
    probe_video,
    resolve_start_timecode,
    safe_stem,
)
from media.errors import MediaError
from media.renditions import make_frame_jpeg as render_frame_jpeg
from media.timecode import Rate, frames_to_seconds, frames_to_timecode, timecode_to_frames

Transition = gradual.Transition

THUMBNAIL_WIDTH = 480
#: How often (seconds) detection reports progress: each report may touch the database.
PROGRESS_INTERVAL = 0.5
DETECT_FROM, DETECT_TO = 2, 80  # percent of the bar for detection; thumbnails fill most of the rest


@dataclass
class Shot:
    number: int
    start_frame: int  # first frame of the shot, counted from the clip's first frame
    end_frame: int  # the first frame after the shot
    black: bool = False  # black between a fade out and what follows (written as the BL source)
    transition_in: Transition | None = None  # how the shot begins: None for a cut

    @property
    def role(self) -> str:
        return f"shot-{self.number:04d}" if not self.black else ""


def build_shots(total: int, cuts: list[int], found: list[Transition]) -> list[Shot]:
    """The shots of a clip of `total` frames from its cuts (first frames of new shots) and gradual transitions.

    A transition starts a shot at its first frame; a fade out starts a black shot. A cut inside a transition (the cut
    detector firing on a short dissolve) belongs to the transition and is dropped.
    """
    starts: dict[int, Transition | None] = {0: None}
    for cut in cuts:
        if 0 < cut < total and not any(t.start_frame - 1 <= cut <= t.end_frame + 1 for t in found):
            starts[cut] = None
    for gradual_one in found:
        if 0 <= gradual_one.start_frame < total:
            starts[gradual_one.start_frame] = gradual_one
    frames = sorted(starts)
    shots: list[Shot] = []
    for begin, end in zip(frames, [*frames[1:], total], strict=True):
        transition = starts[begin]
        black = transition is not None and transition.kind == gradual.FADE_OUT
        if end > begin:
            shots.append(Shot(len(shots) + 1, begin, end, black, transition))
    return shots


# EDL -----------------------------------------------------------------------------------------------------------------


def rate_label(rate: Rate) -> str:
    """The frame rate as editors write it: 25, 23.976, 29.97."""
    return f"{float(rate.fps):.3f}".rstrip("0").rstrip(".")


def write_edl(title: str, clip_name: str, shots: list[Shot], start: int, rate: Rate) -> str:
    """A CMX 3600 EDL: an event per shot, record side starting at the clip's own start timecode.

    A shot that begins with a transition is a dissolve event in the standard two-line form: the outgoing source as a
    zero-length cut at the transition's first frame, then the incoming source with `D` and the length in frames. A
    fade out dissolves to black (`BL`), a fade in from black. The frame rate is a comment under the first event
    (CMX 3600 has no header field for it, and readers such as OpenTimelineIO's refuse comments before the first event).
    """
    lines = [f"TITLE: {one_line(title, 70)}", f"FCM: {'DROP FRAME' if rate.drop_frame else 'NON-DROP FRAME'}", ""]
    name = one_line(clip_name, 200)
    previous: Shot | None = None
    for shot in shots:
        if shot.transition_in is None:
            lines += _cut_event(shot, start, rate, name)
        else:
            lines += _dissolve_event(shot, shot.transition_in, previous, start, rate, name)
        if previous is None:
            lines.append(f"* FRAME RATE: {rate_label(rate)} FPS{' DROP FRAME' if rate.drop_frame else ''}")
        lines.append("")
        previous = shot
    return "\n".join(lines)


def _cut_event(shot: Shot, start: int, rate: Rate, name: str) -> list[str]:
    """A shot that starts on a cut: one event line, and the clip's name unless the shot is black."""
    src_in, src_out = _source_range(shot, start, rate)
    rec_in, rec_out = _record_range(shot, start, rate)
    lines = [_event_line(shot.number, "BL" if shot.black else "AX", "C", src_in, src_out, rec_in, rec_out)]
    if name and not shot.black:
        lines.append(f"* FROM CLIP NAME: {name}")
    return lines


def _dissolve_event(
    shot: Shot, transition: Transition, previous: Shot | None, start: int, rate: Rate, name: str
) -> list[str]:
    """A shot that starts with a transition: the outgoing source as a zero-length cut at the transition's first
    frame, then the incoming source with `D` and the length in frames (black, `BL`, for fades)."""
    src_in, src_out = _source_range(shot, start, rate)
    rec_in, rec_out = _record_range(shot, start, rate)
    outgoing = "BL" if transition.kind == gradual.FADE_IN or (previous and previous.black) else "AX"
    if outgoing == "AX":
        out_point = rec_in
    else:
        black = previous if previous and previous.black else None
        out_point = _source_range(black, start, rate)[1] if black else frames_to_timecode(0, rate)
    kind = f"{'D':<4} {min(transition.length, 999):03d}"
    lines = [
        _event_line(shot.number, outgoing, "C", out_point, out_point, rec_in, rec_in),
        _event_line(shot.number, "BL" if shot.black else "AX", kind, src_in, src_out, rec_in, rec_out),
    ]
    if name and outgoing == "AX":
        lines.append(f"* FROM CLIP NAME: {name}")
    if name and not shot.black:
        lines.append(f"* TO CLIP NAME: {name}")
    return lines


def _record_range(shot: Shot, start: int, rate: Rate) -> tuple[str, str]:
    """A shot's record in and out, on the clip's own timecode."""
    return frames_to_timecode(start + shot.start_frame, rate), frames_to_timecode(start + shot.end_frame, rate)


def _event_line(number: int, reel: str, kind: str, src_in: str, src_out: str, rec_in: str, rec_out: str) -> str:
    return f"{number:03d}  {reel:<8} {'V':<5} {kind:<8} {src_in} {src_out} {rec_in} {rec_out}"


def _source_range(shot: Shot, start: int, rate: Rate) -> tuple[str, str]:
    """A shot's source in and out: the clip's own timecode, or black counted from zero."""
    if shot.black:
        return frames_to_timecode(0, rate), frames_to_timecode(shot.end_frame - shot.start_frame, rate)
    return frames_to_timecode(start + shot.start_frame, rate), frames_to_timecode(start + shot.end_frame, rate)


# CSV and OTIO --------------------------------------------------------------------------------------------------------

CSV_HEADER = [
    "shot", "start_timecode", "end_timecode", "start_frame", "end_frame", "duration_seconds", "source",
    "transition_in", "transition_frames",
]  # fmt: skip


def write_csv(shots: list[Shot], start: int, rate: Rate) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for shot in shots:
        writer.writerow(
            [
                shot.number,
                frames_to_timecode(start + shot.start_frame, rate),
                frames_to_timecode(start + shot.end_frame, rate),
                shot.start_frame,
                shot.end_frame,
                f"{frames_to_seconds(shot.end_frame - shot.start_frame, rate):.3f}",
                "black" if shot.black else "clip",
                shot.transition_in.kind if shot.transition_in else "cut",
                shot.transition_in.length if shot.transition_in else 0,
            ]
        )
    return buffer.getvalue()


def write_otio(title: str, clip_name: str, shots: list[Shot], start: int, total_frames: int, rate: Rate) -> str:
    """An OpenTimelineIO timeline: one video track, one clip per shot referring to the source file (black shots to a
    black generator), and a dissolve `Transition` before each shot that begins with one.

    As OpenTimelineIO's own CMX 3600 reader places an EDL dissolve, the transition starts where the incoming clip
    does (in_offset 0) and runs `length` frames into it (out_offset).
    """
    import opentimelineio as otio  # imported when used, as scenedetect is below

    fps = float(rate.fps)

    def at(frames: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, fps)

    timeline = otio.schema.Timeline(name=one_line(title, 200), global_start_time=at(start))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for shot in shots:
        transition = shot.transition_in
        if transition is not None:
            track.append(
                otio.schema.Transition(
                    name=f"{transition.kind} into shot {shot.number:04d}",
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=at(0),
                    out_offset=at(transition.length),
                    metadata={"greenlight": {"kind": transition.kind, "frames": transition.length}},
                )
            )
        track.append(_otio_clip(otio, shot, clip_name, start, total_frames, at))
    return str(timeline.to_json_string())


def _otio_clip(otio: Any, shot: Shot, clip_name: str, start: int, total_frames: int, at: Callable[[int], Any]) -> Any:
    length = shot.end_frame - shot.start_frame
    if shot.black:
        reference = otio.schema.GeneratorReference(
            generator_kind="black", available_range=otio.opentime.TimeRange(at(0), at(length))
        )
        clip = otio.schema.Clip(name="BLACK", media_reference=reference,
                                source_range=otio.opentime.TimeRange(at(0), at(length)))  # fmt: skip
    else:
        reference = otio.schema.ExternalReference(
            target_url=one_line(clip_name, 200), available_range=otio.opentime.TimeRange(at(start), at(total_frames))
        )
        clip = otio.schema.Clip(
            name=f"Shot {shot.number:04d}",
            media_reference=reference,
            source_range=otio.opentime.TimeRange(at(start + shot.start_frame), at(length)),
        )
    clip.metadata["greenlight"] = {"shot": shot.number, "thumbnail_role": shot.role, "black": shot.black}
    return clip


# Detection -----------------------------------------------------------------------------------------------------------


def detect_shots(
    path: Path, *, threshold: float, min_scene_len: int, on_frame: Callable[[int, int], None], gradual_pass: bool = True
) -> tuple[list[Shot], float, int]:
    """Cut a clip into shots at its cuts and (unless `gradual_pass` is off) its dissolves and fades. Returns (shots,
    the decoder's frame rate, frames read). `on_frame(done, total)`.

    `on_frame` is called for every frame in this thread (PySceneDetect decodes in another thread but detects in the
    caller's), so an exception it raises, such as JobCanceled, stops detection and its decoder cleanly.
    """
    # Imported when used: OpenCV costs about 80 MB and a quarter of a second, which the web process need not pay.
    from scenedetect import ContentDetector, SceneManager, VideoOpenFailure, open_video

    signatures: list[Any] = []

    class ReportingContentDetector(ContentDetector):  # type: ignore[misc]  # scenedetect ships no types
        def process_frame(self, timecode: Any, frame_img: Any) -> Any:
            on_frame(timecode.frame_num, total)
            if gradual_pass:
                signatures.append(gradual.signature(frame_img))
            return super().process_frame(timecode, frame_img)

    try:
        video = open_video(str(Path(path).resolve()), backend="opencv")
    except VideoOpenFailure as exc:
        raise ToolError("This file could not be decoded for shot detection. It may be damaged.") from exc
    total = video.duration.frame_num if video.duration is not None else 0
    manager = SceneManager()
    manager.add_detector(ReportingContentDetector(threshold=threshold, min_scene_len=min_scene_len))
    read = manager.detect_scenes(video=video)
    if read <= 0:
        raise ToolError("No frames could be decoded from this file. It may be damaged.")
    fps = float(video.frame_rate)
    cuts = [scene_start.frame_num for scene_start, _ in manager.get_scene_list(start_in_scene=True)]
    found = gradual.find_transitions(np.asarray(signatures, dtype=np.float32), fps) if signatures else []
    return build_shots(read, cuts, found), fps, read


def make_frame_jpeg(src: Path, dest: Path, *, frame: int, fps: float, width: int = THUMBNAIL_WIDTH) -> None:
    """A JPEG of one frame (counted from 0), at most `width` wide, square pixels."""
    try:
        render_frame_jpeg(src, dest, frame=frame, fps=fps, width=width)
    except MediaError as exc:
        if "timed out" in exc.detail:
            raise ToolError("Making the shot thumbnails took too long and was stopped.") from exc
        raise ToolError(f"We could not make a thumbnail of frame {frame}. The file may be damaged.") from exc


# The tool ------------------------------------------------------------------------------------------------------------


class ShotDetectTool(Tool):
    """Find the cuts in a clip; hand back thumbnails and a cut list (EDL, CSV, OpenTimelineIO)."""

    slug = "shot-detect"
    name = "Shot detection and cut list"
    description = (
        "Finds the cuts, dissolves and fades in a clip and gives you a thumbnail of each shot and a cut list to load "
        "in your editing system: a CMX 3600 EDL, a CSV and an OpenTimelineIO timeline, in the clip's own timecode."
    )
    version = "1.1.0"
    input_kinds = ("video",)
    output_kinds = ("image", "document")
    output_roles = ("shot-*", "edl", "csv", "otio")
    queue = "cpu"
    soft_time_limit = 45 * 60
    time_limit = 50 * 60
    cost_factor = 0.3
    prefers_proxy = True
    parameters = {
        "type": "object",
        "properties": {
            "threshold": {
                "type": "number",
                "title": "Sensitivity threshold",
                "description": "How much the picture must change to count as a cut. Lower finds more cuts.",
                "minimum": 10,
                "maximum": 60,
                "default": 27,
            },
            "min_scene_len_frames": {
                "type": "integer",
                "title": "Shortest shot (frames)",
                "description": "Cuts closer together than this are merged (flashes, strobes).",
                "minimum": 1,
                "maximum": 240,
                "default": 12,
            },
            "gradual_transitions": {
                "type": "boolean",
                "title": "Find dissolves and fades",
                "description": "Also find gradual transitions (dissolves, fades to and from black), not only cuts.",
                "default": True,
            },
            "start_timecode": {**TIMECODE_SCHEMA},
        },
        "additionalProperties": False,
    }

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        source = inputs[0]
        progress(0, "Reading the clip")
        info = probe_video(source.path, what="Shot detection")
        logs: list[str] = []
        # Settled before the slow part, so that a start timecode the clip's frame rate cannot have fails at once.
        fps = info.fps or source.fps or FALLBACK_FPS
        start_tc, rate, tc_from = resolve_start_timecode(info.timecode, params["start_timecode"], fps, logs.append)
        start = timecode_to_frames(start_tc, rate)
        reporter = _Reporter(progress)

        progress(DETECT_FROM, "Finding cuts")
        shots, _, frames_read = detect_shots(
            source.path,
            threshold=float(params["threshold"]),
            min_scene_len=int(params["min_scene_len_frames"]),
            on_frame=reporter.on_frame,
            gradual_pass=bool(params["gradual_transitions"]),
        )
        progress(DETECT_TO, f"Found {len(shots)} shot{'s' if len(shots) != 1 else ''}", log=" ".join(logs) or None)

        stem = safe_stem(source.filename)
        outputs, shot_rows = self._thumbnails(source, shots, start, rate, fps, stem, context, reporter)
        outputs += self._documents(source, shots, start, frames_read, rate, stem, context)
        progress(100, "Done")
        return ToolResult(
            outputs=outputs,
            summary={
                "fps": round(fps, 3),
                "frames": frames_read,
                "start_timecode": start_tc,
                "timecode_from": tc_from,
                "drop_frame": rate.drop_frame,
                "threshold": params["threshold"],
                "shots": shot_rows,
                "transitions": [
                    _transition_row(shot.number, shot.transition_in, start, rate)
                    for shot in shots
                    if shot.transition_in
                ],
            },
        )

    # Steps -----------------------------------------------------------------------------------------------------------

    @staticmethod
    def _thumbnails(
        source: ToolInput,
        shots: list[Shot],
        start: int,
        rate: Rate,
        fps: float,
        stem: str,
        context: ToolContext,
        reporter: _Reporter,
    ) -> tuple[list[ToolOutput], list[dict[str, Any]]]:
        """A thumbnail of each shot's middle frame, and the shot list's rows for the job page."""
        outputs: list[ToolOutput] = []
        shot_rows: list[dict[str, Any]] = []
        for index, shot in enumerate(shots):
            shot_rows.append(_shot_row(shot, start, rate, fps))
            if shot.black:
                continue
            middle = shot.start_frame + (shot.end_frame - shot.start_frame - 1) // 2
            thumb = context.work_dir / f"{stem}_{shot.role}.jpg"
            make_frame_jpeg(source.path, thumb, frame=middle, fps=fps)
            outputs.append(ToolOutput(thumb, "image", f"Shot {shot.number}", "image/jpeg", thumb.name, shot.role))
            reporter.thumbnail_done(index + 1, len(shots))
        return outputs, shot_rows

    @staticmethod
    def _documents(
        source: ToolInput, shots: list[Shot], start: int, frames_read: int, rate: Rate, stem: str, context: ToolContext
    ) -> list[ToolOutput]:
        """The cut list three ways: CMX 3600 EDL, CSV and OpenTimelineIO."""
        title = f"{one_line(source.filename, 60) or stem} shots"
        documents = [
            (f"{stem}_{rate_label(rate)}fps.edl", write_edl(title, source.filename, shots, start, rate), "text/plain",
             "EDL (CMX 3600)", "edl"),
            (f"{stem}_shots.csv", write_csv(shots, start, rate), "text/csv", "Shot list (CSV)", "csv"),
            (f"{stem}.otio", write_otio(title, source.filename, shots, start, frames_read, rate), "application/json",
             "OpenTimelineIO timeline", "otio"),
        ]  # fmt: skip
        outputs = []
        for filename, text, content_type, label, role in documents:
            path = context.work_dir / filename
            path.write_text(text, encoding="utf-8")
            outputs.append(ToolOutput(path, "document", label, content_type, filename, role))
        return outputs


def _shot_row(shot: Shot, start: int, rate: Rate, fps: float) -> dict[str, Any]:
    return {
        "number": shot.number,
        "start_tc": frames_to_timecode(start + shot.start_frame, rate),
        "end_tc": frames_to_timecode(start + shot.end_frame, rate),
        "start_frame": shot.start_frame,
        "end_frame": shot.end_frame,
        "start_seconds": round(shot.start_frame / fps, 3),
        "end_seconds": round(shot.end_frame / fps, 3),
        "duration": round((shot.end_frame - shot.start_frame) / fps, 3),
        "thumbnail_role": shot.role,
        "black": shot.black,
        "transition_in": shot.transition_in.kind if shot.transition_in else "cut",
        "transition_frames": shot.transition_in.length if shot.transition_in else 0,
    }


def _transition_row(into_shot: int, transition: Transition, start: int, rate: Rate) -> dict[str, Any]:
    return {
        "kind": transition.kind,
        "into_shot": into_shot,
        "start_tc": frames_to_timecode(start + transition.start_frame, rate),
        "start_frame": transition.start_frame,
        "frames": transition.length,
        "seconds": round(frames_to_seconds(transition.length, rate), 3),
    }


class _Reporter:
    """Progress during detection (frame by frame) and thumbnails, at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.last_report = 0.0

    def _due(self, *, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self.last_report >= PROGRESS_INTERVAL:
            self.last_report = now
            return True
        return False

    def on_frame(self, done: int, total: int) -> None:
        if total > 0 and self._due():
            share = min(done / total, 1.0)
            self.progress(
                DETECT_FROM + int(share * (DETECT_TO - DETECT_FROM)), f"Finding cuts (frame {done} of {total})"
            )

    def thumbnail_done(self, done: int, total: int) -> None:
        if self._due(force=done == total):
            self.progress(DETECT_TO + int(done / total * 17), f"Thumbnail {done} of {total}")


TOOLS = [ShotDetectTool]
