"""Test media for the tools, made by ffmpeg from its lavfi sources: no binaries are committed.

Clips are session-scoped (they are cheap to share but not free to make); tests must not change them.
"""

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import pytest

from beta.tool_settings import ToolSettings, render_template
from beta.tools.base import JobCanceled, ToolContext, ToolInput

FPS = 25
#: The cut clip: (lavfi source, frames) per shot, at 640x360 and 25 fps. Cuts fall at frames 50 and 90.
SHOTS = [("testsrc2", 50), ("smptebars", 40), ("mandelbrot", 50)]
CUT_FRAMES = [0, 50, 90, 140]  # shot boundaries: each shot's first frame, then the frame after the last
CUT_CLIP_TIMECODE = "01:00:00:00"
DROP_FRAME_TIMECODE = "00:59:59;28"  # two frames before the hour: the next minute (01:00) drops no numbers


def run_ffmpeg(*args: str) -> None:
    """Run the test suite's ffmpeg quietly; fail the test with ffmpeg's message if it fails."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg could not make test media: {result.stderr.strip()}")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def video_input(path: Path, filename: str = "A001.mp4", kind: str = "video") -> ToolInput:
    return ToolInput(path=path, kind=kind, filename=filename, sha256=sha256_of(path))


@dataclass
class ProgressRecorder:
    """A progress callback that keeps every call; raises JobCanceled once `cancel_at` percent is reached."""

    cancel_at: float | None = None
    calls: list[tuple[float, str, str | None]] = field(default_factory=list)

    def __call__(self, percent: float, stage: str = "", log: str | None = None) -> None:
        self.calls.append((percent, stage, log))
        if self.cancel_at is not None and percent >= self.cancel_at:
            raise JobCanceled()

    @property
    def percents(self) -> list[float]:
        return [call[0] for call in self.calls]

    @property
    def logs(self) -> str:
        return " ".join(call[2] for call in self.calls if call[2])


@pytest.fixture(scope="session")
def cut_clip(tmp_path_factory) -> Path:
    """5.6 s at 640x360, 25 fps, H.264 with a sine tone and a 01:00:00:00 timecode track; three shots (see SHOTS)."""
    path = tmp_path_factory.mktemp("media") / "cuts.mp4"
    inputs: list[str] = []
    for source, frames in SHOTS:
        inputs += ["-f", "lavfi", "-i", f"{source}=size=640x360:rate={FPS},trim=end_frame={frames}"]
    seconds = CUT_FRAMES[-1] / FPS
    inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    labels = "".join(f"[{i}:v]" for i in range(len(SHOTS)))
    run_ffmpeg(
        *inputs,
        "-filter_complex", f"{labels}concat=n={len(SHOTS)}:v=1:a=0,format=yuv420p[v]",
        "-map", "[v]", "-map", f"{len(SHOTS)}:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(FPS), "-c:a", "aac", "-threads", "2",
        "-metadata", f"timecode={CUT_CLIP_TIMECODE}",
        str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def dailies_clip(tmp_path_factory) -> Path:
    """3 s of testsrc2 at 854x480, 25 fps, with a sine tone and no timecode of its own: one shot."""
    path = tmp_path_factory.mktemp("media") / "dailies.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=854x480:rate={FPS}:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=3",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        "-threads", "2", str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory) -> Path:
    """20 s at 854x480 without audio: long enough that its encode is still running when a test cancels it."""
    path = tmp_path_factory.mktemp("media") / "long.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=854x480:rate={FPS}:duration=20",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "2", str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def drop_frame_clip(tmp_path_factory) -> Path:
    """2 s at 29.97 fps, 320x180, with a drop-frame timecode track: two shots of 30 frames (testsrc2, smptebars)."""
    path = tmp_path_factory.mktemp("media") / "drop_frame.mov"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30000/1001,trim=end_frame=30",
        "-f", "lavfi", "-i", "smptebars=size=320x180:rate=30000/1001,trim=end_frame=30",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", "-threads", "2", "-metadata", f"timecode={DROP_FRAME_TIMECODE}",
        str(path),
    )  # fmt: skip
    return path


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "notes.mp4"
    path.write_text("These are not moving pictures, just notes from the edit.\n" * 20, encoding="utf-8")
    return path


@pytest.fixture
def tool_context(tmp_path) -> ToolContext:
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    return ToolContext(work_dir=work_dir, studio_name="Northlight Pictures", job_label="job 1",
                       settings=ToolSettings(), render_template=render_template)
