import random
import shutil
import struct
from fractions import Fraction

import pytest

from assets.media import (
    MediaError,
    make_contact_sheet,
    make_poster,
    make_proxy,
    make_thumbnail,
    probe,
    timecode,
)
from tests.assets.conftest import lavfi_sine, lavfi_video, run_ffmpeg

JPEG_MAGIC = b"\xff\xd8\xff"


def assert_jpeg(path, width, height):
    assert path.read_bytes()[:3] == JPEG_MAGIC
    info = probe(path)
    assert (info.width, info.height) == (width, height)


def top_level_boxes(path):
    """The types of an MP4's top-level boxes, in file order."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size == 0:
            break
        offset += size
    return boxes


# Probe ---------------------------------------------------------------------------------------------------------------


def test_probe_reads_the_sample_video(sample_video):
    info = probe(sample_video)

    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert (info.width, info.height) == (640, 360)
    assert info.fps == 25
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.has_video, info.has_audio, info.is_still) == (True, True, False)


def test_probe_reads_a_quicktime_prores_movie(sample_mov):
    info = probe(sample_mov)

    assert (info.video_codec, info.audio_codec) == ("prores", "pcm_s16le")
    assert (info.width, info.height, info.fps) == (320, 180, 24)
    assert info.duration == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize(("fixture", "size", "codec"), [("sample_image_jpeg", (640, 480), "mjpeg"),
                                                        ("sample_image_png", (333, 187), "png")])  # fmt: skip
def test_probe_of_a_still_has_a_size_but_no_duration(request, fixture, size, codec):
    info = probe(request.getfixturevalue(fixture))

    assert (info.width, info.height) == size
    assert (info.duration, info.fps) == (None, None)
    assert info.video_codec == codec
    assert (info.is_still, info.has_video, info.has_audio) == (True, True, False)


def test_probe_of_audio_has_no_picture(sample_audio_wav):
    info = probe(sample_audio_wav)

    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert (info.has_audio, info.has_video) == (True, False)
    assert (info.audio_codec, info.video_codec) == ("pcm_s16le", "")
    assert (info.width, info.height, info.fps) == (None, None, None)


def test_probe_takes_the_first_video_and_first_audio_stream(tmp_path):
    path = tmp_path / "multi.mkv"
    run_ffmpeg(
        *lavfi_video("320x240", 0.5), *lavfi_video("160x120", 0.5, rate=30), *lavfi_sine(0.5), *lavfi_sine(0.5),
        *["-map", "0", "-map", "1", "-map", "2", "-map", "3", "-c:v", "mpeg4", "-c:a:0", "flac", "-c:a:1", "pcm_s16le"],
        str(path),
    )  # fmt: skip

    info = probe(path)

    assert (info.width, info.height, info.fps) == (320, 240, 25)
    assert (info.video_codec, info.audio_codec) == ("mpeg4", "flac")


def test_probe_ignores_cover_art_in_audio(tmp_path, sample_image_png):
    path = tmp_path / "song.mp3"
    run_ffmpeg(
        *lavfi_sine(0.5), "-i", str(sample_image_png), "-map", "0", "-map", "1", "-c:v", "png",
        "-disposition:v", "attached_pic", str(path),
    )  # fmt: skip

    info = probe(path)

    assert (info.has_audio, info.has_video) == (True, False)
    assert info.audio_codec == "mp3"


def test_probe_reports_the_displayed_size_of_a_rotated_video(tmp_path, sample_video):
    path = tmp_path / "portrait.mp4"
    run_ffmpeg("-display_rotation", "90", "-i", str(sample_video), "-c", "copy", str(path))

    assert (probe(path).width, probe(path).height) == (360, 640)
    make_thumbnail(path, tmp_path / "thumb.jpg", max_width=180)
    assert_jpeg(tmp_path / "thumb.jpg", 180, 320)


def test_probe_of_garbage_raises_a_readable_error(tmp_path):
    path = tmp_path / "upload.mov"
    path.write_bytes(random.Random(7).randbytes(4096))

    with pytest.raises(MediaError) as caught:
        probe(path)

    message = str(caught.value)
    assert message.startswith("This file could not be read")
    assert message.endswith(".")
    for internal in ("ffmpeg", "Traceback", str(path)):
        assert internal not in message
    assert "Invalid data" in caught.value.detail  # ffmpeg's own words, for the logs


def test_probe_of_a_text_file_named_mp4_raises(fake_video_text):
    with pytest.raises(MediaError, match="could not be read as video"):
        probe(fake_video_text)


def test_probe_of_a_missing_file_raises(tmp_path):
    with pytest.raises(MediaError, match="missing"):
        probe(tmp_path / "gone.mp4")


@pytest.mark.parametrize(
    ("seconds", "fps", "expected"),
    [
        (0, 25, "00:00:00:00"),
        (0.12, 25, "00:00:00:03"),
        (3723.5, 25, "01:02:03:12"),
        (59.99, 24, "00:00:59:23"),
        (1001 / 30000 * 45, 30000 / 1001, "00:00:01:15"),
    ],
)
def test_timecode(seconds, fps, expected):
    assert timecode(seconds, fps) == expected


@pytest.mark.parametrize(("seconds", "fps"), [(1.0, 0), (1.0, None), (-1.0, 25)])
def test_timecode_refuses_nonsense(seconds, fps):
    with pytest.raises(ValueError):  # noqa: PT011 (any of two messages)
        timecode(seconds, fps)


# Renditions ----------------------------------------------------------------------------------------------------------


def test_thumbnail_of_a_video_keeps_its_aspect(tmp_path, sample_video):
    dest = make_thumbnail(sample_video, tmp_path / "thumb.jpg")

    assert_jpeg(dest, 480, 270)


def test_thumbnail_of_a_still_is_not_upscaled_and_has_even_sides(tmp_path, sample_image_png):
    dest = make_thumbnail(sample_image_png, tmp_path / "thumb.jpg")

    assert_jpeg(dest, 332, 186)


def test_thumbnail_of_a_10_bit_prores_movie(tmp_path, sample_mov):
    assert_jpeg(make_thumbnail(sample_mov, tmp_path / "thumb.jpg", max_width=160), 160, 90)


def test_thumbnail_of_audio_is_refused(tmp_path, sample_audio_wav):
    with pytest.raises(MediaError, match="has no picture"):
        make_thumbnail(sample_audio_wav, tmp_path / "thumb.jpg")
    assert list(tmp_path.iterdir()) == []


def test_poster_is_a_frame_at_most_the_source_width(tmp_path, sample_video):
    assert_jpeg(make_poster(sample_video, tmp_path / "poster.jpg"), 640, 360)
    assert_jpeg(make_poster(sample_video, tmp_path / "small.jpg", width=320), 320, 180)


def test_poster_of_a_still_is_refused(tmp_path, sample_image_jpeg):
    with pytest.raises(MediaError, match="only be made from a video"):
        make_poster(sample_image_jpeg, tmp_path / "poster.jpg")


def test_contact_sheet_of_a_two_second_clip(tmp_path, sample_video_720p):
    dest = make_contact_sheet(sample_video_720p, tmp_path / "sheet.jpg")

    # 4 x 3 tiles of 320x180 with a 4 px gap around and between them
    assert_jpeg(dest, 4 * 320 + 5 * 4, 3 * 180 + 4 * 4)


def test_contact_sheet_with_its_own_grid(tmp_path, sample_video):
    dest = make_contact_sheet(sample_video, tmp_path / "sheet.jpg", columns=2, rows=2, tile_width=160)

    assert_jpeg(dest, 2 * 160 + 3 * 4, 2 * 90 + 3 * 4)


def test_renditions_accept_paths_ffmpeg_could_misread(tmp_path, sample_video):
    # ":" could name a protocol and "%03d" an image sequence; both must stay plain file names.
    src = tmp_path / "take 1: A%03d.mp4"
    shutil.copy(sample_video, src)

    dest = make_thumbnail(src, tmp_path / "out: %03d.jpg", max_width=64)

    assert_jpeg(dest, 64, 36)


def test_proxy_is_540p_h264_aac_fast_start_with_progress(tmp_path, sample_video_720p):
    reported = []

    dest = make_proxy(sample_video_720p, tmp_path / "proxy.mp4", progress=reported.append, progress_interval=0.05)

    info = probe(dest)
    assert (info.width, info.height) == (960, 540)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.fps == 25
    assert info.duration == pytest.approx(2.0, abs=0.1)
    boxes = top_level_boxes(dest)
    assert boxes.index("moov") < boxes.index("mdat")
    assert reported == sorted(reported)
    assert all(0 <= fraction <= 1 for fraction in reported)
    assert reported[-1] == 1.0


def test_proxy_never_upscales(tmp_path, sample_mov):
    info = probe(make_proxy(sample_mov, tmp_path / "proxy.mp4"))

    assert (info.width, info.height) == (320, 180)
    assert info.video_codec == "h264"


def test_proxy_of_a_silent_video_has_no_audio(tmp_path):
    src = tmp_path / "silent.mov"
    run_ffmpeg(*lavfi_video("320x240", 0.5), "-c:v", "mpeg4", str(src))

    info = probe(make_proxy(src, tmp_path / "proxy.mp4", height=120))

    assert (info.width, info.height) == (160, 120)
    assert (info.has_video, info.has_audio) == (True, False)


def test_a_progress_callback_can_stop_the_proxy(tmp_path, sample_video_720p):
    class Canceled(Exception):
        pass

    def cancel(fraction):
        raise Canceled

    with pytest.raises(Canceled):
        make_proxy(sample_video_720p, tmp_path / "proxy.mp4", progress=cancel, progress_interval=0.05)
    assert list(tmp_path.iterdir()) == []  # no proxy, and no half-written file


def test_proxy_that_runs_out_of_time_raises_a_readable_error(tmp_path, sample_video_720p):
    with pytest.raises(MediaError, match="took too long"):
        make_proxy(sample_video_720p, tmp_path / "proxy.mp4", progress=lambda _: None, timeout=0.001)
    assert list(tmp_path.iterdir()) == []


def test_proxy_of_a_still_is_refused(tmp_path, sample_image_png):
    with pytest.raises(MediaError, match="only be made from a video"):
        make_proxy(sample_image_png, tmp_path / "proxy.mp4")


def test_a_playlist_is_not_media_even_when_ffmpeg_could_follow_it(tmp_path, sample_video):
    playlist = tmp_path / "reel.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n{sample_video}\n#EXT-X-ENDLIST\n")

    with pytest.raises(MediaError, match="could not be read"):
        probe(playlist)


def test_the_proxy_keeps_the_source_timecode_and_drops_other_metadata(make_media, tmp_path):
    from assets.media import make_proxy, source_timecode
    from tests.assets.conftest import lavfi_video

    src = make_media(
        "timecoded.mp4",
        *lavfi_video("320x180", 1),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-timecode",
        "01:02:03:04",
        "-metadata",
        "location=+48.8584+002.2945/",
    )
    assert source_timecode(src) == "01:02:03:04"
    proxy = make_proxy(src, tmp_path / "proxy.mp4", height=180)
    assert source_timecode(proxy) == "01:02:03:04"
    import subprocess

    from assets.media import ffmpeg_exe

    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(proxy)], capture_output=True, text=True).stderr
    assert "48.8584" not in text



# Probing with PyAV: the numbers `ffmpeg -i` printed for the same clips (checked side by side before the switch) -------


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("ntsc.mov", ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30000/1001:duration=1", "-c:v", "libx264",
                      "-preset", "ultrafast", "-timecode", "01:00:00;00"],
         {"duration": 1.0, "width": 320, "height": 180, "fps": 30000 / 1001, "rate": Fraction(30000, 1001),
          "video_codec": "h264", "audio_codec": "", "timecode": "01:00:00;00", "is_still": False}),
        ("film.mp4", ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24000/1001:duration=1", "-c:v", "libx264",
                      "-preset", "ultrafast", "-timecode", "10:00:00:00"],
         {"duration": 1.0, "width": 320, "height": 180, "fps": 24000 / 1001, "rate": Fraction(24000, 1001),
          "video_codec": "h264", "audio_codec": "", "timecode": "10:00:00:00", "is_still": False}),
        ("anim.gif", [*lavfi_video("64x48", 0.4, rate=10)],
         {"duration": 0.4, "width": 64, "height": 48, "fps": 10, "video_codec": "gif", "is_still": False}),
        ("tone.flac", [*lavfi_sine(0.7)],
         {"duration": 0.7, "width": None, "fps": None, "audio_codec": "flac", "audio_channels": 1,
          "sample_rate": 48000, "has_video": False}),
    ],
)  # fmt: skip
def test_probe_reads_rates_timecode_and_sound(tmp_path, name, args, expected):
    path = tmp_path / name
    run_ffmpeg(*args, str(path))

    info = probe(path)

    assert {key: getattr(info, key) for key in expected} == expected


def test_probe_lists_every_stream_and_the_sound_of_the_sample_video(sample_video):
    info = probe(sample_video)

    assert [(s.kind, s.codec) for s in info.streams] == [("video", "h264"), ("audio", "aac")]
    assert (info.rate, info.audio_channels, info.sample_rate, info.container) == (Fraction(25), 1, 48000, "mov")
    assert info.timecode is None
