"""Shot detection: find the cuts in a clip and hand back a cut list an editor can load.

PySceneDetect's ContentDetector (OpenCV decoding) finds the cuts. For each shot we make a thumbnail of its middle
frame, and write the list three ways: a CMX 3600 EDL, a CSV and an OpenTimelineIO timeline. Timecodes are the clip's
own (its timecode track, else the `start_timecode` parameter); the record side of the EDL runs from the same
timecode, so each event's record in and out equal its source in and out. Every "end" or "out" is exclusive, as in an
EDL: the first frame after the shot.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

THUMBNAIL_WIDTH = 480
#: How often (seconds) detection reports progress: each report may touch the database.
PROGRESS_INTERVAL = 0.5
DETECT_FROM, DETECT_TO = 2, 80  # percent of the bar for detection; thumbnails fill most of the rest


@dataclass
class Shot:
    number: int
    start_frame: int  # first frame of the shot, counted from the clip's first frame
    end_frame: int  # the first frame after the shot

    @property
    def role(self) -> str:
        return f"shot-{self.number:04d}"


# EDL -----------------------------------------------------------------------------------------------------------------


def write_edl(title: str, clip_name: str, shots: list[Shot], start: int, rate: Rate) -> str:
    """A CMX 3600 EDL: one cut event per shot, record side starting at the clip's own start timecode."""
    lines = [f"TITLE: {one_line(title, 70)}", f"FCM: {'DROP FRAME' if rate.drop_frame else 'NON-DROP FRAME'}", ""]
    name = one_line(clip_name, 200)
    for shot in shots:
        tc_in = frames_to_timecode(start + shot.start_frame, rate)
        tc_out = frames_to_timecode(start + shot.end_frame, rate)
        lines.append(f"{shot.number:03d}  {'AX':<8} {'V':<5} {'C':<8} {tc_in} {tc_out} {tc_in} {tc_out}")
        if name:
            lines.append(f"* FROM CLIP NAME: {name}")
        lines.append("")
    return "\n".join(lines)


# CSV and OTIO --------------------------------------------------------------------------------------------------------

CSV_HEADER = ["shot", "start_timecode", "end_timecode", "start_frame", "end_frame", "duration_seconds"]


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
            ]
        )
    return buffer.getvalue()


def write_otio(title: str, clip_name: str, shots: list[Shot], start: int, total_frames: int, rate: Rate) -> str:
    """An OpenTimelineIO timeline: one video track, one clip per shot, all referring to the source file."""
    import opentimelineio as otio  # imported when used, as scenedetect is below

    fps = float(rate.fps)

    def at(frames: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, fps)

    timeline = otio.schema.Timeline(name=one_line(title, 200), global_start_time=at(start))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for shot in shots:
        reference = otio.schema.ExternalReference(
            target_url=one_line(clip_name, 200), available_range=otio.opentime.TimeRange(at(start), at(total_frames))
        )
        clip = otio.schema.Clip(
            name=f"Shot {shot.number:04d}",
            media_reference=reference,
            source_range=otio.opentime.TimeRange(at(start + shot.start_frame), at(shot.end_frame - shot.start_frame)),
        )
        clip.metadata["greenlight"] = {"shot": shot.number, "thumbnail_role": shot.role}
        track.append(clip)
    return str(timeline.to_json_string())


# Detection -----------------------------------------------------------------------------------------------------------


def detect_shots(
    path: Path, *, threshold: float, min_scene_len: int, on_frame: Callable[[int, int], None]
) -> tuple[list[Shot], float, int]:
    """Cut a clip into shots. Returns (shots, the decoder's frame rate, frames read). `on_frame(done, total)`.

    `on_frame` is called for every frame in this thread (PySceneDetect decodes in another thread but detects in the
    caller's), so an exception it raises, such as JobCanceled, stops detection and its decoder cleanly.
    """
    # Imported when used: OpenCV costs about 80 MB and a quarter of a second, which the web process need not pay.
    from scenedetect import ContentDetector, SceneManager, VideoOpenFailure, open_video

    class ReportingContentDetector(ContentDetector):  # type: ignore[misc]  # scenedetect ships no types
        def process_frame(self, timecode: Any, frame_img: Any) -> Any:
            on_frame(timecode.frame_num, total)
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
    scenes = manager.get_scene_list(start_in_scene=True)
    shots = [Shot(i, start.frame_num, end.frame_num) for i, (start, end) in enumerate(scenes, start=1)]
    return shots, float(video.frame_rate), read


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
        "Finds the cuts in a clip and gives you a thumbnail of each shot and a cut list to load in your editing "
        "system: a CMX 3600 EDL, a CSV and an OpenTimelineIO timeline, in the clip's own timecode."
    )
    version = "1.0.0"
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
        shot_rows = []
        for index, shot in enumerate(shots):
            middle = shot.start_frame + (shot.end_frame - shot.start_frame - 1) // 2
            thumb = context.work_dir / f"{stem}_{shot.role}.jpg"
            make_frame_jpeg(source.path, thumb, frame=middle, fps=fps)
            outputs.append(ToolOutput(thumb, "image", f"Shot {shot.number}", "image/jpeg", thumb.name, shot.role))
            shot_rows.append(_shot_row(shot, start, rate, fps))
            reporter.thumbnail_done(index + 1, len(shots))
        return outputs, shot_rows

    @staticmethod
    def _documents(
        source: ToolInput, shots: list[Shot], start: int, frames_read: int, rate: Rate, stem: str, context: ToolContext
    ) -> list[ToolOutput]:
        """The cut list three ways: CMX 3600 EDL, CSV and OpenTimelineIO."""
        title = f"{one_line(source.filename, 60) or stem} shots"
        documents = [
            (f"{stem}.edl", write_edl(title, source.filename, shots, start, rate), "text/plain", "EDL (CMX 3600)",
             "edl"),
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
