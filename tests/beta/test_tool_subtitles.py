"""Subtitles to the Netflix English Timed Text Style Guide (beta/tools/subtitles.py, through beta/tools/transcribe.py).

Every rule is checked on real transcribed speech (espeak-ng, two voices, pauses between them; Whisper tiny.en word
timings), and the cue builder is tested alone on word timings written here.
"""

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import srt

from beta.tools.base import ToolContext
from beta.tools.subtitles import ARTICLES, SubtitleRules, Word, break_lines, build_cues
from beta.tools.transcribe import TranscribeTool
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input
from tests.conftest import skip_or_fail

FPS = 25
RULES = SubtitleRules()
#: (voice, text, silence after in seconds). The silences are pauses the subtitles must break at.
SPEECH = [
    ("en-us", "We will shoot the final scene at the harbor tomorrow morning before the rain comes in from the sea. "
              "Please bring the camera and two microphones.", 1.2),
    ("en-gb+f3", "The director wants a wide shot of the boats in the morning light. "
                 "Then we move inside for the interview with the captain.", 0.8),
    ("en-us", "Thank you all for your patience with the weather this week.", 0.6),
]  # fmt: skip
SPEECH_RATE = 140
LEAD_IN = 1.0


def _speak(voice: str, text: str, path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        skip_or_fail("espeak-ng is not installed (apt-get install -y espeak-ng)")
    subprocess.run([espeak, "-v", voice, "-s", str(SPEECH_RATE), "-w", str(path), text], check=True, timeout=60)


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory):
    """A 25 fps clip with the speech of SPEECH, and the (start, end) of each silence put between the utterances."""
    folder = tmp_path_factory.mktemp("dialogue")
    inputs, chain, pauses, at = [], "", [], LEAD_IN
    for index, (voice, text, silence) in enumerate(SPEECH):
        wav = folder / f"line{index}.wav"
        _speak(voice, text, wav)
        inputs += ["-i", str(wav)]
        chain += f"[{index}:a]aresample=48000,apad=pad_dur={silence}[a{index}];"
        at += _wav_seconds(wav)
        pauses.append((at, at + silence))
        at += silence
    total = at + 0.5
    labels = "".join(f"[a{i}]" for i in range(len(SPEECH)))
    clip = folder / "dialogue.mp4"
    run_ffmpeg(
        *inputs, "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={total}",
        "-filter_complex",
        f"{chain}{labels}concat=n={len(SPEECH)}:v=0:a=1,adelay={round(LEAD_IN * 1000)}:all=1,apad,atrim=0:{total}[a]",
        "-map", f"{len(SPEECH)}:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        "-threads", "2", str(clip),
    )  # fmt: skip
    work = folder / "work"
    work.mkdir()
    result = TranscribeTool().run(
        [video_input(clip, "dialogue.mp4")], {}, ProgressRecorder(), ToolContext(work_dir=work, studio_name="N")
    )
    cues = list(srt.parse(next(o for o in result.outputs if o.role == "srt").path.read_text(encoding="utf-8")))
    return cues, pauses[:-1]


def _seconds(cue) -> tuple[float, float]:
    return cue.start.total_seconds(), cue.end.total_seconds()


def test_the_dialogue_is_subtitled_in_several_cues(dialogue):
    cues, _ = dialogue
    assert len(cues) >= 5
    words = " ".join(cue.content.replace("\n", " ") for cue in cues).lower()
    for expected in ("harbor", "microphones", "director", "captain", "weather"):
        assert expected in words


def test_lines_are_at_most_42_characters_and_2_a_cue(dialogue):
    cues, _ = dialogue
    for cue in cues:
        lines = cue.content.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines), lines
    assert any(len(cue.content.split("\n")) == 2 for cue in cues)  # long sentences do take two lines


def test_cues_last_five_sixths_to_seven_seconds_two_frames_apart(dialogue):
    cues, _ = dialogue
    for cue in cues:
        start, end = _seconds(cue)
        assert 5 / 6 - 0.001 <= end - start <= 7.0  # SRT counts milliseconds
    for previous, cue in itertools.pairwise(cues):
        assert _seconds(cue)[0] - _seconds(previous)[1] >= 2 / FPS - 1e-6


def test_reading_speed_is_at_most_20_characters_a_second(dialogue):
    cues, _ = dialogue
    for cue in cues:
        start, end = _seconds(cue)
        assert len(cue.content.replace("\n", " ")) / (end - start) <= 20.0 + 1e-6, cue.content


def test_no_line_ends_with_an_article_and_two_line_breaks_fall_well(dialogue):
    cues, _ = dialogue
    for cue in cues:
        for line in cue.content.split("\n"):
            assert line.split()[-1].lower() not in ARTICLES, cue.content
        lines = cue.content.split("\n")
        if len(lines) == 2:
            # Whatever the break, the line break rules hold: the builder's own choice is reproduced from the text.
            assert break_lines(" ".join(lines), 42) == lines


def test_a_new_cue_starts_at_each_pause_and_sentence_end(dialogue):
    cues, pauses = dialogue
    for pause_start, pause_end in pauses:
        # No cue holds words from both sides of a pause (a cue may stay up into the silence).
        assert not any(_seconds(c)[0] < pause_start - 0.3 and _seconds(c)[1] > pause_end + 0.3 for c in cues)
    for cue in cues:
        text = cue.content.replace("\n", " ")
        # A sentence end inside a cue: only where the next sentence followed too fast to show this one alone.
        assert not re.search(r"[.!?] \w", text), text


# The cue builder alone ----------------------------------------------------------------------------------------------


def words_at(text: str, start: float, step: float = 0.3, length: float = 0.25) -> list[Word]:
    return [Word(start + i * step, start + i * step + length, f" {w}") for i, w in enumerate(text.split())]


def test_a_sentence_end_starts_a_new_cue_when_timing_allows():
    words = words_at("We start at dawn. The crew arrives later.", 0.0)
    cues = build_cues(words, RULES, fps=25, duration=10)
    assert [" ".join(c.lines) for c in cues] == ["We start at dawn.", "The crew arrives later."]


def test_a_sentence_end_too_soon_to_show_alone_stays_with_the_next():
    # "Go." lasts 0.25 s and the next word follows at once: alone it could not be shown for 5/6 s.
    words = words_at("Go. The crew arrives later.", 0.0, step=0.26)
    cues = build_cues(words, RULES, fps=25, duration=10)
    assert [" ".join(c.lines) for c in cues] == ["Go. The crew arrives later."]


def test_a_pause_over_half_a_second_starts_a_new_cue():
    words = words_at("Keep rolling", 0.0) + words_at("and cut", 0.3 + 0.25 + 0.6)
    cues = build_cues(words, RULES, fps=25, duration=10)
    assert [" ".join(c.lines) for c in cues] == ["Keep rolling", "and cut"]
    assert cues[1].start - cues[0].end >= 2 / 25
    # A shorter pause does not.
    words = words_at("Keep rolling", 0.0) + words_at("and cut", 0.3 + 0.25 + 0.4)
    assert len(build_cues(words, RULES, fps=25, duration=10)) == 1


def test_an_article_is_never_split_from_its_noun():
    # Balanced halves would end the first line with "the"; the break moves.
    lines = break_lines("She walked slowly down to the old harbour the lighthouse keeper", 42)
    assert len(lines) == 2
    assert all(line.split()[-1] not in ARTICLES for line in lines)
    assert break_lines("We meet at the harbour, then we drive to the hotel", 42) == [
        "We meet at the harbour,", "then we drive to the hotel",
    ]  # fmt: skip


def test_a_full_cue_carries_its_last_article_to_the_next():
    # 84 characters fill two lines just before "the": the article goes with its noun into the next cue.
    text = "Everyone should gather near the loading dock when the trucks arrive with the equipment the morning"
    cues = build_cues(words_at(text, 0.0, step=0.2, length=0.18), RULES, fps=25, duration=30)
    for cue in cues:
        assert cue.lines[-1].split()[-1] not in ARTICLES
        assert len(cue.lines) <= 2
        assert all(len(line) <= 42 for line in cue.lines)
    assert " ".join(" ".join(c.lines) for c in cues) == text


def test_short_words_are_held_for_the_minimum_and_their_reading_time():
    cues = build_cues(words_at("Yes.", 1.0, length=0.2) + words_at("Absolutely everyone in position now please.", 5.0),
                      RULES, fps=24000 / 1001, duration=10)  # fmt: skip
    assert cues[0].end - cues[0].start >= 5 / 6 - 0.001
    second = cues[1]
    assert len(" ".join(second.lines)) / (second.end - second.start) <= 20


def test_the_minimum_pushes_the_next_cue_two_frames_later():
    words = [Word(0.0, 0.2, " Stop."), Word(0.5, 0.9, " Everyone"), Word(0.9, 1.4, " back.")]
    cues = build_cues(words, RULES, fps=25, duration=5)
    # "Stop." cannot be shown alone for 5/6 s before 0.5 s: it stays with the next words.
    assert [" ".join(c.lines) for c in cues] == ["Stop. Everyone back."]
    rules = SubtitleRules(pause_seconds=0.2)  # a pause rule that forces the break
    cues = build_cues(words, rules, fps=25, duration=5)
    assert cues[0].end - cues[0].start >= 5 / 6 - 0.001
    assert cues[1].start - cues[0].end >= 2 / 25 - 1e-6


def test_the_rules_come_from_settings():
    rules = SubtitleRules.from_settings({"SUBTITLE_MAX_LINE_CHARS": 32, "SUBTITLE_MAX_CHARS_PER_SECOND": 17})
    assert (rules.max_line_chars, rules.max_chars_per_second, rules.max_lines) == (32, 17.0, 2)
    from beta.tool_settings import ToolSettings

    assert SubtitleRules.from_settings(ToolSettings()) == SubtitleRules()  # the defaults are the guide's
