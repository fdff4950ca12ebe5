"""What several tools share: reading an input (through `media.probe`), settling its start timecode, running ffmpeg
with progress, and making names and text safe for files and filters.

Timecode arithmetic itself lives in `media.timecode`; this module only turns its errors into sentences a partner reads.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from beta.tools.base import ToolError
from media.errors import MediaError
from media.ffmpeg import run_with_progress
from media.probe import MediaInfo, probe
from media.timecode import Rate, supports_drop_frame, timecode_to_frames

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
#: Frame rate assumed for timecode when a file does not say (rare: some raw streams).
FALLBACK_FPS = 25.0


# Reading inputs ------------------------------------------------------------------------------------------------------


def probe_media(path: Path) -> MediaInfo:
    """Probe an input with PyAV; raise ToolError (a sentence for the partner) if it cannot be read."""
    try:
        return probe(path)
    except MediaError as exc:
        raise ToolError(str(exc)) from exc


def probe_video(path: Path, *, what: str) -> MediaInfo:
    """Probe a video input; raise ToolError if it has no moving picture."""
    info = probe_media(path)
    if not info.has_video or info.is_still:
        raise ToolError(f"{what} needs a video; this file has no moving picture.")
    return info


def resolve_start_timecode(
    found: str | None, fallback: str, fps: float, log: Callable[[str], None]
) -> tuple[str, Rate, str]:
    """The clip's start timecode and how to count it: the file's own if it has one, else `fallback`.

    Returns (timecode, rate, where it came from: "source" or "parameter").
    """
    if found:
        drop = found[8] in ";." and supports_drop_frame(fps)
        if not drop:
            found = f"{found[:8]}:{found[9:]}"
        rate = Rate(fps, drop_frame=drop)
        with contextlib.suppress(ValueError):
            timecode_to_frames(found, rate)
            return found, rate, "source"
        log(f"The file's timecode {found} is not valid at {fps:g} fps; using {fallback} instead.")
    rate = Rate(fps)
    try:
        timecode_to_frames(fallback, rate)
    except ValueError as exc:
        raise ToolError(
            f"The start timecode {fallback} is not valid for this clip's {rate.base} frames per second: "
            f"the last two digits must be below {rate.base}."
        ) from exc
    return fallback, rate, "parameter"


def timecode_log(start_tc: str, tc_from: str) -> str:
    return f"Start timecode {start_tc} from the file." if tc_from == "source" else f"Start timecode {start_tc}."


# Running ffmpeg ------------------------------------------------------------------------------------------------------


def run_ffmpeg_with_progress(
    args: list[str], *, timeout: float, duration: float | None, on_fraction: Callable[[float], None]
) -> tuple[int, str]:
    """Run ffmpeg with `-progress pipe:1` (media.ffmpeg's runner), calling `on_fraction(0..1)` in this thread.

    An exception from `on_fraction` (JobCanceled) kills ffmpeg and propagates; a timeout becomes a ToolError.
    """
    try:
        return run_with_progress(
            ["-loglevel", "error", "-nostats", "-stats_period", "0.25", "-progress", "pipe:1", *args],
            timeout=timeout,
            progress=on_fraction,
            duration=duration,
        )
    except MediaError as exc:
        if "timed out" in exc.detail:
            raise ToolError("Processing this clip took too long and was stopped.") from exc
        raise ToolError(str(exc)) from exc


def ffmpeg_output_ok(returncode: int, path: Path, *, min_size: int = 0) -> bool:
    """Whether ffmpeg finished and wrote more than `min_size` bytes to `path`."""
    return returncode == 0 and path.is_file() and path.stat().st_size > min_size


# Names and text ------------------------------------------------------------------------------------------------------


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
