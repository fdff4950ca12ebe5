"""Reading and rendering media with ffmpeg: probe, thumbnails, posters, contact sheets and proxies.

ffmpeg is the static build that the `imageio-ffmpeg` package ships (it has no ffprobe, so `probe` reads what
`ffmpeg -i` prints). Every function takes paths we chose, never a partner's string, and passes them with the `file:`
protocol so that no name is read as an ffmpeg protocol or option. Failures raise `MediaError`, whose message a partner
can read; ffmpeg's own words are kept in `MediaError.detail` for the logs.
"""

from __future__ import annotations

import contextlib
import functools
import math
import queue
import re
import secrets
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO

import imageio_ffmpeg

#: The workers have two cores: one ffmpeg should not take more.
THREADS = 2
PROBE_TIMEOUT = 30.0
STILL_TIMEOUT = 120.0
#: A proxy may run this long plus `PROXY_SECONDS_PER_SECOND` for every second of footage.
PROXY_BASE_TIMEOUT = 300.0
PROXY_SECONDS_PER_SECOND = 3.0
JPEG_QUALITY = 3  # ffmpeg's -q:v for mjpeg, 2 (best) to 31
SHEET_BACKGROUND = "0x111111"

#: Demuxers that read one picture (ffmpeg reports a nominal 25 fps and a one-frame or unknown duration for them).
_STILL_DEMUXERS = ("image2", "png_pipe", "jpeg_pipe", "tiff_pipe", "webp_pipe", "exr_pipe", "dpx_pipe", "psd_pipe",
                   "j2k_pipe", "bmp_pipe", "jpegxl_pipe", "jpegls_pipe", "qoi_pipe", "svg_pipe")  # fmt: skip
#: Demuxers that read other files named inside the file: a partner's upload must be media, not a list of paths.
_PLAYLIST_DEMUXERS = {"hls", "dash", "concat", "ffconcat"}
#: ffmpeg prints NTSC-family rates rounded; timecode and proxies want the exact ones.
_NTSC_RATES = {23.98: 24000 / 1001, 29.97: 30000 / 1001, 47.95: 48000 / 1001, 59.94: 60000 / 1001,
               119.88: 120000 / 1001}  # fmt: skip


class MediaError(Exception):
    """A file could not be read or rendered. `str(error)` is a sentence for the partner; `detail` is for the logs."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


_PILLOW_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def check_image_pixels(path: Path, *, max_pixels: int, probed: MediaInfo | None = None) -> tuple[int, int]:
    """The image's (width, height), read from its header without decoding a pixel; MediaError, with the numbers,
    when it is over `max_pixels` (a decompression bomb: a small PNG that claims 50,000 x 50,000) or has no size
    that Pillow or ffmpeg can read."""
    from PIL import Image, UnidentifiedImageError

    size = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides, below
        try:
            with Image.open(path) as image:
                size = image.size
        except Image.DecompressionBombError as exc:  # over twice Pillow's own limit: it will not say the sides
            found = _PILLOW_BOMB_PIXELS.search(str(exc))
            pixels = f"{int(found.group(1)):,} pixels" if found else "more pixels than Pillow will open"
            raise MediaError(
                f"The image is too large: {pixels}; the limit is {max_pixels:,} pixels.", detail=str(exc)
            ) from None
        except (UnidentifiedImageError, OSError, ValueError):
            pass  # a format Pillow does not read (EXR, DPX): ffmpeg's probe has the size
    if size is None and probed is not None and probed.width and probed.height:
        size = (probed.width, probed.height)
    if size is None or min(size) < 1:
        raise MediaError("The image's size could not be read. Please export it again as PNG, JPEG or TIFF.")
    width, height = size
    if width * height > max_pixels:
        raise MediaError(
            f"The image is too large: {width:,} x {height:,} pixels ({width * height:,}); the limit is "
            f"{max_pixels:,} pixels."
        )
    return width, height


@dataclass
class MediaInfo:
    """What `probe` found. Durations are seconds; width and height are as displayed (rotation applied)."""

    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str
    audio_codec: str
    has_video: bool
    has_audio: bool
    is_still: bool = False
    timecode: str | None = None  # the start timecode the file carries (HH:MM:SS:FF, ';' for drop-frame), if any


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary (imageio-ffmpeg's own, or the one named by IMAGEIO_FFMPEG_EXE)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


# Probing -------------------------------------------------------------------------------------------------------------

_UNREADABLE = (
    "This file could not be read as video, audio or an image. It may be damaged or in a format we do not support."
)
_INPUT = re.compile(r"^Input #0, (.+?), from '", re.MULTILINE)
_DURATION = re.compile(r"^\s+Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)", re.MULTILINE)
_STREAM = re.compile(r"^\s+Stream #0:\d+\S*: (Video|Audio): (.*)$", re.MULTILINE)
_ROTATION = re.compile(r"display ?matrix: rotation of (-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")


def probe(path: Path, *, timeout: float = PROBE_TIMEOUT) -> MediaInfo:
    """Read duration, picture size, frame rate and codecs of the first video and first audio stream."""
    if not Path(path).is_file():
        raise MediaError("The file to read is missing.", detail=str(path))
    result = _run(_input_args(path), timeout=timeout)
    return parse_probe_output(result.stderr)


_TIMECODE = re.compile(r"^\s*timecode\s*:\s*(\d{2}:\d{2}:\d{2}[:;.]\d{2})\s*$", re.MULTILINE)


def source_timecode(path: Path, *, timeout: float = PROBE_TIMEOUT) -> str | None:
    """The start timecode a file carries (a QuickTime/MP4 tmcd track or metadata), if any."""
    match = _TIMECODE.search(_run(_input_args(path), timeout=timeout).stderr)
    return match.group(1) if match else None


def parse_probe_output(text: str) -> MediaInfo:
    """Parse the stream summary `ffmpeg -hide_banner -i FILE` writes to stderr (one input)."""
    input_match = _INPUT.search(text)
    if input_match is None:
        raise MediaError(_UNREADABLE, detail=_last_lines(text))
    demuxer = input_match.group(1).split(",")[0]
    if demuxer in _PLAYLIST_DEMUXERS:
        raise MediaError(_UNREADABLE, detail=f"refused the {demuxer} demuxer: a playlist refers to other files")
    body = text[input_match.end() :]
    next_input = body.find("\nInput #1")
    if next_input != -1:
        body = body[:next_input]

    duration = None
    duration_match = _DURATION.search(body)
    if duration_match and duration_match.group(1) is not None:
        hours, minutes, seconds = duration_match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)

    video: tuple[str, str] | None = None  # (description, the lines under it up to the next stream)
    audio_codec = ""
    streams = list(_STREAM.finditer(body))
    for index, stream in enumerate(streams):
        kind, description = stream.groups()
        if kind == "Video" and video is None and "(attached pic)" not in description:
            end = streams[index + 1].start() if index + 1 < len(streams) else len(body)
            video = (description, body[stream.end() : end])
        elif kind == "Audio" and not audio_codec:
            audio_codec = _codec_name(description)
    if video is None and not audio_codec:
        raise MediaError(_UNREADABLE, detail=_last_lines(text))

    width = height = None
    fps = None
    video_codec = ""
    is_still = False
    if video is not None:
        description, extra = video
        video_codec = _codec_name(description)
        width, height, fps = _picture(description)
        rotation = _ROTATION.search(extra)
        if rotation and width and height and round(abs(float(rotation.group(1)))) % 180 == 90:
            width, height = height, width
        is_still = demuxer in _STILL_DEMUXERS or (demuxer == "gif" and duration is None)
        if is_still:
            duration = fps = None
    return MediaInfo(
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        video_codec=video_codec,
        audio_codec=audio_codec,
        has_video=video is not None,
        has_audio=bool(audio_codec),
        is_still=is_still,
        timecode=None if is_still else (m.group(1) if (m := _TIMECODE.search(text)) else None),
    )


def _split_top_level(description: str) -> list[str]:
    """Split a stream description on the commas that are not inside parentheses or brackets."""
    parts, depth, current = [], 0, []
    for char in description:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _codec_name(description: str) -> str:
    name = description.split(maxsplit=1)[0].rstrip(",") if description.strip() else ""
    return "" if name == "none" else name


def _picture(description: str) -> tuple[int | None, int | None, float | None]:
    width = height = None
    rates: dict[str, float] = {}
    for part in _split_top_level(description):
        size = _SIZE.match(part)
        if size and width is None:
            width, height = int(size.group(1)), int(size.group(2))
            continue
        rate = _RATE.match(part)
        if rate:
            value = float(rate.group(1)) * (1000 if rate.group(2) else 1)
            rates[rate.group(3)] = _NTSC_RATES.get(value, value)
    fps = rates.get("fps") or rates.get("tbr")
    return width, height, fps


def timecode(seconds: float, fps: float) -> str:
    """Non-drop-frame SMPTE timecode HH:MM:SS:FF of the frame shown at `seconds` (frames counted at `fps`).

    NTSC rates count frames at the nominal rate (29.97 fps as 30), as editing tools do for non-drop-frame timecode.
    """
    if not fps or fps <= 0 or not math.isfinite(fps):
        raise ValueError("fps must be a positive number")
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("seconds must be zero or more")
    # A hair of tolerance: 0.12 s at 25 fps is frame 3, although 0.12 * 25 is 2.9999999999999996 in floating point.
    frame = math.floor(seconds * fps + 1e-6)
    base = max(1, round(fps))
    frames = frame % base
    total_seconds = frame // base
    return f"{total_seconds // 3600:02d}:{total_seconds // 60 % 60:02d}:{total_seconds % 60:02d}:{frames:02d}"


#: The NTSC rates a probe reports rounded (23.98, 29.97, 59.94): the player counts frames at the exact fraction.
_NTSC_BASES = (24, 30, 48, 60, 120)


def exact_frame_rate(fps: float | None) -> tuple[int, int]:
    """The frame rate as (numerator, denominator): 23.98 -> (24000, 1001), 25 -> (25, 1); (0, 1) when unknown."""
    if not fps or fps <= 0 or not math.isfinite(fps):
        return 0, 1
    for base in _NTSC_BASES:
        if abs(fps - base * 1000 / 1001) < 0.006:
            return base * 1000, 1001
    if abs(fps - round(fps)) < 0.001:
        return round(fps), 1
    rate = Fraction(fps).limit_denominator(1001)
    return rate.numerator, rate.denominator


# Renditions ----------------------------------------------------------------------------------------------------------


def make_thumbnail(src: Path, dest: Path, *, max_width: int = 480, timeout: float = STILL_TIMEOUT) -> Path:
    """A JPEG of an image, or of a video frame at a tenth of its length (at most 5 s in), at most `max_width` wide."""
    info = _require_picture(src, "a thumbnail")
    _render_frame(src, dest, info, width=max_width, timeout=timeout, what="a thumbnail")
    return dest


def make_poster(src: Path, dest: Path, *, width: int = 1280, timeout: float = STILL_TIMEOUT) -> Path:
    """A JPEG poster frame of a video (the same frame as its thumbnail), at most `width` wide."""
    info = _require_picture(src, "a poster frame")
    if info.is_still:
        raise MediaError("A poster frame can only be made from a video; this file is a still image.")
    _render_frame(src, dest, info, width=width, timeout=timeout, what="a poster frame")
    return dest


def make_contact_sheet(
    src: Path,
    dest: Path,
    *,
    columns: int = 4,
    rows: int = 3,
    tile_width: int = 320,
    timeout: float = STILL_TIMEOUT,
) -> Path:
    """A JPEG grid of `columns` x `rows` frames spaced evenly across the video, each `tile_width` wide.

    Each frame is found by seeking (one input per tile in a single ffmpeg run), so a feature-length file costs about
    as much as a short one. Frame i is taken from the middle of the i-th of equal slices of the running time.
    """
    if columns < 1 or rows < 1 or tile_width < 16:
        raise ValueError("a contact sheet needs at least one column and one row of tiles 16 px wide or more")
    info = _require_picture(src, "a contact sheet")
    if info.is_still:
        raise MediaError("A contact sheet can only be made from a video; this file is a still image.")
    count = columns * rows
    duration = info.duration or 0.0
    # An unknown running time (some raw streams): take frames one second apart from the start.
    step = duration / count if duration > 0 else 1.0
    inputs: list[str] = []
    chains: list[str] = []
    for i in range(count):
        inputs += ["-ss", f"{(i + 0.5) * step:.3f}", *_input_args(src)]
        chains.append(f"[{i}:V:0]trim=end_frame=1,setpts=PTS-STARTPTS,{_scale_to_width(tile_width)}[f{i}]")
    labels = "".join(f"[f{i}]" for i in range(count))
    graph = ";".join(
        [
            *chains,
            f"{labels}concat=n={count}:v=1:a=0,tile={columns}x{rows}:padding=4:margin=4:color={SHEET_BACKGROUND}[sheet]",
        ]
    )
    args = [*inputs, "-filter_complex", graph, "-map", "[sheet]", *_jpeg_output_args()]
    _run_to(dest, args, timeout=timeout, what="a contact sheet")
    return dest


def make_proxy(
    src: Path,
    dest: Path,
    *,
    height: int = 540,
    progress: Callable[[float], None] | None = None,
    progress_interval: float = 0.5,
    timeout: float | None = None,
) -> Path:
    """An H.264/AAC MP4 for review in a browser: `height` lines high at most (never upscaled), web-optimised.

    `progress(fraction)` is called from this thread, about every `progress_interval` seconds, with a rising fraction
    between 0 and 1, and with 1.0 on success; an exception it raises (a canceled job, say) stops ffmpeg and
    propagates. `timeout` defaults to `PROXY_BASE_TIMEOUT` plus `PROXY_SECONDS_PER_SECOND` per second of footage.
    """
    if height < 16:
        raise ValueError("a proxy must be at least 16 lines high")
    info = probe(src)
    if not info.has_video or info.is_still:
        raise MediaError("A review copy can only be made from a video; this file has no moving picture.")
    if timeout is None:
        timeout = PROXY_BASE_TIMEOUT + PROXY_SECONDS_PER_SECOND * (info.duration or 3600.0)
    even_height = f"min({height - height % 2},trunc(ih/2)*2)"
    video_filter = f"scale=w='max(2,trunc(oh*dar/2)*2)':h='{even_height}',setsar=1"
    # Metadata is dropped (it can carry locations and names), but the source timecode is kept: editors and
    # shot detection on the proxy need it.
    timecode = source_timecode(src)
    args = [
        *_input_args(src),
        "-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1", "-map_chapters", "-1",
        *(["-timecode", timecode] if timecode else []),
        "-vf", video_filter,
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-profile:v", "high", "-threads", str(THREADS),
        "-c:a", "aac", "-b:a", "128k", "-ac", "2",
        "-movflags", "+faststart",
        "-f", "mp4",
    ]  # fmt: skip
    if progress is not None:
        args = ["-nostats", "-stats_period", f"{max(progress_interval, 0.05):g}", "-progress", "pipe:1", *args]
    _run_to(
        dest,
        args,
        timeout=timeout,
        what="a review copy",
        progress=progress,
        duration=info.duration,
    )
    return dest


# Internals -----------------------------------------------------------------------------------------------------------


def _input_args(path: Path) -> list[str]:
    # -threads before -i sets the decoder's threads; `file:` stops a name such as "a:b.mov" being read as a protocol,
    # and the protocol whitelist stops a file (a playlist, say) making ffmpeg open anything but local files.
    return ["-threads", str(THREADS), "-protocol_whitelist", "file", "-i", f"file:{Path(path).resolve()}"]


def _jpeg_output_args() -> list[str]:
    # yuvj420p: full-range 4:2:0, what every JPEG reader expects (also from 10-bit, 4:4:4 or alpha sources).
    return ["-frames:v", "1", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", str(JPEG_QUALITY), "-f", "mjpeg"]


def _scale_to_width(width: int) -> str:
    """Scale to `width` (or the source's own width, if smaller) with square pixels, both sides even."""
    even_width = f"min({width - width % 2},trunc(iw*sar/2)*2)"
    return f"scale=w='max(2,{even_width})':h='max(2,trunc(ow/dar/2)*2)',setsar=1"


def _require_picture(src: Path, what: str) -> MediaInfo:
    info = probe(src)
    if not info.has_video:
        raise MediaError(f"{what.capitalize()} can only be made from a video or an image; this file has no picture.")
    return info


def _render_frame(src: Path, dest: Path, info: MediaInfo, *, width: int, timeout: float, what: str) -> None:
    if width < 16:
        raise ValueError("a picture must be at least 16 px wide")
    seek: list[str] = []
    if not info.is_still and info.duration:
        seek = ["-ss", f"{min(info.duration * 0.1, 5.0):.3f}"]
    args = [*seek, *_input_args(src), "-map", "0:V:0", "-vf", _scale_to_width(width), *_jpeg_output_args()]
    _run_to(dest, args, timeout=timeout, what=what)


def _run_to(
    dest: Path,
    args: Sequence[str],
    *,
    timeout: float,
    what: str,
    progress: Callable[[float], None] | None = None,
    duration: float | None = None,
) -> None:
    """Run ffmpeg writing to a temporary file beside `dest`, then move it into place: no half-written renditions."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # ffmpeg creates the file itself, so it gets the usual permissions (mkstemp's would be owner-only).
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.part")
    try:
        full = ["-loglevel", "error", *args, f"file:{tmp.resolve()}"]
        if progress is None:
            result = _run(full, timeout=timeout)
            returncode, stderr = result.returncode, result.stderr
        else:
            returncode, stderr = run_with_progress(full, timeout=timeout, progress=progress, duration=duration)
        if returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            raise MediaError(
                f"We could not make {what} from this file. It may be damaged or use a format we do not support.",
                detail=_last_lines(stderr),
            )
        tmp.replace(dest)
        if progress is not None:
            progress(1.0)
    finally:
        tmp.unlink(missing_ok=True)


def _command(args: Sequence[str]) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]


def _run(args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(  # noqa: S603 (a list of our own arguments, no shell)
            _command(args), capture_output=True, text=True, errors="replace", timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError(_timeout_message(), detail=f"timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise MediaError(
            "Media processing is not available right now. Please try again later.", detail=str(exc)
        ) from exc
    return result


def run_with_progress(
    args: Sequence[str], *, timeout: float, progress: Callable[[float], None], duration: float | None
) -> tuple[int, str]:
    """Run ffmpeg (with `-progress pipe:1` among `args`): report out_time / duration to `progress` in this thread.

    A reader thread only moves lines into a queue, so the callback (which may use the database) runs in the caller's
    thread, and the deadline is kept even when ffmpeg goes quiet. stderr goes to a file: a pipe nobody reads could
    fill and stall ffmpeg.
    """
    deadline = time.monotonic() + timeout
    lines: queue.Queue[str | None] = queue.Queue()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        try:
            process = subprocess.Popen(  # noqa: S603 (a list of our own arguments, no shell)
                _command(args),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise MediaError(
                "Media processing is not available right now. Please try again later.", detail=str(exc)
            ) from exc
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            reported = 0.0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise MediaError(_timeout_message(), detail=f"timed out after {timeout:g} s")
                try:
                    line = lines.get(timeout=min(remaining, 1.0))
                except queue.Empty:
                    continue
                if line is None:
                    break
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and duration and value.lstrip("-").isdigit():
                    fraction = min(max(int(value) / 1_000_000 / duration, 0.0), 0.999)
                    if fraction > reported:
                        reported = fraction
                        progress(fraction)
            returncode = process.wait(timeout=max(deadline - time.monotonic(), 1.0))
        except subprocess.TimeoutExpired as exc:
            raise MediaError(_timeout_message(), detail=f"timed out after {timeout:g} s") from exc
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        stderr.seek(0)
        return returncode, stderr.read()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    with contextlib.suppress(ValueError, OSError):  # the pipe is closed under us when ffmpeg is stopped
        for line in stream:
            lines.put(line)
    lines.put(None)


def _timeout_message() -> str:
    return "Processing this file took too long and was stopped. Please try again later, or ask us for help."


def _last_lines(text: str, count: int = 5) -> str:
    return "\n".join(line for line in text.strip().splitlines()[-count:])
