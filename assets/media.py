"""Reading and rendering the assets' media: what `assets` uses from the plain `media` package, in one place.

Probing is PyAV's (`media.probe`), renditions and the ffmpeg runner are `media.renditions` and `media.ffmpeg`, and
timecode is `media.timecode`: this module only names them for the assets app (services, tasks, template tags).
"""

from __future__ import annotations

from media.errors import MediaError
from media.ffmpeg import THREADS, ffmpeg_exe, run_with_progress
from media.images import check_image_pixels
from media.probe import PROBE_TIMEOUT, MediaInfo, probe, source_timecode
from media.renditions import (
    PROXY_BASE_TIMEOUT,
    PROXY_SECONDS_PER_SECOND,
    STILL_TIMEOUT,
    make_contact_sheet,
    make_poster,
    make_proxy,
    make_thumbnail,
)
from media.timecode import rate_fraction as exact_frame_rate
from media.timecode import timecode

__all__ = [
    "PROBE_TIMEOUT",
    "PROXY_BASE_TIMEOUT",
    "PROXY_SECONDS_PER_SECOND",
    "STILL_TIMEOUT",
    "THREADS",
    "MediaError",
    "MediaInfo",
    "check_image_pixels",
    "exact_frame_rate",
    "ffmpeg_exe",
    "make_contact_sheet",
    "make_poster",
    "make_proxy",
    "make_thumbnail",
    "probe",
    "run_with_progress",
    "source_timecode",
    "timecode",
]
