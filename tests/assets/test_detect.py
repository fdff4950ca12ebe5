import random

import pytest

from assets.detect import ALLOWED_CONTENT_TYPES, HEAD_SIZE, KINDS, Detected, detect, kind_from_filename
from tests.assets.conftest import FOUNTAIN_SCRIPT, lavfi_sine, lavfi_video, run_ffmpeg

FINAL_DRAFT = """<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<FinalDraft DocumentType="Script" Template="No" Version="5">
  <Content>
    <Paragraph Type="Scene Heading"><Text>INT. EDIT SUITE - NIGHT</Text></Paragraph>
    <Paragraph Type="Action"><Text>Monitors glow.</Text></Paragraph>
  </Content>
</FinalDraft>
"""


@pytest.mark.parametrize(
    ("fixture", "kind", "content_type", "label"),
    [
        ("sample_video", "video", "video/mp4", "MPEG-4 video"),
        ("sample_video_720p", "video", "video/mp4", "MPEG-4 video"),
        ("sample_mov", "video", "video/quicktime", "QuickTime movie"),
        ("sample_image_jpeg", "image", "image/jpeg", "JPEG image"),
        ("sample_image_png", "image", "image/png", "PNG image"),
        ("sample_audio_wav", "audio", "audio/wav", "WAV audio"),
        ("sample_fountain", "script", "text/plain", "Fountain screenplay"),
        ("sample_pdf", "document", "application/pdf", "PDF document"),
    ],
)
def test_samples_are_detected_by_content(request, fixture, kind, content_type, label):
    path = request.getfixturevalue(fixture)

    assert detect(path, filename=path.name) == Detected(kind, content_type, label)


def test_a_text_file_named_like_a_video_is_not_a_video(fake_video_text):
    assert kind_from_filename(fake_video_text.name) == "video"  # what the name declares

    found = detect(fake_video_text, filename=fake_video_text.name)

    assert found.kind == "document"
    assert found.content_type == "text/plain"


def test_the_name_does_not_matter_for_binary_content(tmp_path, sample_image_jpeg):
    misnamed = tmp_path / "script.fountain"
    misnamed.write_bytes(sample_image_jpeg.read_bytes())

    assert detect(misnamed, filename="script.fountain").content_type == "image/jpeg"


def test_random_bytes_are_unknown(tmp_path):
    path = tmp_path / "noise.mov"
    path.write_bytes(b"\x00\x13\x37" + random.Random(1234).randbytes(8192))

    assert detect(path, filename=path.name) == Detected(None, "application/octet-stream", "Unknown binary data")


def test_an_empty_file_is_not_accepted(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")

    assert detect(path).kind is None


def test_final_draft_xml_is_a_script(tmp_path):
    path = tmp_path / "pilot.fdx"
    path.write_text(FINAL_DRAFT, encoding="utf-8")

    assert detect(path, filename="anything.xml") == Detected("script", "application/xml", "Final Draft screenplay")


def test_fountain_is_recognised_by_its_scene_headings_without_the_extension(tmp_path):
    path = tmp_path / "upload"
    path.write_text(FOUNTAIN_SCRIPT, encoding="utf-8")

    assert detect(path, filename="draft 3.txt") == Detected("script", "text/plain", "Fountain screenplay")
    assert detect(path).kind == "script"


def test_fountain_is_recognised_by_its_extension_without_scene_headings(tmp_path):
    path = tmp_path / "upload"
    path.write_text("Title: Notes\n\nA cold open, then the titles.\n", encoding="utf-8")

    assert detect(path, filename="notes.fountain").label == "Fountain screenplay"
    assert detect(path, filename="notes.SPMD").kind == "script"
    assert detect(path, filename="notes.txt") == Detected("document", "text/plain", "Plain text")


def test_prose_mentioning_interiors_is_plain_text(tmp_path):
    path = tmp_path / "memo.txt"
    path.write_text("Int. rates rose again.\nExt. review is next week.\n", encoding="utf-8")

    assert detect(path, filename=path.name).kind == "document"


def test_utf8_with_bom_and_a_character_cut_at_the_read_limit_is_text(tmp_path):
    # Given a text longer than what detect reads, with a two-byte "é" split by the 64 KiB cut
    body = "a" * (HEAD_SIZE - 4) + "é" * 10
    path = tmp_path / "long.txt"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert path.read_bytes()[HEAD_SIZE - 1] == 0xC3  # the cut falls inside a character

    assert detect(path).label == "Plain text"


def test_only_the_first_64_kib_are_read(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"plain words\n" * (HEAD_SIZE // 12 + 1) + b"\x00\x01binary tail")

    assert detect(path).kind == "document"


def test_text_in_another_encoding_is_not_taken_for_text(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_text("INT. KITCHEN - DAY\n", encoding="utf-16")

    assert detect(path).kind is None


# Files made by a real muxer, one per signature (each under a second of media: they are cheap to make).
FORMATS = [
    ("clip.mkv", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg4"], "video/x-matroska"),
    ("clip.webm", [*lavfi_video("64x64", 0.2), "-c:v", "libvpx-vp9", "-deadline", "realtime"], "video/webm"),
    ("clip.avi", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg4"], "video/x-msvideo"),
    ("clip.mxf", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg2video"], "application/mxf"),
    ("clip.ts", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg2video"], "video/mp2t"),
    ("clip.m2ts", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg2video", "-mpegts_m2ts_mode", "1"], "video/mp2t"),
    ("clip.mpg", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg2video", "-f", "vob"], "video/mpeg"),
    ("clip.3gp", [*lavfi_video("64x64", 0.2), "-c:v", "mpeg4"], "video/3gpp"),
    ("clip.ogv", [*lavfi_video("64x64", 0.2), "-c:v", "libtheora"], "video/ogg"),
    ("still.gif", [*lavfi_video("32x32", 0.04), "-frames:v", "1"], "image/gif"),
    ("still.tif", [*lavfi_video("32x32", 0.04), "-frames:v", "1"], "image/tiff"),
    ("still.webp", [*lavfi_video("32x32", 0.04), "-frames:v", "1"], "image/webp"),
    ("still.exr", [*lavfi_video("32x32", 0.04), "-frames:v", "1", "-pix_fmt", "gbrpf32le"], "image/x-exr"),
    ("still.dpx", [*lavfi_video("32x32", 0.04), "-frames:v", "1"], "image/x-dpx"),
    ("still.jp2", [*lavfi_video("32x32", 0.04), "-frames:v", "1", "-c:v", "jpeg2000"], "image/jp2"),
    ("tone.aiff", [*lavfi_sine(0.2)], "audio/aiff"),
    ("tone.flac", [*lavfi_sine(0.2)], "audio/flac"),
    ("tone.mp3", [*lavfi_sine(0.5), "-write_xing", "0", "-id3v2_version", "0"], "audio/mpeg"),
    ("tagged.mp3", [*lavfi_sine(0.5), "-metadata", "title=Room tone"], "audio/mpeg"),
    ("tone.ogg", [*lavfi_sine(0.2), "-c:a", "libvorbis"], "audio/ogg"),
    ("tone.aac", [*lavfi_sine(0.2), "-f", "adts"], "audio/aac"),
    ("tone.m4a", [*lavfi_sine(0.2), "-c:a", "aac", "-f", "ipod"], "audio/mp4"),
    ("tone.mp4", [*lavfi_sine(0.2), "-c:a", "aac", "-movflags", "+faststart"], "audio/mp4"),
]


@pytest.mark.parametrize(("name", "args", "content_type"), FORMATS, ids=[name for name, _, _ in FORMATS])
def test_formats_made_by_ffmpeg_are_detected(tmp_path, name, args, content_type):
    path = tmp_path / name
    run_ffmpeg(*args, str(path))
    unnamed = path.rename(tmp_path / "upload")  # the name must play no part

    found = detect(unnamed)

    assert found.content_type == content_type
    assert found.content_type in ALLOWED_CONTENT_TYPES[found.kind]


def test_every_detected_type_is_allowed_for_its_kind():
    assert set(ALLOWED_CONTENT_TYPES) == set(KINDS)
    assert "text/plain" in ALLOWED_CONTENT_TYPES["script"] & ALLOWED_CONTENT_TYPES["document"]
    assert "application/xml" in ALLOWED_CONTENT_TYPES["script"]
    assert {"video/mp4", "video/quicktime", "application/mxf"} <= ALLOWED_CONTENT_TYPES["video"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("A001_C002.MOV", "video"),
        ("plate.v2.mxf", "video"),
        ("still.JPEG", "image"),
        ("comp.exr", "image"),
        ("mix.wav", "audio"),
        ("pilot.fountain", "script"),
        ("pilot.fdx", "script"),
        ("call sheet.pdf", "document"),
        ("notes.txt", "document"),
        ("setup.exe", None),
        ("README", None),
        (".mp4", None),
    ],
)
def test_kind_from_filename_is_the_declared_kind(name, kind):
    assert kind_from_filename(name) == kind
