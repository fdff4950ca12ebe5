"""Subtitle cues from word timings, to the Netflix English (USA) Timed Text Style Guide.

The rules (`SubtitleRules`, from the deployment's SUBTITLE_* settings; the guide's values by default):
- at most 42 characters a line and 2 lines a cue;
- a cue lasts from 5/6 s to 7 s, and cues are at least 2 frames apart;
- reading speed at most 20 characters a second (spaces counted, the line break not);
- a new cue at every pause longer than half a second, and at every sentence end where timing allows (the sentence's
  cue can stay up for the minimum duration before the next words start);
- lines break after punctuation or before a conjunction or preposition where they can, never between an article and
  its noun (nor after any other word that leans on the next: "of", "to", "my"...), and as evenly as that allows.

Cues are built in two passes: words are grouped into cues (layout and the hard breaks), then the groups are timed.
A cue starts with its first word and stays up for its words, longer if the minimum duration or the reading speed asks
for it and the next cue leaves room (2 frames before it). Reading speed is met by display time only, never by
cutting words: speech faster than 20 characters a second gives cues over the limit (the transcript is verbatim).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
_CLAUSE_PUNCTUATION = re.compile(r"[,;:.!?…\-\u2013\u2014]['\")\]]*$")
ARTICLES = frozenset({"a", "an", "the"})
#: Words that lean on the next one: a line never ends with them.
_LEANING = ARTICLES | frozenset(
    {"my", "your", "his", "her", "its", "our", "their", "this", "that", "these", "those", "of", "to", "no", "every"}
)
CONJUNCTIONS = frozenset({"and", "but", "or", "nor", "so", "yet", "because", "although", "while", "if", "when", "that"})
PREPOSITIONS = frozenset(
    {"about", "above", "across", "after", "against", "along", "among", "around", "at", "before", "behind", "below",
     "beneath", "beside", "between", "beyond", "by", "down", "during", "for", "from", "in", "inside", "into", "near",
     "of", "off", "on", "onto", "out", "over", "past", "since", "through", "to", "toward", "towards", "under", "until",
     "up", "upon", "with", "within", "without"}
)  # fmt: skip

FORBIDDEN = 1000

#: The settings that hold the rules, and the guide's values used when a setting is absent.
SETTING_DEFAULTS: dict[str, float] = {
    "SUBTITLE_MAX_LINE_CHARS": 42,
    "SUBTITLE_MAX_LINES": 2,
    "SUBTITLE_MIN_SECONDS": 5 / 6,
    "SUBTITLE_MAX_SECONDS": 7.0,
    "SUBTITLE_MIN_GAP_FRAMES": 2,
    "SUBTITLE_MAX_CHARS_PER_SECOND": 20.0,
    "SUBTITLE_PAUSE_SECONDS": 0.5,
}


@dataclass(frozen=True)
class SubtitleRules:
    max_line_chars: int = 42
    max_lines: int = 2
    min_seconds: float = 5 / 6
    max_seconds: float = 7.0
    min_gap_frames: int = 2
    max_chars_per_second: float = 20.0
    pause_seconds: float = 0.5

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SubtitleRules:
        def value(name: str) -> float:
            return float(settings.get(name, SETTING_DEFAULTS[name]))

        return cls(
            max_line_chars=int(value("SUBTITLE_MAX_LINE_CHARS")),
            max_lines=int(value("SUBTITLE_MAX_LINES")),
            min_seconds=value("SUBTITLE_MIN_SECONDS"),
            max_seconds=value("SUBTITLE_MAX_SECONDS"),
            min_gap_frames=int(value("SUBTITLE_MIN_GAP_FRAMES")),
            max_chars_per_second=value("SUBTITLE_MAX_CHARS_PER_SECOND"),
            pause_seconds=value("SUBTITLE_PAUSE_SECONDS"),
        )


@dataclass
class Word:
    start: float
    end: float
    text: str  # with its leading space, as Whisper gives it
    probability: float = 0.0


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]

    @property
    def chars(self) -> int:
        """Characters read: the lines joined by a space."""
        return len(" ".join(self.lines))


# Lines ---------------------------------------------------------------------------------------------------------------


def _bare(word: str) -> str:
    return word.strip().strip("\"'()[]").lower()


def _break_penalty(before: str, after: str) -> int:
    """How bad a line break between two words is: 0 after punctuation, small before a conjunction or preposition,
    forbidding after an article (or another word leaning on the next)."""
    if _CLAUSE_PUNCTUATION.search(before):
        return 0
    if _bare(before) in _LEANING:
        return FORBIDDEN
    if _bare(after) in CONJUNCTIONS or _bare(after) in PREPOSITIONS:
        return 4
    return 12


def break_lines(text: str, width: int, max_lines: int = 2) -> list[str]:
    """Text as subtitle lines of at most `width` characters: one line if it fits, else two, broken at the best place
    (see _break_penalty) and as evenly as that allows. Text that fits no two lines with an allowed break is wrapped
    greedily into more (so `fits` refuses it and the cue closes earlier)."""
    words = text.split()
    if not words:
        return []
    joined = " ".join(words)
    if len(joined) <= width:
        return [joined]
    if max_lines >= 2:
        best: tuple[int, list[str]] | None = None
        for cut in range(1, len(words)):
            first, second = " ".join(words[:cut]), " ".join(words[cut:])
            penalty = _break_penalty(words[cut - 1], words[cut])
            if len(first) <= width and len(second) <= width and penalty < FORBIDDEN:
                score = penalty + abs(len(first) - len(second))
                if best is None or score < best[0]:
                    best = (score, [first, second])
        if best is not None:
            return best[1]
    lines: list[list[str]] = [[]]
    for word in words:
        line = lines[-1]
        if line and len(" ".join([*line, word])) > width:
            carried = [line.pop()] if len(line) > 1 and _bare(line[-1]) in _LEANING else []
            lines.append([*carried, word])
        else:
            line.append(word)
    return [" ".join(line) for line in lines]


def fits(text: str, rules: SubtitleRules) -> bool:
    lines = break_lines(text, rules.max_line_chars, rules.max_lines)
    return len(lines) <= rules.max_lines and all(len(line) <= rules.max_line_chars for line in lines)


# Cues ----------------------------------------------------------------------------------------------------------------


def joined(words: list[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())


def build_cues(words: list[Word], rules: SubtitleRules, *, fps: float, duration: float) -> list[Cue]:
    """Subtitle cues for `words` (in order) in media of `duration` seconds whose frames last 1/fps."""
    words = [w for w in words if w.text.strip()]
    groups = group_words(words, rules)
    return time_groups(groups, rules, gap=rules.min_gap_frames / fps, duration=max(duration, 0.0))


def group_words(words: list[Word], rules: SubtitleRules) -> list[list[Word]]:
    """Words in cues: a cue closes at a pause, at a sentence end where timing allows, and before a word that would
    break the layout or the maximum duration (then without leaving an article at its end)."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        if current and not _can_take(current, word, rules):
            carried = _carry_leaning(current)
            groups.append(current)
            current = carried
        current.append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        if following is not None and _closes_after(current, word, following, rules):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _can_take(current: list[Word], word: Word, rules: SubtitleRules) -> bool:
    """Whether a cue can take one more word: its lines, its duration, and its reading time within the maximum."""
    text = joined([*current, word])
    return (
        fits(text, rules)
        and word.end - current[0].start <= rules.max_seconds
        and len(text) / rules.max_chars_per_second <= rules.max_seconds
    )


def _carry_leaning(current: list[Word]) -> list[Word]:
    """Words at the end of a full cue that lean on the next (an article): moved to the next cue with their noun."""
    carried: list[Word] = []
    while len(current) > 1 and _bare(current[-1].text) in _LEANING:
        carried.insert(0, current.pop())
    return carried


def _closes_after(current: list[Word], word: Word, following: Word, rules: SubtitleRules) -> bool:
    if following.start - word.end > rules.pause_seconds:
        return True
    if SENTENCE_END.search(word.text.strip()):
        # Timing allows a new cue when this one can stay up for its minimum (and its reading time) before the next.
        room = following.start - current[0].start
        needed = max(rules.min_seconds, len(joined(current)) / rules.max_chars_per_second)
        return room >= needed
    return False


def time_groups(groups: list[list[Word]], rules: SubtitleRules, *, gap: float, duration: float) -> list[Cue]:
    """Times for each group: from its first word (or `gap` after the previous cue) for its words, its minimum
    duration and its reading time, up to `gap` before the next group's first word and at most the maximum duration.
    The minimum duration may push the next cue's start a little later; where that runs past the end of the media, the
    last cues are drawn back inside it (no words are dropped)."""
    spans: list[tuple[float, float]] = []
    previous_end = -math.inf
    for index, group in enumerate(groups):
        start = max(group[0].start, previous_end + gap, 0.0)
        needed = max(rules.min_seconds, len(joined(group)) / rules.max_chars_per_second)
        end = min(max(group[-1].end, start + needed), start + rules.max_seconds)
        if index + 1 < len(groups):
            end = max(min(end, groups[index + 1][0].start - gap), start + rules.min_seconds)
        spans.append((start, end))
        previous_end = end
    spans = _inside_media(spans, [g[0].start for g in groups], rules, gap=gap, duration=duration)
    return [
        Cue(_ms_ceil(start), _ms_floor(end), break_lines(joined(group), rules.max_line_chars, rules.max_lines))
        for group, (start, end) in zip(groups, spans, strict=True)
    ]


def _inside_media(
    spans: list[tuple[float, float]], first_words: list[float], rules: SubtitleRules, *, gap: float, duration: float
) -> list[tuple[float, float]]:
    """Spans drawn back, from the last, so that they end by `duration` and before the next one's start less `gap`.
    A span drawn back may start earlier to keep its minimum, but not before its first word is spoken; the media's
    last moments may then hold shorter cues, never empty or overlapping ones."""
    inside: list[tuple[float, float]] = []
    limit = duration
    for (start, end), spoken in zip(reversed(spans), reversed(first_words), strict=True):
        end = min(end, limit)
        start = min(start, max(end - rules.min_seconds, min(spoken, start)))
        start = min(start, end - 0.002)
        inside.append((max(start, 0.0), end))
        limit = start - gap
    return inside[::-1]


def _ms_ceil(seconds: float) -> float:
    return math.ceil(round(seconds * 1000, 6)) / 1000


def _ms_floor(seconds: float) -> float:
    return math.floor(round(seconds * 1000, 6)) / 1000
