"""Renditions made with ffmpeg: thumbnails, poster frames, contact sheets, single frames and review proxies.

Each is written beside its destination and moved into place (`media.ffmpeg.run_to`), so no half-written file is ever
seen under its final name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from media import ffmpeg
from media.errors import MediaError
from media.ffmpeg import THREADS, input_args
from media.probe import MediaInfo, probe

STILL_TIMEOUT = 120.0
#: A proxy may run this long plus `PROXY_SECONDS_PER_SECOND` for every second of footage.
PROXY_BASE_TIMEOUT = 300.0
PROXY_SECONDS_PER_SECOND = 3.0
JPEG_QUALITY = 3  # ffmpeg's -q:v for mjpeg, 2 (best) to 31
SHEET_BACKGROUND = "0x111111"


def proxy_timeout(duration: float | None) -> float:
    """How long an encode of `duration` seconds of footage may run (an hour assumed when unknown)."""
    return PROXY_BASE_TIMEOUT + PROXY_SECONDS_PER_SECOND * (duration or 3600.0)


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
        inputs += ["-ss", f"{(i + 0.5) * step:.3f}", *input_args(src)]
        chains.append(f"[{i}:V:0]trim=end_frame=1,setpts=PTS-STARTPTS,{scale_to_width(tile_width)}[f{i}]")
    labels = "".join(f"[f{i}]" for i in range(count))
    graph = ";".join(
        [
            *chains,
            f"{labels}concat=n={count}:v=1:a=0,tile={columns}x{rows}:padding=4:margin=4:color={SHEET_BACKGROUND}[sheet]",
        ]
    )
    args = [*inputs, "-filter_complex", graph, "-map", "[sheet]", *jpeg_output_args()]
    ffmpeg.run_to(dest, args, timeout=timeout, what="a contact sheet")
    return dest


def make_frame_jpeg(
    src: Path, dest: Path, *, frame: int, fps: float, width: int, timeout: float = STILL_TIMEOUT
) -> Path:
    """A JPEG of one frame of a video (counted from 0), at most `width` wide, square pixels."""
    # Input seeking decodes from the keyframe before and outputs the first frame at or after the time asked for.
    seek = max(0.0, (frame - 0.5) / fps)
    scale = f"scale=w='max(2,min({width},trunc(iw*sar/2)*2))':h='max(2,trunc(ow/dar/2)*2)',setsar=1"
    args = ["-ss", f"{seek:.4f}", *input_args(src), "-map", "0:V:0", "-vf", scale, *jpeg_output_args()]
    ffmpeg.run_to(dest, args, timeout=timeout, what=f"a picture of frame {frame}")
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
        timeout = proxy_timeout(info.duration)
    even_height = f"min({height - height % 2},trunc(ih/2)*2)"
    video_filter = f"scale=w='max(2,trunc(oh*dar/2)*2)':h='{even_height}',setsar=1"
    # Metadata is dropped (it can carry locations and names), but the source timecode is kept: editors and
    # shot detection on the proxy need it.
    args = [
        *input_args(src),
        "-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1", "-map_chapters", "-1",
        *(["-timecode", info.timecode] if info.timecode else []),
        "-vf", video_filter,
        *h264_aac_args(crf=23),
        "-f", "mp4",
    ]  # fmt: skip
    if progress is not None:
        args = ["-nostats", "-stats_period", f"{max(progress_interval, 0.05):g}", "-progress", "pipe:1", *args]
    ffmpeg.run_to(dest, args, timeout=timeout, what="a review copy", progress=progress, duration=info.duration)
    return dest


def h264_aac_args(*, crf: int, preset: str = "veryfast") -> list[str]:
    """H.264 High (yuv420p) and stereo AAC at 128 kb/s with the index first: what every browser plays at once."""
    return [
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-profile:v", "high", "-threads", str(THREADS),
        "-c:a", "aac", "-b:a", "128k", "-ac", "2",
        "-movflags", "+faststart",
    ]  # fmt: skip


def jpeg_output_args() -> list[str]:
    # yuvj420p: full-range 4:2:0, what every JPEG reader expects (also from 10-bit, 4:4:4 or alpha sources).
    return ["-frames:v", "1", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", str(JPEG_QUALITY), "-f", "mjpeg"]


def scale_to_width(width: int) -> str:
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
    args = [*seek, *input_args(src), "-map", "0:V:0", "-vf", scale_to_width(width), *jpeg_output_args()]
    ffmpeg.run_to(dest, args, timeout=timeout, what=what)
