"""media.timecode: rates as fractions, frames and seconds to and from SMPTE labels (drop-frame too)."""

from fractions import Fraction

import pytest

from media.timecode import (
    Rate,
    as_rate,
    frames_to_seconds,
    frames_to_timecode,
    seconds_to_timecode,
    supports_drop_frame,
    timecode,
    timecode_to_frames,
)


@pytest.mark.parametrize(
    ("given", "exact"),
    [(25, Fraction(25)), (29.97, Fraction(30000, 1001)), (30000 / 1001, Fraction(30000, 1001)),
     (23.976, Fraction(24000, 1001)), (59.94, Fraction(60000, 1001)), (12.5, Fraction(25, 2)),
     (Fraction(48), Fraction(48))],
)  # fmt: skip
def test_rates_are_exact_fractions(given, exact):
    assert as_rate(given) == exact


@pytest.mark.parametrize("fps", [0, -25, None, float("nan"), "fast"])
def test_a_rate_must_be_a_positive_number(fps):
    with pytest.raises(ValueError, match="positive"):
        as_rate(fps)


def test_drop_frame_exists_only_for_ntsc_multiples_of_30():
    assert supports_drop_frame(30000 / 1001)
    assert supports_drop_frame(Fraction(60000, 1001))
    assert not supports_drop_frame(24000 / 1001)
    assert not supports_drop_frame(25)
    with pytest.raises(ValueError, match="drop-frame"):
        Rate(25, drop_frame=True)


def test_the_nominal_rate_rounds_half_up_as_ffmpeg_and_the_player_do():
    assert [Rate(fps).base for fps in (25, 30000 / 1001, 24000 / 1001, 12.5, 0.4)] == [25, 30, 24, 13, 1]
    assert Rate(30000 / 1001).ffmpeg == "30000/1001"


def test_labels_wrap_at_24_hours_unless_asked_not_to():
    pal = Rate(25)
    assert frames_to_timecode(25 * 86400 + 3, pal) == "00:00:00:03"
    assert frames_to_timecode(25 * 86400 + 3, pal, wrap=False) == "24:00:00:03"
    with pytest.raises(ValueError, match="zero or more"):
        frames_to_timecode(-1, pal)


def test_seconds_and_frames_convert_both_ways_from_a_start_timecode():
    rate = Rate(30000 / 1001, drop_frame=True)
    start = timecode_to_frames("00:59:59;28", rate)
    assert seconds_to_timecode(1.0, rate, start=start) == "01:00:00;27"  # frame 29 of the second (29.97 fps)
    assert seconds_to_timecode(30 / rate.fps, rate, start=start) == "01:00:00;28"
    assert frames_to_seconds(30000, rate) == pytest.approx(1001.0)
    assert timecode(3600.0, 24) == "01:00:00:00"
    assert timecode(90000.0, 25) == "25:00:00:00"  # a duration is not wrapped
