"""Transcription benchmark: seconds of processing per minute of media for the `transcribe` tool on the CPU.

    .venv/bin/python bench/transcribe_bench.py [--minutes 1 5] [--runs 3] [--variants]

Inputs are made here the way the tests make theirs (no media is committed): speech from Debian's espeak-ng (en-us,
130 words a minute) mixed into a lavfi testsrc2 video (640x360, 25 fps, H.264/AAC) with the imageio-ffmpeg binary.

- "test input": the clip of tests/beta/test_tool_transcribe.py (three sentences from 1.5 s, 15 s long);
- "N min": a scene of N minutes: twelve lines of dialogue, each followed by a pause of 0.6-2.0 s, repeated to fill
  the time (about 75% of it is speech, like a dialogue scene).

For each input the tool runs in this process exactly as a worker runs it (`TranscribeTool().run`, default parameters:
word timings on, silence skipped). The first run in the process also loads the model (SHA-256 check of its four files,
then CTranslate2 loading); that cost is reported apart, and every timed run after it uses the loaded model, as a
worker's second and later jobs do. Reported per input: wall seconds (median of --runs), seconds per minute of media,
the share of the time in taking out the sound, in Whisper and in writing the files (from the tool's progress calls),
the word error rate against the script, and the process's peak RSS. --variants also times word timings off and silence
skipping off on the first input.
"""

from __future__ import annotations

import argparse
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import imageio_ffmpeg  # noqa: E402

from beta.tools import whisper_model  # noqa: E402
from beta.tools.base import ToolContext, ToolInput  # noqa: E402
from beta.tools.transcribe import TranscribeTool  # noqa: E402

TEST_SPOKEN = (
    "The quick brown fox jumps over the lazy dog. "
    "We will shoot the final scene at the harbor tomorrow morning. "
    "Please bring the camera and two microphones."
)
SCENE = [
    "Where were you last night?",
    "I was at the harbor, waiting for the boat that never came.",
    "You said that last time, and the time before.",
    "This time it is true. Ask the harbor master if you do not believe me.",
    "I already did. He says nobody has seen you there for a week.",
    "Then he is lying, or he is afraid of someone.",
    "Afraid of whom?",
    "The people who own the boat. They pay him to forget things.",
    "And what do they pay you for?",
    "Nothing. I only wanted to get out of this town before the winter.",
    "We could still leave together, if you tell me the truth.",
    "Tomorrow morning, then. Bring the camera and the two microphones.",
]
PAUSES = [0.6, 1.2, 0.8, 2.0, 0.7, 1.5, 0.6, 1.0, 0.9, 1.8, 0.7, 1.4]
RATE = 130
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def speak(text: str, dest: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(RATE), "-w", str(dest), text], check=True)


def make_test_clip(folder: Path) -> tuple[Path, str]:
    speech = folder / "test_speech.wav"
    speak(TEST_SPOKEN, speech)
    clip = folder / "test_input.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=15", "-i", str(speech),
           "-filter_complex", "[1:a]aresample=48000,adelay=1500:all=1,apad,atrim=0:15[a]",
           "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "96k", "-threads", "2", str(clip))  # fmt: skip
    return clip, TEST_SPOKEN


def make_scene_clip(folder: Path, minutes: float) -> tuple[Path, str]:
    """A dialogue scene of `minutes`: the SCENE lines with their pauses, repeated, as 16 kHz speech in a video."""
    lines = []
    for index, line in enumerate(SCENE):
        wav = folder / f"line{index:02d}.wav"
        if not wav.exists():
            speak(line, wav)
        lines.append(wav)
    # One pass of the scene as raw 16 kHz mono samples, then repeated.
    one_pass = folder / "scene_pass.wav"
    inputs, chains = [], []
    for index, wav in enumerate(lines):
        inputs += ["-i", str(wav)]
        chains.append(f"[{index}:a]aresample=16000,apad=pad_dur={PAUSES[index]}[s{index}]")
    labels = "".join(f"[s{i}]" for i in range(len(lines)))
    ffmpeg(*inputs, "-filter_complex", ";".join([*chains, f"{labels}concat=n={len(lines)}:v=0:a=1[a]"]),
           "-map", "[a]", "-ac", "1", "-ar", "16000", str(one_pass))  # fmt: skip
    seconds = minutes * 60
    clip = folder / f"scene_{minutes:g}min.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}",
           "-stream_loop", "-1", "-i", str(one_pass),
           "-map", "0:v", "-map", "1:a", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-threads", "2", str(clip))  # fmt: skip
    with wave.open(str(one_pass), "rb") as handle:
        pass_seconds = handle.getnframes() / handle.getframerate()
    repeats = seconds / pass_seconds
    script = " ".join(SCENE)
    whole, part = int(repeats), repeats - int(repeats)
    # The reference is what is audible: whole passes, then the lines that fit in the rest (an approximation at the cut).
    spoken = " ".join([script] * whole)
    if part > 0:
        spoken += " " + " ".join(SCENE[: int(len(SCENE) * part)])
    return clip, spoken.strip()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words_of(reference), words_of(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / max(len(ref), 1)


def run_once(clip: Path, params: dict, work: Path) -> dict:
    """One run of the tool; stage times from the progress calls."""
    marks: list[tuple[float, str]] = []

    def progress(percent, stage="", log=None):
        marks.append((time.perf_counter(), stage))

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    tool_input = ToolInput(clip, "video", clip.name, "")
    result = TranscribeTool().run([tool_input], params, progress, ToolContext(work, "Bench"))
    ended = time.perf_counter()

    def first(prefix: str) -> float:
        return next((t for t, stage in marks if stage.startswith(prefix)), ended)

    loading, transcribing, writing = first("Loading"), first("Transcribing"), first("Writing")
    text = " ".join(line["text"] for line in result.summary["lines"])
    return {
        "wall": ended - started,
        "extract": loading - started,
        "load": transcribing - loading,
        "whisper": writing - transcribing,
        "write": ended - writing,
        "duration": result.summary["duration"],
        "text": text,
        "segments": result.summary["segment_count"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="*", default=[1.0, 5.0], help="scene lengths (minutes)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per input (median reported)")
    parser.add_argument("--variants", action="store_true", help="also time word timings off and silence skipping off")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is needed (apt-get install -y espeak-ng)")

    with tempfile.TemporaryDirectory(prefix="gl-transcribe-bench-") as tmp:
        folder = Path(tmp)
        made = time.perf_counter()
        inputs = [("test input (15 s)", *make_test_clip(folder))]
        inputs += [(f"{m:g} min scene", *make_scene_clip(folder, m)) for m in args.minutes]
        print(f"inputs made in {time.perf_counter() - made:.1f} s")

        started = time.perf_counter()
        whisper_model.load_model()
        load_seconds = time.perf_counter() - started
        print(f"model: first load (SHA-256 of 4 files, 78 MB, then CTranslate2 int8) {load_seconds:.2f} s; "
              "later jobs in the same process reuse it")  # fmt: skip
        started = time.perf_counter()
        whisper_model.verify_model_dir(whisper_model.default_model_dir())
        print(f"model: SHA-256 check alone {time.perf_counter() - started:.2f} s")

        rows = []
        variants = [("default", {})]
        if args.variants:
            variants += [("word timings off", {"word_timings": False}), ("silence kept", {"skip_silence": False})]
        for label, clip, spoken in inputs:
            for variant, params in variants if label.startswith("test") else variants[:1]:
                runs = [run_once(clip, params, folder / "work") for _ in range(args.runs)]
                wall = statistics.median(r["wall"] for r in runs)
                duration = runs[0]["duration"]
                middle = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
                wer = word_error_rate(spoken, runs[0]["text"])
                rows.append((label, variant, duration, wall, middle, wer, [r["wall"] for r in runs]))
                walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
                print(f"{label:18} {variant:17} {duration:7.1f} s media  wall {wall:6.2f} s "
                      f"({walls})  {wall / (duration / 60):5.2f} s per minute  "
                      f"extract {middle['extract']:.2f}  whisper {middle['whisper']:.2f}  write {middle['write']:.3f}  "
                      f"WER {wer:.3f}  segments {runs[0]['segments']}", flush=True)  # fmt: skip

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak:.0f} MiB")
        print()
        print("| input | parameters | media | wall (median) | seconds per minute of media | sound / Whisper / files "
              "| WER |")  # fmt: skip
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, variant, duration, wall, middle, wer, walls in rows:
            print(f"| {label} | {variant} | {duration:.1f} s | {wall:.2f} s ({min(walls):.2f} to {max(walls):.2f}) | "
                  f"**{wall / (duration / 60):.2f}** | {middle['extract']:.2f} / {middle['whisper']:.2f} / "
                  f"{middle['write']:.3f} s | {wer:.3f} |")  # fmt: skip
        print()
        print(f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
              f"{platform.system()} {platform.release()}")  # fmt: skip


if __name__ == "__main__":
    main()
