"""The ffmpeg executable and running it: arguments for local inputs, a quick run, a run reporting progress, and
an atomic run that writes a file beside its destination and moves it into place.

ffmpeg is the static build that the `imageio-ffmpeg` package ships (it has no ffprobe: probing is PyAV's job, in
`media.probe`). Every function takes paths we chose, never a partner's string, and passes them with the `file:`
protocol so that no name is read as an ffmpeg protocol or option. Failures raise `MediaError`, whose message a partner
can read; ffmpeg's own words are kept in `MediaError.detail` for the logs.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import imageio_ffmpeg

from media.errors import MediaError

#: The workers have two cores: one ffmpeg should not take more.
THREADS = 2

UNAVAILABLE = "Media processing is not available right now. Please try again later."
TIMED_OUT = "Processing this file took too long and was stopped. Please try again later, or ask us for help."


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary (imageio-ffmpeg's own, or the one named by IMAGEIO_FFMPEG_EXE)."""
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def encoders() -> frozenset[str]:
    """The names of the encoders this ffmpeg build has (`ffmpeg -encoders`), read once per process."""
    result = run(["-encoders"], timeout=30)
    if result.returncode != 0:
        raise MediaError(UNAVAILABLE, detail=last_lines(result.stderr))
    return parse_encoders(result.stdout)


def parse_encoders(listing: str) -> frozenset[str]:
    """The encoder names in `ffmpeg -encoders` output: the second word of each line after the "------" rule."""
    _, _, table = listing.partition("------")
    names = (line.split()[1] for line in table.splitlines() if len(line.split()) >= 2)
    return frozenset(names)


def input_args(path: Path) -> list[str]:
    """`-i` for a local file, read with at most THREADS decoder threads and only through the `file` protocol."""
    # -threads before -i sets the decoder's threads; `file:` stops a name such as "a:b.mov" being read as a protocol,
    # and the protocol whitelist stops a file (a playlist, say) making ffmpeg open anything but local files.
    return ["-threads", str(THREADS), "-protocol_whitelist", "file", "-i", f"file:{Path(path).resolve()}"]


def output_arg(path: Path) -> str:
    return f"file:{Path(path).resolve()}"


def command(args: Sequence[str]) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]


def run(args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg to the end (or `timeout`), capturing its output as text."""
    try:
        return subprocess.run(  # noqa: S603 (a list of our own arguments, no shell)
            command(args), capture_output=True, text=True, errors="replace", timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError(TIMED_OUT, detail=f"timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise MediaError(UNAVAILABLE, detail=str(exc)) from exc


def run_with_progress(
    args: Sequence[str], *, timeout: float, progress: Callable[[float], None], duration: float | None
) -> tuple[int, str]:
    """Run ffmpeg (with `-progress pipe:1` among `args`): report out_time / duration to `progress` in this thread.

    A reader thread only moves lines into a queue, so the callback (which may use the database) runs in the caller's
    thread, and the deadline is kept even when ffmpeg goes quiet. stderr goes to a file: a pipe nobody reads could
    fill and stall ffmpeg. Returns (exit code, stderr).
    """
    deadline = time.monotonic() + timeout
    lines: queue.Queue[str | None] = queue.Queue()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        process = _start(args, stderr)
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            _follow_progress(lines, deadline, timeout, progress, duration)
            returncode = process.wait(timeout=max(deadline - time.monotonic(), 1.0))
        except subprocess.TimeoutExpired as exc:
            raise MediaError(TIMED_OUT, detail=f"timed out after {timeout:g} s") from exc
        finally:
            _stop(process, reader)
        stderr.seek(0)
        return returncode, stderr.read()


def run_to(
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
        full = ["-loglevel", "error", *args, output_arg(tmp)]
        if progress is None:
            result = run(full, timeout=timeout)
            returncode, stderr = result.returncode, result.stderr
        else:
            returncode, stderr = run_with_progress(full, timeout=timeout, progress=progress, duration=duration)
        if returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            raise MediaError(
                f"We could not make {what} from this file. It may be damaged or use a format we do not support.",
                detail=last_lines(stderr),
            )
        tmp.replace(dest)
        if progress is not None:
            progress(1.0)
    finally:
        tmp.unlink(missing_ok=True)


def last_lines(text: str, count: int = 5) -> str:
    return "\n".join(line for line in text.strip().splitlines()[-count:])


# Internals -----------------------------------------------------------------------------------------------------------


def _start(args: Sequence[str], stderr: IO[str]) -> subprocess.Popen[str]:
    try:
        return subprocess.Popen(  # noqa: S603 (a list of our own arguments, no shell)
            command(args), stdout=subprocess.PIPE, stderr=stderr, text=True, errors="replace"
        )
    except OSError as exc:
        raise MediaError(UNAVAILABLE, detail=str(exc)) from exc


def _follow_progress(
    lines: queue.Queue[str | None],
    deadline: float,
    timeout: float,
    progress: Callable[[float], None],
    duration: float | None,
) -> None:
    """Read `-progress` lines until ffmpeg closes its output, reporting each new fraction; keep the deadline."""
    reported = 0.0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MediaError(TIMED_OUT, detail=f"timed out after {timeout:g} s")
        try:
            line = lines.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            continue
        if line is None:
            return
        fraction = _fraction(line, duration)
        if fraction > reported:
            reported = fraction
            progress(fraction)


def _fraction(line: str, duration: float | None) -> float:
    """The share done that an `out_time_us=` line tells (0 for any other line), below 1 until ffmpeg is done."""
    key, _, value = line.strip().partition("=")
    if key != "out_time_us" or not duration or not value.lstrip("-").isdigit():
        return 0.0
    return min(max(int(value) / 1_000_000 / duration, 0.0), 0.999)


def _stop(process: subprocess.Popen[str], reader: threading.Thread) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    reader.join(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    with contextlib.suppress(ValueError, OSError):  # the pipe is closed under us when ffmpeg is stopped
        for line in stream:
            lines.put(line)
    lines.put(None)
