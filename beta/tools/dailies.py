"""Dailies: a review copy of a clip with burnt-in source timecode and a visible studio watermark.

The proxy is an H.264/AAC MP4 at the height asked for (never upscaled), carrying the source timecode both burnt in and
as a timecode track, so that a cut list made from the proxy (shot detection) points at the camera original. A poster
frame and a contact sheet are made from the proxy, so they carry the watermark too.

The timecode helpers here (reading a file's timecode, converting timecode and frame counts, drop-frame included) are
shared with the shot detection tool.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import re
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from assets import media
from assets.media import (
    PROXY_BASE_TIMEOUT,
    PROXY_SECONDS_PER_SECOND,
    THREADS,
    MediaError,
    MediaInfo,
    ffmpeg_exe,
    make_contact_sheet,
    make_poster,
    parse_probe_output,
)
from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult

HEIGHTS = [360, 480, 540, 720, 1080]
#: ASCII digits only, and a fixed length: Python's `$` (jsonschema uses `re`) also matches before a final newline.
TIMECODE_PATTERN = "^[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{2}$"
TIMECODE_SCHEMA = {
    "type": "string",
    "title": "Start timecode",
    "description": "Used when the file carries no timecode of its own (HH:MM:SS:FF).",
    "pattern": TIMECODE_PATTERN,
    "minLength": 11,
    "maxLength": 11,
    "default": "00:00:00:00",
}
WATERMARK_NOTICE = "CONFIDENTIAL · NOT FOR AI TRAINING"
PROBE_TIMEOUT = 30.0
#: Frame rate assumed for timecode when a file does not say (rare: some raw streams).
FALLBACK_FPS = 25.0
#: Share of the progress bar the encode takes; the stills take the rest.
ENCODE_SHARE = 90

logger = logging.getLogger(__name__)

_TIMECODE_LINE = re.compile(r"^\s*timecode\s*:\s*(\d{2}:\d{2}:\d{2}[:;.]\d{2})\s*$", re.MULTILINE | re.IGNORECASE)
_TIMECODE_PARTS = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.])(\d{2})$")


# Timecode ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimecodeRate:
    """How a clip counts timecode: its exact frame rate, the nominal frames per second, and drop-frame or not."""

    fps: float
    drop_frame: bool = False

    @property
    def base(self) -> int:
        # As ffmpeg rounds it (29.97 counts as 30, 12.5 as 13), so our numbers match what drawtext burns in.
        return max(1, int(self.fps + 0.5))

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.fps).limit_denominator(1001)

    @property
    def _dropped(self) -> int:
        # Drop-frame timecode skips 2 numbers a minute at 29.97 fps, 4 at 59.94, except every tenth minute.
        return self.base // 15 if self.drop_frame else 0


def supports_drop_frame(fps: float) -> bool:
    """Drop-frame timecode exists only for the NTSC rates 30000/1001 and its multiples."""
    rate = Fraction(fps).limit_denominator(1001)
    return rate.denominator == 1001 and rate.numerator % 30000 == 0


def timecode_to_frames(text: str, rate: TimecodeRate) -> int:
    """Frames counted from 00:00:00:00 to `text` (HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame)."""
    match = _TIMECODE_PARTS.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a timecode of the form HH:MM:SS:FF")
    hours, minutes, seconds, frames = (int(match.group(i)) for i in (1, 2, 3, 5))
    if minutes > 59 or seconds > 59 or frames >= rate.base:
        raise ValueError(f"{text} is not a valid timecode at {rate.base} frames per second")
    total_minutes = hours * 60 + minutes
    count = (total_minutes * 60 + seconds) * rate.base + frames
    return count - rate._dropped * (total_minutes - total_minutes // 10)


def frames_to_timecode(count: int, rate: TimecodeRate) -> str:
    """The timecode label of frame `count` (counted from 00:00:00:00), wrapping at 24 hours."""
    base = rate.base
    dropped = rate._dropped
    if dropped:
        per_ten_minutes = base * 600 - dropped * 9
        per_minute = base * 60 - dropped
        count %= per_ten_minutes * 6 * 24
        tens, rest = divmod(count, per_ten_minutes)
        count += dropped * 9 * tens + (dropped * ((rest - dropped) // per_minute) if rest > dropped else 0)
    else:
        count %= base * 86400
    frames = count % base
    seconds = count // base
    separator = ";" if dropped else ":"
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{separator}{frames:02d}"


def source_timecode(probe_text: str) -> str | None:
    """The start timecode `ffmpeg -i` reports for the file (a timecode track or tag), if any."""
    match = _TIMECODE_LINE.search(probe_text)
    return match.group(1) if match else None


@dataclass
class MediaProbe:
    info: MediaInfo
    timecode: str | None  # as the file carries it, or None


def probe_media(path: Path) -> MediaProbe:
    """Probe an input with `ffmpeg -i`; raise ToolError (a sentence for the partner) if it cannot be read."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-threads", str(THREADS), "-protocol_whitelist", "file",
               "-i", f"file:{Path(path).resolve()}"]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 (a list of our own arguments, no shell)
            command, capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT, check=False
        )
        info = parse_probe_output(result.stderr)
    except subprocess.TimeoutExpired as exc:
        raise ToolError("Reading this file took too long. It may be damaged.") from exc
    except OSError as exc:
        raise ToolError("Media processing is not available right now. Please try again later.") from exc
    except MediaError as exc:
        raise ToolError(str(exc)) from exc
    return MediaProbe(info=info, timecode=source_timecode(result.stderr))


def probe_video(path: Path, *, what: str) -> MediaProbe:
    """Probe a video input; raise ToolError if it has no moving picture."""
    probed = probe_media(path)
    if not probed.info.has_video or probed.info.is_still:
        raise ToolError(f"{what} needs a video; this file has no moving picture.")
    return probed


def resolve_start_timecode(
    found: str | None, fallback: str, fps: float, log: Callable[[str], None]
) -> tuple[str, TimecodeRate, str]:
    """The clip's start timecode and how to count it: the file's own if it has one, else `fallback`.

    Returns (timecode, rate, where it came from: "source" or "parameter").
    """
    if found:
        drop = found[8] in ";." and supports_drop_frame(fps)
        if not drop:
            found = f"{found[:8]}:{found[9:]}"
        rate = TimecodeRate(fps, drop_frame=drop)
        with contextlib.suppress(ValueError):
            timecode_to_frames(found, rate)
            return found, rate, "source"
        log(f"The file's timecode {found} is not valid at {fps:g} fps; using {fallback} instead.")
    rate = TimecodeRate(fps)
    try:
        timecode_to_frames(fallback, rate)
    except ValueError as exc:
        raise ToolError(
            f"The start timecode {fallback} is not valid for this clip's {rate.base} frames per second: "
            f"the last two digits must be below {rate.base}."
        ) from exc
    return fallback, rate, "parameter"


# Helpers for names and ffmpeg -------------------------------------------------------------------------------------


def one_line(text: str, limit: int = 120) -> str:
    """Printable text on one line (no control characters), at most `limit` characters."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(cleaned.split())[:limit].strip()


def safe_stem(filename: str, fallback: str = "clip") -> str:
    """A download-name stem from the partner's file name: letters, digits, dot, dash and underscore only."""
    stem = Path(filename).stem if filename else ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:60]
    return stem or fallback


def filter_value(value: str) -> str:
    """Escape a value for an ffmpeg filter option inside a filtergraph (both levels of ffmpeg's escaping)."""
    option_level = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


def watermark_font() -> Path:
    """The font for burnt-in text: the one the `font-source-sans-pro` package ships, else Debian's DejaVu Sans."""
    candidates = []
    spec = importlib.util.find_spec("font_source_sans_pro")
    if spec is not None and spec.submodule_search_locations:
        candidates += [
            Path(location, "files", "SourceSansPro-Bold.ttf") for location in spec.submodule_search_locations
        ]
    candidates += [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
                   Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]  # fmt: skip
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    logger.error("dailies: no watermark font found (looked for %s)", ", ".join(map(str, candidates)))
    raise ToolError("Dailies are unavailable right now: a font is missing on our side. Please try again later.")


def run_ffmpeg_with_progress(
    args: list[str], *, timeout: float, duration: float | None, on_fraction: Callable[[float], None]
) -> tuple[int, str]:
    """Run ffmpeg with `-progress pipe:1` (assets.media's runner), calling `on_fraction(0..1)` in this thread.

    An exception from `on_fraction` (JobCanceled) kills ffmpeg and propagates; a timeout becomes a ToolError.
    """
    try:
        return media.run_with_progress(
            ["-loglevel", "error", "-nostats", "-stats_period", "0.25", "-progress", "pipe:1", *args],
            timeout=timeout,
            progress=on_fraction,
            duration=duration,
        )
    except media.MediaError as exc:
        if "timed out" in exc.detail:
            raise ToolError("Processing this clip took too long and was stopped.") from exc
        raise ToolError(str(exc)) from exc


def _even(value: float) -> int:
    return max(2, int(value) - int(value) % 2)


# The tool ------------------------------------------------------------------------------------------------------------


class DailiesTool(Tool):
    """An H.264 review copy with the source timecode and a watermark burnt in, plus a poster and a contact sheet."""

    slug = "dailies"
    name = "Dailies and proxies"
    description = (
        "Makes a review copy of a clip (H.264 MP4) with the source timecode and a visible watermark naming your studio "
        "burnt in, plus a poster frame and a contact sheet."
    )
    version = "1.0.0"
    input_kinds = ("video",)
    output_kinds = ("video", "image")
    queue = "cpu"
    soft_time_limit = 60 * 60
    time_limit = 65 * 60
    cost_factor = 0.5
    parameters = {
        "type": "object",
        "properties": {
            "height": {
                "type": "integer",
                "title": "Height (lines)",
                "description": "Height of the review copy. A smaller source keeps its own height: we never upscale.",
                "enum": HEIGHTS,
                "default": 720,
            },
            "watermark": {
                "type": "boolean",
                "title": "Watermark",
                "description": f"Burn in your studio's name and “{WATERMARK_NOTICE}”.",
                "default": True,
            },
            "timecode": {
                "type": "boolean",
                "title": "Burn in timecode",
                "default": True,
            },
            "start_timecode": {**TIMECODE_SCHEMA},
            "crf": {
                "type": "integer",
                "title": "Quality (CRF)",
                "description": "Lower is better quality and a larger file; 23 suits review.",
                "minimum": 18,
                "maximum": 30,
                "default": 23,
            },
        },
        "additionalProperties": False,
    }

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        source = inputs[0]
        logs: list[str] = []
        progress(0, "Reading the clip")
        probed = probe_video(source.path, what="Dailies")
        info = probed.info

        fps = info.fps or source.fps or FALLBACK_FPS
        if not info.fps:
            logs.append(f"The clip does not state its frame rate; timecode is counted at {fps:g} fps.")
        start_tc, rate, tc_from = resolve_start_timecode(probed.timecode, params["start_timecode"], fps, logs.append)
        logs.append(
            f"Start timecode {start_tc} from the file." if tc_from == "source" else f"Start timecode {start_tc}."
        )

        source_height = info.height or params["height"]
        height = min(params["height"], _even(source_height))
        if params["height"] > source_height:
            logs.append(
                f"The clip is {source_height} lines high: kept at {height}, not upscaled to {params['height']}."
            )
        width = _even(height * (info.width or 16) / (info.height or 9))

        filters = [
            f"scale=w='max(2,trunc(oh*dar/2)*2)':h='min({height},trunc(ih/2)*2)'",
            "setsar=1",
            f"fps={rate.fraction.numerator}/{rate.fraction.denominator}",
        ]
        font = filter_value(str(watermark_font())) if params["watermark"] or params["timecode"] else ""
        if params["watermark"]:
            filters += self._watermark_filters(context, font, width, height)
        if params["timecode"]:
            size = max(12, round(height * 0.05))
            filters.append(
                f"drawtext=fontfile={font}:timecode={filter_value(start_tc)}"
                f":rate={rate.fraction.numerator}/{rate.fraction.denominator}:tc24hmax=1"
                f":fontsize={size}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw={max(4, size // 4)}"
                f":x=(w-text_w)/2:y=h-text_h-{max(8, round(height * 0.04))}"
            )

        stem = safe_stem(source.filename)
        proxy_path = context.work_dir / f"{stem}_{height}p_dailies.mp4"
        tmp = context.work_dir / f".{proxy_path.name}.part"
        duration = info.duration or source.duration
        args = [
            "-threads", str(THREADS), "-protocol_whitelist", "file", "-i", f"file:{Path(source.path).resolve()}",
            "-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1", "-map_chapters", "-1",
            "-vf", ",".join(filters),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", str(params["crf"]), "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-threads", str(THREADS),
            "-c:a", "aac", "-b:a", "128k", "-ac", "2",
            "-metadata:s:v:0", f"timecode={start_tc}",
            "-movflags", "+faststart", "-f", "mp4", f"file:{tmp.resolve()}",
        ]  # fmt: skip
        timeout = PROXY_BASE_TIMEOUT + PROXY_SECONDS_PER_SECOND * (duration or 3600.0)
        progress(1, "Encoding the review copy", log=" ".join(logs))
        try:
            returncode, errors = run_ffmpeg_with_progress(
                args,
                timeout=timeout,
                duration=duration,
                on_fraction=lambda f: progress(max(1, math.floor(f * ENCODE_SHARE)), "Encoding the review copy"),
            )
            if returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
                logger.warning("dailies: ffmpeg exited %s: %s", returncode, one_line(errors[-600:], 600))
                raise ToolError(
                    "We could not make a review copy of this clip. It may be damaged or use a format we do not support."
                )
            tmp.replace(proxy_path)
        finally:
            tmp.unlink(missing_ok=True)
            for text_file in context.work_dir.glob(".watermark-*.txt"):
                text_file.unlink(missing_ok=True)

        progress(ENCODE_SHARE, "Making the poster frame")
        poster_path = context.work_dir / f"{stem}_poster.jpg"
        sheet_path = context.work_dir / f"{stem}_contact_sheet.jpg"
        try:
            made = probe_video(proxy_path, what="The review copy").info
            make_poster(proxy_path, poster_path, width=1280)
            progress(95, "Making the contact sheet")
            make_contact_sheet(proxy_path, sheet_path, columns=4, rows=3, tile_width=320)
        except MediaError as exc:
            raise ToolError(str(exc)) from exc
        progress(100, "Done")

        out_height = made.height or height
        return ToolResult(
            outputs=[
                ToolOutput(
                    path=proxy_path,
                    kind="video",
                    label=f"Review copy ({out_height}p"
                    + (", timecode" if params["timecode"] else "")
                    + (", watermark" if params["watermark"] else "")
                    + ")",
                    content_type="video/mp4",
                    filename=proxy_path.name,
                    role="proxy",
                    web_ready=True,
                ),
                ToolOutput(poster_path, "image", "Poster frame", "image/jpeg", poster_path.name, "poster"),
                ToolOutput(sheet_path, "image", "Contact sheet", "image/jpeg", sheet_path.name, "contact_sheet"),
            ],
            summary={
                "height": out_height,
                "width": made.width,
                "duration": round(made.duration, 3) if made.duration else duration,
                "fps": round(fps, 3),
                "start_timecode": start_tc,
                "timecode_from": tc_from,
                "has_audio": made.has_audio,
                "watermark": params["watermark"],
                "burnt_in_timecode": params["timecode"],
            },
        )

    @staticmethod
    def _watermark_filters(context: ToolContext, font: str, width: int, height: int) -> list[str]:
        """Two centred, semi-transparent lines: the studio's name over the confidentiality notice.

        The text goes through files (`textfile`, `expansion=none`), so nothing in a studio's name is read as ffmpeg
        syntax or as drawtext's %{...} expansions.
        """
        lines = [line for line in (one_line(context.studio_name, 80), WATERMARK_NOTICE) if line]
        filters = []
        gap = max(2, round(height * 0.01))
        for index, text in enumerate(lines):
            text_file = context.work_dir / f".watermark-{index}.txt"
            text_file.write_text(text, encoding="utf-8")
            # About 0.55 em per character in a bold sans: keep each line within 90% of the picture's width.
            size = max(10, min(round(height * (0.075 if index == 0 and len(lines) == 2 else 0.06)),
                               math.floor(width * 0.9 / (0.55 * max(len(text), 1)))))  # fmt: skip
            y = f"h/2-text_h-{gap}" if index == 0 and len(lines) == 2 else f"h/2+{gap}"
            filters.append(
                f"drawtext=fontfile={font}:textfile={filter_value(str(text_file.resolve()))}:expansion=none"
                f":fontsize={size}:fontcolor=white@0.45:borderw={max(1, size // 14)}:bordercolor=black@0.35"
                f":x=(w-text_w)/2:y={y}"
            )
        return filters


TOOLS = [DailiesTool]
