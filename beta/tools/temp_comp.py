"""Temp comp: a green- or blue-screen plate keyed over a background (a still or a clip), or a crowd of its copies.

The keying is `media.comp`'s. Frames go through ffmpeg pipes (rawvideo RGB in and out), one at a time. Outputs: the
composite as ProRes 422 HQ (.mov, the plate's timecode), a 720p H.264 review copy labelled as a temp comp, the matte as
its own clip (DNxHR LB, .mov, the plate's timecode), and an OTIO clip and a one-event CMX 3600 EDL placing the comp at
the plate's source timecode.

Where the CPU goes (1080p, per frame, each ffmpeg process timed alone on the same frames; docs/benchmarks.md): the
ProRes 422 HQ encode of the comp about 90 ms (a grainy picture: the encoder re-codes slices to fit its bit budget), the
ProRes decode of the plate about 30 ms, the frame maths about 35 ms, the review copy about 15 ms at 720p (33 ms at
1080p with `veryfast`), the matte 11 ms as DNxHR LB (29 ms as grey ProRes 422 HQ).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import queue
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult
from beta.tools.common import FALLBACK_FPS, TIMECODE_SCHEMA, probe_media, resolve_start_timecode, safe_stem
from media import comp
from media.ffmpeg import command, input_args, output_arg
from media.renditions import h264_aac_args
from media.timecode import Rate, frames_to_timecode, timecode_to_frames

DEFAULT_MAX_PIXELS = 1920 * 1080
DEFAULT_MAX_SECONDS = 120
NO_SCREEN = "No green or blue screen found; supply a matte."
LABEL = "TEMP COMP"


def _number(title: str, default: float, minimum: float, maximum: float) -> dict[str, Any]:
    return {"type": "number", "title": title, "default": default, "minimum": minimum, "maximum": maximum}


#: Frames decoded ahead and frames waiting for the encoder: enough for decode, compute and encode to overlap.
QUEUE_FRAMES = 4
_END = None
#: Pipe buffer for the raw frames (Linux's default largest): a 1080p frame passes in 6 writes instead of 95.
PIPE_BYTES = 1 << 20


def _widen_pipe(pipe: IO[bytes] | None) -> None:
    if pipe is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):  # a lower limit (/proc/sys/fs/pipe-max-size) keeps the default
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


@dataclass(frozen=True)
class Encoding:
    """How the deliverables are encoded. The comp is always ProRes 422 HQ (ffmpeg's `prores`, profile 3); these are
    the choices that cost CPU without changing it: the review copy's height (at most; never upscaled) and x264 preset,
    and the matte's codec, "dnxhr_lb" (DNxHR LB, 8-bit 4:2:2, grey in the luma) or "prores_hq"."""

    review_height: int | None = 720  # None: the plate's own height
    review_preset: str = "superfast"
    matte: str = "dnxhr_lb"


#: DNxHR's smallest picture; a smaller plate's matte is ProRes 422 HQ.
DNXHR_MIN_SIZE = (256, 120)
MATTE_CODECS = {"dnxhr_lb": "DNxHR LB", "prores_hq": "ProRes 422 HQ"}


def matte_codec(encoding: Encoding, width: int, height: int) -> str:
    """The matte's codec for a plate of this size: DNxHR needs at least 256 x 120."""
    if encoding.matte == "dnxhr_lb" and (width < DNXHR_MIN_SIZE[0] or height < DNXHR_MIN_SIZE[1]):
        return "prores_hq"
    return encoding.matte


def review_size(width: int, height: int, max_height: int | None) -> tuple[int, int]:
    """The review copy's size: the plate's, brought down to `max_height` (aspect kept), both sides even."""
    target = height if max_height is None else min(height, max_height)
    target = max(2, target - target % 2)
    scaled = max(2, round(width * target / height / 2) * 2)
    return scaled, target


@contextlib.contextmanager
def single_threaded_opencv() -> Iterator[None]:
    """OpenCV on one thread while compositing: the ffmpeg processes keep the other core busy, and OpenCV's own
    threads only add their overhead (about 3 ms of CPU a 1080p frame). The worker runs one job per process."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


class Frames:
    """Decoded frames of one input, as uint8 RGB (or grey) at a given size and rate, from an ffmpeg pipe. A reader
    thread fills a short queue, so decoding overlaps the compositing (pipe reads release the GIL)."""

    def __init__(self, path: Path, width: int, height: int, rate: str, *, grey: bool = False, loop: bool = False):
        self.shape = (height, width) if grey else (height, width, 3)
        self.size = width * height * (1 if grey else 3)
        pre = ["-stream_loop", "-1"] if loop else []
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            command([*pre, *input_args(path), "-map", "0:V:0",
                     "-vf", f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
                            f"fps={rate},setsar=1",
                     "-f", "rawvideo", "-pix_fmt", "gray" if grey else "rgb24", "pipe:1"]),
            stdout=subprocess.PIPE, stderr=self._stderr,
        )  # fmt: skip
        _widen_pipe(self._process.stdout)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"frames-{path.name}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None  # noqa: S101 (set by Popen)
        try:
            while not self._stop.is_set():
                buffer = bytearray(self.size)
                if stdout.readinto(buffer) < self.size:  # type: ignore[attr-defined]  # a BufferedReader
                    return
                self._put(np.frombuffer(buffer, np.uint8).reshape(self.shape))
        except (OSError, ValueError):  # the pipe closed under us by close()
            return
        finally:
            self._put(_END)

    def _put(self, item: np.ndarray | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self._queue.get()) is not _END:
            yield frame
        self._queue.put(_END)  # a second iteration ends at once too

    def close(self) -> None:
        self._stop.set()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._thread.join(timeout=5)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()


class Writer:
    """An ffmpeg encoding raw frames from a pipe into a .mov with a start timecode (ProRes 422 HQ, or for a matte the
    `Encoding`'s matte codec), and optionally, from the same frames, the H.264 review copy (at most the `Encoding`'s
    height) with its label burnt in. A writer thread feeds the pipe, so encoding overlaps the compositing.

    ProRes is ffmpeg's `prores` (prores_aw) at profile 3 (HQ, fourcc apch): about four times faster than `prores_ks`
    here, and it writes the same profile; a grey matte is sent as grey (a third of the bytes)."""

    def __init__(self, path: Path, width: int, height: int, rate: str, timecode: str, *, grey: bool = False,
                 review: tuple[Path, str] | None = None, encoding: Encoding | None = None):  # fmt: skip
        encoding = encoding or Encoding()
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        codec = matte_codec(encoding, width, height) if grey else "prores_hq"
        if codec == "dnxhr_lb":
            video = ["-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"]
        else:
            video = ["-c:v", "prores", "-profile:v", "3", "-pix_fmt", "yuv422p10le", "-vendor", "apl0"]
        master = [*video, "-timecode", timecode, "-f", "mov", output_arg(path)]
        outputs = master
        if review is not None:
            review_path, label_file = review
            review_w, review_h = review_size(width, height, encoding.review_height)
            draw = review_label_filter(label_file, review_h)
            # Scaled and made yuv420p in one swscale pass, the label drawn on the small picture.
            chain = f"scale={review_w}:{review_h},format=yuv420p,{draw}"
            outputs = ["-filter_complex", f"[0:v]split=2[master][copy];[copy]{chain}[review]",
                       "-map", "[master]", *master, "-map", "[review]",
                       *h264_aac_args(crf=23, preset=encoding.review_preset),
                       "-metadata:s:v:0", f"timecode={timecode}", "-f", "mp4", output_arg(review_path)]  # fmt: skip
        self._process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            command(["-f", "rawvideo", "-pix_fmt", "gray" if grey else "rgb24", "-s", f"{width}x{height}",
                     "-r", rate, "-i", "pipe:0", *outputs]),
            stdin=subprocess.PIPE, stderr=self._stderr,
        )  # fmt: skip
        _widen_pipe(self._process.stdin)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._failed = False
        self._thread = threading.Thread(target=self._feed, name=f"writer-{path.name}", daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None  # noqa: S101 (set by Popen)
        while (frame := self._queue.get()) is not _END:
            if self._failed:
                continue
            try:
                stdin.write(np.ascontiguousarray(frame).data)
            except (BrokenPipeError, OSError):
                self._failed = True

    def write(self, frame: np.ndarray) -> None:
        if self._failed:
            raise ToolError("We could not encode the temp comp.")
        self._queue.put(frame)

    def close(self) -> None:
        self._queue.put(_END)
        self._thread.join()
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        code = self._process.wait()
        self._stderr.close()
        if code != 0 or self._failed:
            raise ToolError("We could not encode the temp comp.")


@dataclass(frozen=True)
class _Paths:
    comp: Path
    matte: Path
    review: Path
    label: Path  # the review label's text, read by drawtext from a file (no escaping of partner text)


def ai_background(background: ToolInput, params: Mapping[str, Any]) -> bool:
    """Whether the background came from a model: the portal's record of the asset's origin (an output the provenance
    table calls AI-made) or the partner's word that it was made by a model elsewhere."""
    return background.ai_generated or bool(params.get("ai_background"))


def review_label(ai_background: bool) -> str:
    """The review copy's burnt-in label: it says when the background came from a model."""
    return f"{LABEL} · AI background" if ai_background else LABEL


def review_label_filter(label_file: str, height: int) -> str:
    from beta.tools.common import filter_value
    from beta.tools.dailies import watermark_font

    size = max(12, round(height * 0.04))
    return (f"drawtext=fontfile={filter_value(str(watermark_font()))}:textfile={filter_value(label_file)}"
            f":expansion=none:fontsize={size}:fontcolor=white:box=1:boxcolor=black@0.6:x=16:y=16")  # fmt: skip


def write_edl(title: str, clip_name: str, start: int, frames: int, rate: Rate) -> str:
    tc_in, tc_out = frames_to_timecode(start, rate), frames_to_timecode(start + frames, rate)
    return "\n".join([f"TITLE: {title[:70]}", f"FCM: {'DROP FRAME' if rate.drop_frame else 'NON-DROP FRAME'}", "",
                      f"001  AX       V     C        {tc_in} {tc_out} {tc_in} {tc_out}",
                      f"* FROM CLIP NAME: {clip_name}", ""])  # fmt: skip


def write_otio(clip_name: str, start: int, frames: int, rate: Rate) -> str:
    import opentimelineio as otio

    fps = float(rate.fps)
    rng = otio.opentime.TimeRange(otio.opentime.RationalTime(start, fps), otio.opentime.RationalTime(frames, fps))
    clip = otio.schema.Clip(name=clip_name, media_reference=otio.schema.ExternalReference(
        target_url=clip_name, available_range=rng), source_range=rng)  # fmt: skip
    return str(clip.to_json_string())


class TempCompTool(Tool):
    """A green/blue-screen plate keyed over a background (or a crowd of its copies), as ProRes with timecode."""

    slug = "temp-comp"
    name = "Temp comp (green/blue screen)"
    description = (
        "Keys a green- or blue-screen plate over a background still or clip (an AI-generated image works), matching "
        "colour and grain, or builds a crowd from copies of it. ProRes 422 HQ with the plate's timecode, a labelled "
        "720p H.264 review copy, the matte (DNxHR LB), and an EDL and OTIO clip at the plate's timecode."
    )
    version = "1.0.0"
    input_kinds = ("video", "image")
    output_roles = ("comp", "review", "matte", "edl", "otio")
    min_inputs = 2
    max_inputs = 3
    output_kinds = ("video", "document")
    queue = "cpu"
    cost_factor = 2.0
    #: The review copy's size and preset and the matte's codec (the benchmark swaps in the settings before issue 19).
    encoding = Encoding()
    parameters = {
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": ["comp", "crowd"], "default": "comp", "title": "Mode"},
            "screen": {"type": "string", "enum": ["auto", "green", "blue"], "default": "auto", "title": "Screen"},
            "gain": _number("Key gain", 1.1, 0.1, 5.0),
            "offset": _number("Key offset", 0.05, -1.0, 1.0),
            "choke": {"type": "integer", "title": "Choke (+) / grow (-), pixels", "default": 0, "minimum": -20,
                      "maximum": 20},
            "softness": _number("Edge softness (pixels)", 0.0, 0.0, 20.0),
            "despill": {"type": "string", "enum": ["average", "max"], "default": "average", "title": "Despill"},
            "despill_strength": _number("Despill strength", 1.0, 0.0, 1.0),
            "colour_match": _number("Colour match strength", 0.5, 0.0, 1.0),
            "grain": {"type": "boolean", "title": "Match grain", "default": True},
            "background_blur": _number("Background blur (pixels)", 0.0, 0.0, 50.0),
            "light_wrap_width": _number("Light wrap width (pixels)", 4.0, 0.0, 50.0),
            "light_wrap_strength": _number("Light wrap strength", 0.2, 0.0, 1.0),
            "garbage_matte": {"type": "array", "title": "Garbage matte (normalised x, y corners)",
                              "items": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
                                        "minItems": 2, "maxItems": 2}, "minItems": 3, "maxItems": 64},
            "length_mismatch": {"type": "string", "enum": ["loop", "hold", "refuse"], "default": "loop",
                                "title": "Background shorter than the plate"},
            "crowd_copies": {"type": "integer", "default": 12, "minimum": 1, "maximum": 48, "title": "Crowd copies"},
            "crowd_flip": {"type": "boolean", "default": True, "title": "Flip some copies"},
            "crowd_max_offset": {"type": "integer", "default": 24, "minimum": 0, "maximum": 96,
                                 "title": "Largest time offset (frames)"},
            "seed": {"type": "integer", "default": 0, "minimum": 0, "maximum": 2**31 - 1, "title": "Seed"},
            "ai_background": {"type": "boolean", "default": False,
                              "title": "The background was made by an AI model elsewhere (ours are recognised)"},
            "start_timecode": {**TIMECODE_SCHEMA},
        },
        "additionalProperties": False,
    }  # fmt: skip

    def run(self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
            ) -> ToolResult:  # fmt: skip
        params = {**self.defaults(), **params}
        plate_in, bg_in = inputs[0], inputs[1]
        matte_in = inputs[2] if len(inputs) > 2 else None
        progress(0, "Reading the inputs")
        plate, bg = probe_media(plate_in.path), probe_media(bg_in.path)
        width, height = plate.width or 0, plate.height or 0
        fps = plate.fps or plate_in.fps or FALLBACK_FPS
        frames = 1 if plate.is_still else max(1, round((plate.duration or 0) * fps))
        self._check_limits(width, height, frames / fps, plate.is_still, context.settings)
        bg_frames = 1 if bg.is_still else max(1, round((bg.duration or 0) * fps))
        if not bg.is_still and bg_frames < frames and params["length_mismatch"] == "refuse":
            raise ToolError(f"The background is {bg_frames} frames long and the plate {frames}: too short, and you "
                            "asked us to refuse a length mismatch.")  # fmt: skip
        logs: list[str] = []
        start_tc, rate, _ = resolve_start_timecode(plate.timecode, params["start_timecode"], fps, logs.append)
        stem = safe_stem(plate_in.filename)
        comp_path = context.work_dir / f"{stem}_temp_comp.mov"
        matte_path = context.work_dir / f"{stem}_matte.mov"
        review_path = context.work_dir / f"{stem}_temp_comp_review.mp4"
        ai = ai_background(bg_in, params)
        label_file = context.work_dir / "review-label.txt"
        label_file.write_text(review_label(ai), encoding="utf-8")
        paths = _Paths(comp_path, matte_path, review_path, label_file)
        count = self._render(plate_in.path, bg_in.path, matte_in.path if matte_in else None, bg.is_still,
                             (width, height), rate, start_tc, frames, params, paths, progress)  # fmt: skip
        label_file.unlink(missing_ok=True)
        start = timecode_to_frames(start_tc, rate)
        edl = context.work_dir / f"{stem}_temp_comp.edl"
        edl.write_text(write_edl(f"{stem} temp comp", comp_path.name, start, count, rate), encoding="utf-8")
        otio_path = context.work_dir / f"{stem}_temp_comp.otio"
        otio_path.write_text(write_otio(comp_path.name, start, count, rate), encoding="utf-8")
        progress(100, "Done", log=" ".join(logs))
        review_height = review_size(width, height, self.encoding.review_height)[1]
        matte_label = MATTE_CODECS[matte_codec(self.encoding, width, height)]
        return ToolResult(
            outputs=[
                ToolOutput(comp_path, "video", "Temp comp (ProRes 422 HQ)", "video/quicktime", role="comp"),
                ToolOutput(review_path, "video", f"Temp comp review copy (H.264, {review_height}p)", "video/mp4",
                           role="review", web_ready=True),
                ToolOutput(matte_path, "video", f"Matte ({matte_label})", "video/quicktime", role="matte"),
                ToolOutput(edl, "document", "EDL (CMX 3600)", "text/plain", role="edl"),
                ToolOutput(otio_path, "document", "OpenTimelineIO clip", "application/json", role="otio"),
            ],
            summary={"frames": count, "fps": round(fps, 3), "start_timecode": start_tc, "mode": params["mode"],
                     "ai_background": ai, "review_label": review_label(ai),
                     "ai_inputs": ai or any(i.ai_generated for i in inputs)},
        )  # fmt: skip

    @staticmethod
    def _check_limits(width: int, height: int, seconds: float, still: bool, settings: Mapping[str, Any]) -> None:
        max_pixels = int(settings.get("TEMP_COMP_MAX_PIXELS", DEFAULT_MAX_PIXELS))
        max_seconds = float(settings.get("TEMP_COMP_MAX_SECONDS", DEFAULT_MAX_SECONDS))
        if width * height > max_pixels:
            raise ToolError(f"The plate is {width} x {height}; temp comps take plates up to {max_pixels:,} pixels.")
        if not still and seconds > max_seconds:
            raise ToolError(f"The plate is {seconds:.1f} s long; temp comps take plates up to {max_seconds:g} s.")

    def _render(self, plate_path: Path, bg_path: Path, matte_path_in: Path | None, bg_still: bool,
                size: tuple[int, int], rate: Rate, start_tc: str, frames: int, params: dict[str, Any],
                paths: _Paths, progress: Progress) -> int:  # fmt: skip
        width, height = size
        plate_frames = Frames(plate_path, width, height, rate.ffmpeg)
        loop = not bg_still and params["length_mismatch"] == "loop"
        bg_frames = Frames(bg_path, width, height, rate.ffmpeg, loop=loop)
        mattes = Frames(matte_path_in, width, height, rate.ffmpeg, grey=True) if matte_path_in else None
        writer = Writer(paths.comp, width, height, rate.ffmpeg, start_tc,
                        review=(paths.review, str(paths.label.resolve())), encoding=self.encoding)  # fmt: skip
        matte_writer = Writer(paths.matte, width, height, rate.ffmpeg, start_tc, grey=True, encoding=self.encoding)
        try:
            with single_threaded_opencv():
                return self._loop(plate_frames, bg_frames, mattes, bg_still, frames, params, writer, matte_writer,
                                  progress)  # fmt: skip
        finally:
            for source in (plate_frames, bg_frames, mattes):
                if source is not None:
                    source.close()
            progress(95, "Finishing the ProRes and the review copy")
            writer.close()
            matte_writer.close()

    @staticmethod
    def _comper(first: np.ndarray, params: dict[str, Any], has_matte: bool) -> comp.Comper:
        screen = comp.detect_screen(first, params["screen"])
        if screen is None and not has_matte:
            raise ToolError(NO_SCREEN)
        height, width = first.shape[:2]
        garbage = comp.garbage_mask(params["garbage_matte"], width, height) if params.get("garbage_matte") else None
        settings = comp.CompSettings(
            key=comp.KeySettings(gain=params["gain"], offset=params["offset"], choke=params["choke"],
                                 softness=params["softness"]),
            despill=params["despill"], despill_strength=params["despill_strength"],
            colour_match=params["colour_match"], grain=params["grain"], background_blur=params["background_blur"],
            light_wrap_width=params["light_wrap_width"], light_wrap_strength=params["light_wrap_strength"],
            seed=params["seed"],
        )  # fmt: skip
        return comp.Comper(settings=settings, screen=screen, garbage=garbage)

    def _loop(self, plates: Frames, bgs: Frames, mattes: Frames | None, bg_still: bool, frames: int,
              params: dict[str, Any], writer: Writer, matte_writer: Writer, progress: Progress) -> int:  # fmt: skip
        bg_iter, matte_iter = iter(bgs), iter(mattes) if mattes else None
        comper: comp.Comper | None = None
        background: np.ndarray | None = None
        crowd = comp.CrowdSettings(copies=params["crowd_copies"], flip=params["crowd_flip"],
                                   max_offset=params["crowd_max_offset"], seed=params["seed"])  # fmt: skip
        layout = comp.crowd_layout(crowd)
        history: list[tuple[np.ndarray, np.ndarray]] = []
        count = 0
        for index, plate in enumerate(plates):
            if comper is None:
                comper = self._comper(plate, params, matte_iter is not None)
            if background is None or not bg_still:
                background = next(bg_iter, background)
            if background is None:
                raise ToolError("We could not read a picture from the background.")
            matte = next(matte_iter, None) if matte_iter is not None else None
            if params["mode"] == "crowd":
                alpha = comper.matte(plate, matte)
                history = [*history[-crowd.max_offset :], (comper.foreground(plate, alpha), alpha)]
                bg = comper.background(plate, alpha, background, index)
                layers = [history[max(0, len(history) - 1 - c.offset)] for c in layout]
                out = comp.crowd(bg, layers, layout, crowd)
                coverage = [(a, a) for _, a in layers]
                alpha = comp.crowd(np.zeros_like(alpha), coverage, layout, crowd)
            else:
                out, alpha = comper.comp(plate, background, index, matte)
            writer.write(out)
            matte_writer.write(alpha)
            count += 1
            progress(min(94, math.floor(count / max(frames, 1) * 94)), f"Compositing frame {count} of {frames}")
        if count == 0:
            raise ToolError("We could not read a picture from the plate.")
        return count


TOOLS = [TempCompTool]
