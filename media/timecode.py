"""SMPTE timecode: the one place where frames, seconds and HH:MM:SS:FF labels are converted.

Rates are exact `fractions.Fraction`s (30000/1001, not 29.97). Timecode counts frames at the nominal rate, rounded as
ffmpeg rounds it (29.97 counts as 30, 12.5 as 13), so our labels match what ffmpeg's drawtext burns in and what the
review player shows. Drop-frame timecode (HH:MM:SS;FF) exists for 30000/1001 and its multiples: it skips two labels
a minute at 29.97 fps (four at 59.94), except every tenth minute, so that the labels keep up with the clock.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

#: HH:MM:SS:FF, or with ";" or "." before the frames for drop-frame (as QuickTime and ffmpeg write it).
TIMECODE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.])(\d{2})$")
#: Frame rates written rounded ("29.97") mean the NTSC rate.
_NTSC_NOMINAL = (24, 30, 48, 60, 120)
_DAY_SECONDS = 86400


def as_rate(fps: float | int | str | Fraction) -> Fraction:
    """An exact frame rate: a Fraction as given, an NTSC rate for its rounded decimal (29.97 -> 30000/1001)."""
    if isinstance(fps, Fraction):
        rate = fps
    else:
        try:
            value = float(fps)
        except (TypeError, ValueError) as exc:
            raise ValueError("fps must be a positive number") from exc
        if not math.isfinite(value) or value <= 0:
            raise ValueError("fps must be a positive number")
        rate = Fraction(value).limit_denominator(1001)
        for nominal in _NTSC_NOMINAL:
            if abs(value - nominal * 1000 / 1001) < 0.006:
                rate = Fraction(nominal * 1000, 1001)
    if rate <= 0:
        raise ValueError("fps must be a positive number")
    return rate


def rate_fraction(fps: float | None) -> tuple[int, int]:
    """The frame rate as (numerator, denominator) for a player: 23.98 -> (24000, 1001), 25 -> (25, 1); (0, 1) when
    unknown or not a positive finite number."""
    if not fps or not math.isfinite(fps) or fps <= 0:
        return 0, 1
    rate = as_rate(fps)
    return rate.numerator, rate.denominator


def supports_drop_frame(fps: float | Fraction) -> bool:
    """Drop-frame timecode exists only for the NTSC rates 30000/1001 and its multiples."""
    rate = as_rate(fps)
    return rate.denominator == 1001 and rate.numerator % 30000 == 0


@dataclass(frozen=True)
class Rate:
    """How a clip counts timecode: its exact frame rate and drop-frame or not. `fps` may be given as a float."""

    fps: Fraction
    drop_frame: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", as_rate(self.fps))
        if self.drop_frame and not supports_drop_frame(self.fps):
            raise ValueError(f"drop-frame timecode does not exist at {float(self.fps):g} fps")

    @property
    def base(self) -> int:
        """Frames per second of timecode: the rate rounded half up, at least 1."""
        return max(1, math.floor(self.fps + Fraction(1, 2)))

    @property
    def dropped(self) -> int:
        """Labels skipped each minute (but every tenth) in drop-frame: 2 at 29.97, 4 at 59.94, else 0."""
        return self.base // 15 if self.drop_frame else 0

    @property
    def ffmpeg(self) -> str:
        """The rate as ffmpeg options take it: "30000/1001"."""
        return f"{self.fps.numerator}/{self.fps.denominator}"


def timecode_to_frames(text: str, rate: Rate) -> int:
    """Frames counted from 00:00:00:00 to `text` (HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame)."""
    match = TIMECODE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a timecode of the form HH:MM:SS:FF")
    hours, minutes, seconds, _, frames = (int(g) if g.isdigit() else g for g in match.groups())
    if minutes > 59 or seconds > 59 or frames >= rate.base:
        raise ValueError(f"{text} is not a valid timecode at {rate.base} frames per second")
    total_minutes = hours * 60 + minutes
    count = (total_minutes * 60 + seconds) * rate.base + frames
    return count - rate.dropped * (total_minutes - total_minutes // 10)


def frames_to_timecode(count: int, rate: Rate, *, wrap: bool = True) -> str:
    """The timecode label of frame `count` (counted from 00:00:00:00); wraps at 24 hours unless `wrap` is False."""
    if count < 0:
        raise ValueError("a frame count must be zero or more")
    base, dropped = rate.base, rate.dropped
    if dropped:
        per_ten_minutes = base * 600 - dropped * 9
        per_minute = base * 60 - dropped
        if wrap:
            count %= per_ten_minutes * 6 * 24
        tens, rest = divmod(count, per_ten_minutes)
        count += dropped * 9 * tens + (dropped * ((rest - dropped) // per_minute) if rest > dropped else 0)
    elif wrap:
        count %= base * _DAY_SECONDS
    frames = count % base
    seconds = count // base
    separator = ";" if dropped else ":"
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{separator}{frames:02d}"


def seconds_to_frames(seconds: float, rate: Rate) -> int:
    """The frame shown at `seconds` (counted from 0).

    A hair of tolerance: 0.12 s at 25 fps is frame 3, although 0.12 * 25 is 2.9999999999999996 in floating point.
    """
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("seconds must be zero or more")
    return math.floor(seconds * float(rate.fps) + 1e-6)


def frames_to_seconds(count: int, rate: Rate) -> float:
    """When frame `count` starts, in seconds."""
    return float(count / rate.fps)


def seconds_to_timecode(seconds: float, rate: Rate, *, start: int = 0, wrap: bool = True) -> str:
    """The label of the frame shown at `seconds`, for a clip whose first frame is labelled frame `start`."""
    return frames_to_timecode(start + seconds_to_frames(seconds, rate), rate, wrap=wrap)



def timecode(seconds: float, fps: float | Fraction) -> str:
    """Non-drop-frame HH:MM:SS:FF of the frame shown at `seconds` of media at `fps`, hours not wrapped (durations,
    player positions). NTSC rates count frames at the nominal rate (29.97 fps as 30), as editing tools do."""
    return seconds_to_timecode(seconds, Rate(as_rate(fps)), wrap=False)
