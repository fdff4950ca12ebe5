"""Test media, made by ffmpeg from its built-in sources (testsrc2, smptehdbars, sine) or written here: no binaries are
committed. Files are session-scoped where they are cheap to share; tests must not change them."""

import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import pytest

FOUNTAIN_SCRIPT = """\
Title: The Long Take
Credit: Written by
Author: A. Partner

INT. EDIT SUITE - NIGHT

Monitors glow. MAYA (40s) scrubs through a shot, frame by frame.

MAYA
Again. From the top of the slate.

EXT. BACKLOT - CONTINUOUS

Rain machines hiss into life.

CUT TO:
"""

MakeMedia = Callable[..., Path]


def run_ffmpeg(*args: str) -> None:
    """Run the test suite's ffmpeg quietly; fail the test with ffmpeg's message if it fails."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg could not make test media: {result.stderr.strip()}")


def lavfi_video(size: str, seconds: float, rate: int = 25, source: str = "testsrc2") -> list[str]:
    return ["-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}:duration={seconds}"]


def lavfi_sine(seconds: float, frequency: int = 440, sample_rate: int = 48000) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate={sample_rate}:duration={seconds}"]


H264_AAC = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", "-threads", "2"]  # fmt: skip


def pdf_bytes(text: str = "Call sheet") -> bytes:
    """A minimal valid one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_media(media_dir) -> MakeMedia:
    """make_media(name, *ffmpeg_args) -> path: the file `name` made once per session by ffmpeg from `ffmpeg_args`."""

    def make(name: str, *args: str) -> Path:
        path = media_dir / name
        if not path.exists():
            run_ffmpeg(*args, str(path))
        return path

    return make


@pytest.fixture(scope="session")
def sample_video(make_media) -> Path:
    """3 s, 640x360, 25 fps test pattern with a 440 Hz tone: H.264/AAC in MP4."""
    return make_media("sample.mp4", *lavfi_video("640x360", 3), *lavfi_sine(3), *H264_AAC)


@pytest.fixture(scope="session")
def sample_video_720p(make_media) -> Path:
    """2 s, 1280x720, 25 fps colour bars with a tone: H.264/AAC in MP4 (the source for proxies and contact sheets)."""
    return make_media(
        "sample-720p.mp4", *lavfi_video("1280x720", 2, source="smptehdbars"), *lavfi_sine(2, 1000), *H264_AAC
    )


@pytest.fixture(scope="session")
def sample_mov(make_media) -> Path:
    """2 s, 320x180, 24 fps ProRes 422 Proxy with 16-bit PCM audio in a QuickTime movie."""
    return make_media(
        "sample.mov",
        *lavfi_video("320x180", 2, rate=24),
        *lavfi_sine(2),
        *["-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le", "-shortest", "-f", "mov"],
    )


@pytest.fixture(scope="session")
def sample_image_jpeg(make_media) -> Path:
    """A 640x480 JPEG still."""
    return make_media("still.jpg", *lavfi_video("640x480", 1), "-frames:v", "1", "-pix_fmt", "yuvj420p")


@pytest.fixture(scope="session")
def sample_image_png(make_media) -> Path:
    """A 333x187 PNG still (odd sides on purpose: renditions must come out even)."""
    return make_media("still.png", *lavfi_video("333x187", 1, source="smptehdbars"), "-frames:v", "1")


@pytest.fixture(scope="session")
def sample_audio_wav(make_media) -> Path:
    """1 s of a 440 Hz tone, 16-bit PCM WAV."""
    return make_media("tone.wav", *lavfi_sine(1), "-c:a", "pcm_s16le")


@pytest.fixture(scope="session")
def sample_fountain(media_dir) -> Path:
    """A short screenplay in Fountain, with a title page and two scene headings."""
    path = media_dir / "the-long-take.fountain"
    path.write_text(FOUNTAIN_SCRIPT, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample_pdf(media_dir) -> Path:
    path = media_dir / "call-sheet.pdf"
    path.write_bytes(pdf_bytes())
    return path


@pytest.fixture(scope="session")
def fake_video_text(media_dir) -> Path:
    """A text file named like a video: the name must not make it one."""
    path = media_dir / "plate.mp4"
    path.write_text("This is not really a plate, just a note someone renamed.\n", encoding="utf-8")
    return path
