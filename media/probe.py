"""Reading what a media file holds, with PyAV (FFmpeg's libraries, in process): duration, streams and codecs,
picture size as displayed, frame rate, the start timecode it carries, and the sound's channels and sample rate.

The numbers are the ones `ffmpeg -i` prints (its duration is rounded to the hundredth of a second, the codec names
are FFmpeg's codec names), so renditions, timecode and the pages agree with ffmpeg itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.stream import Stream
from av.video.stream import VideoStream

from media.errors import MediaError

PROBE_TIMEOUT = 30.0
UNREADABLE = (
    "This file could not be read as video, audio or an image. It may be damaged or in a format we do not support."
)
#: Demuxers that read one picture (FFmpeg reports a nominal 25 fps and a one-frame or unknown duration for them).
STILL_DEMUXERS = frozenset({
    "image2", "png_pipe", "jpeg_pipe", "tiff_pipe", "webp_pipe", "exr_pipe", "dpx_pipe", "psd_pipe", "j2k_pipe",
    "bmp_pipe", "jpegxl_pipe", "jpegls_pipe", "qoi_pipe", "svg_pipe",
})  # fmt: skip
#: Demuxers that read other files named inside the file: a partner's upload must be media, not a list of paths.
PLAYLIST_DEMUXERS = frozenset({"hls", "dash", "concat", "ffconcat"})
_TIMECODE = re.compile(r"^\d{2}:\d{2}:\d{2}[:;.]\d{2}$")
_MICROSECONDS = 1_000_000


@dataclass(frozen=True)
class StreamInfo:
    index: int
    kind: str  # video, audio, subtitle, data, attachment
    codec: str  # FFmpeg's codec name ("h264", "pcm_s16le"), "" when FFmpeg does not know it
    attached_picture: bool = False  # cover art inside an audio file, not a moving picture


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
    rate: Fraction | None = None  # the exact frame rate (30000/1001), None for stills and sound
    timecode: str | None = None  # the start timecode the file carries (a tmcd track or a tag), as written
    reel_name: str | None = None  # the tape or camera roll the clip came from (a tmcd track's source reference)
    video_profile: str = ""  # the video codec's profile as FFmpeg names it ("HQ", "Proxy", "DNXHR HQ", "High")
    audio_channels: int | None = None
    sample_rate: int | None = None
    container: str = ""  # the demuxer that read it ("mov", "matroska", "png_pipe")
    streams: list[StreamInfo] = field(default_factory=list)


def probe(path: Path, *, timeout: float = PROBE_TIMEOUT) -> MediaInfo:
    """Read duration, picture size, frame rate and codecs of the first video and first audio stream."""
    if not Path(path).is_file():
        raise MediaError("The file to read is missing.", detail=str(path))
    try:
        container = av.open(
            f"file:{Path(path).resolve()}", options={"protocol_whitelist": "file"}, timeout=timeout
        )
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(UNREADABLE, detail=str(exc)) from exc
    with container:
        return _describe(container)


def source_timecode(path: Path, *, timeout: float = PROBE_TIMEOUT) -> str | None:
    """The start timecode a file carries (a QuickTime/MP4 tmcd track or metadata), if any."""
    return probe(path, timeout=timeout).timecode


# Steps ---------------------------------------------------------------------------------------------------------------


def _describe(container: InputContainer) -> MediaInfo:
    demuxer = container.format.name.split(",")[0]
    if demuxer in PLAYLIST_DEMUXERS:
        raise MediaError(UNREADABLE, detail=f"refused the {demuxer} demuxer: a playlist refers to other files")
    streams = [_stream_info(stream) for stream in container.streams]
    video = next((s for s in container.streams.video if not _attached(s)), None)
    audio = next((s for s in container.streams.audio if _codec_name(s)), None)
    if video is None and audio is None:
        raise MediaError(UNREADABLE, detail=f"no video or audio stream ({demuxer})")
    duration = _duration(container)
    info = MediaInfo(
        duration=duration,
        width=None,
        height=None,
        fps=None,
        video_codec="",
        audio_codec=_codec_name(audio) if audio is not None else "",
        has_video=video is not None,
        has_audio=audio is not None,
        timecode=_timecode(container),
        reel_name=_reel_name(container),
        container=demuxer,
        streams=streams,
    )
    if video is not None:
        _add_picture(info, container, video, still=_is_still(demuxer, duration))
    if audio is not None:
        info.audio_channels = audio.codec_context.channels or None
        info.sample_rate = audio.codec_context.sample_rate or None
    return info


def _add_picture(info: MediaInfo, container: InputContainer, video: VideoStream, *, still: bool) -> None:
    info.video_codec = _codec_name(video)
    context = video.codec_context
    info.video_profile = str(getattr(context, "profile", None) or "") if context is not None else ""
    width, height = (context.width or None, context.height or None) if context is not None else (None, None)
    if not still and width and height and _quarter_turn(container, video):
        width, height = height, width
    info.width, info.height = width, height
    info.is_still = still
    if still:
        info.duration = None
    else:
        info.rate = video.average_rate or video.base_rate or None
        info.fps = float(info.rate) if info.rate else None


def _stream_info(stream: Stream) -> StreamInfo:
    return StreamInfo(
        index=stream.index, kind=stream.type, codec=_codec_name(stream), attached_picture=_attached(stream)
    )


def _codec_name(stream: Stream) -> str:
    context = stream.codec_context
    if context is None:
        return ""
    name = context.codec.canonical_name
    return "" if name == "none" else name


def _attached(stream: Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(container: InputContainer) -> float | None:
    """The container's duration as `ffmpeg -i` prints it: to the nearest hundredth of a second."""
    if container.duration is None or container.duration < 0:
        return None
    return (container.duration + 5000) // 10_000 / 100


def _is_still(demuxer: str, duration: float | None) -> bool:
    return demuxer in STILL_DEMUXERS or (demuxer == "gif" and duration is None)


def _quarter_turn(container: InputContainer, video: VideoStream) -> bool:
    """Whether the picture is displayed turned by 90 or 270 degrees (a display matrix, as phones write)."""
    try:
        frame = next(container.decode(video))
    except (av.FFmpegError, StopIteration, ValueError):
        return False
    rotation = getattr(frame, "rotation", 0) or 0
    return round(abs(float(rotation))) % 180 == 90


def _timecode(container: InputContainer) -> str | None:
    """The first timecode tag: the file's own, else the first stream's that has one (a tmcd track's)."""
    for metadata in [container.metadata, *(stream.metadata for stream in container.streams)]:
        value = (metadata.get("timecode") or "").strip()
        if _TIMECODE.match(value):
            return value
    return None


def _reel_name(container: InputContainer) -> str | None:
    """The reel name a QuickTime timecode track carries (FFmpeg reads it as `reel_name`), else a file-level tag."""
    for metadata in [*(stream.metadata for stream in container.streams), container.metadata]:
        value = (metadata.get("reel_name") or "").strip()
        if value:
            return value
    return None
