"""Script breakdown: scenes, cast and locations of a screenplay, with page lengths in eighths, and a stripboard.

The screenplay is parsed with `screenplay-tools` (Fountain plain text; Final Draft `.fdx` through the same package's
FDX reader). From its elements we build:

- scenes: number (the script's own `#12#` scene number when given, else the running count), INT/EXT (`INT.`,
  `EXT.`, `INT./EXT.`, `INT/EXT`, `EXT./INT.`, `I/E`, `EST.`; a forced heading without a prefix has none), location,
  time of day, length in eighths of a page, characters appearing and characters speaking;
- characters: scenes they appear in, speeches (cues), dialogue lines, first appearance;
- locations: the scenes set there.

How length is measured (PAGE_LINES printed lines make a page, as a screenplay prints in 12-point Courier):

- every element counts the lines it would print: scene headings and action wrap at ACTION_WIDTH characters,
  dialogue and lyrics at DIALOGUE_WIDTH, parentheticals (with their brackets) at PARENTHETICAL_WIDTH; a character
  cue and a transition are one line each; an empty line inside an action paragraph or a speech is one line;
- each block (a heading, an action paragraph, a speech from its cue to its last line, a transition, a run of
  lyrics) is preceded by one blank line, which counts;
- dual dialogue (a cue ending in `^`) prints beside the speech before it, so the pair counts as the longer speech;
- notes `[[...]]`, boneyard `/* ... */`, sections `#`, synopses `=`, page breaks and the title page print nothing
  and count nothing; anything before the first scene heading belongs to no scene;
- a scene runs from its heading to the next heading. Its eighths are lines * 8 / PAGE_LINES rounded to the nearest
  whole eighth, halves up (integer arithmetic: (16 * lines + 55) // 110), and never less than 1/8.

Characters are the names on dialogue cues without their extensions: `MARY (V.O.)`, `MARY (O.S.)` and
`MARY (CONT'D)` are all MARY (the extensions seen are listed). A forced name keeps its spelling (`@McCLANE` is
McCLANE); names differing only in case are one character, spelled as first seen. A character appears in a scene
where they speak, or where the scene's action names them in capitals (MARY) or in title case (Mary) as a whole word.
Characters who never speak are not tracked as cast (their names cannot be told from other capitals in action).

Text: emphasis markup (`*italic*`, `**bold**`, `***both***`, `_underline_`) is removed from every text field; notes
`[[...]]`, boneyard `/* ... */`, centred text `> ... <` and transitions are never read for cast or elements. The
title page gives Title, Credit, Author(s), Source, Draft date and Contact.

Breakdown elements (`beta.tools.breakdown_elements`): cast, background, stunts, vehicles, props, weapons, wardrobe,
makeup and hair, animals, special and visual effects, sound and music, set dressing, each with its sheet colour and
the scenes it is in, found from capitalised words in action and a keyword dictionary staff extend in settings.

The report (HTML, and PDF through WeasyPrint) holds a stripboard (a strip per scene coloured INT day white, EXT day
yellow, INT night blue, EXT night green, with cast numbers), a cast-by-scene matrix, and a breakdown sheet per scene.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from beta.tools import breakdown_elements as elements_mod
from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult
from beta.tools.common import one_line, safe_stem

PAGE_LINES = 55
ACTION_WIDTH = 61
DIALOGUE_WIDTH = 35
PARENTHETICAL_WIDTH = 26
#: Larger than any screenplay (a 200-page script is about 350 KB): refuse rather than parse megabytes of text.
MAX_SCRIPT_BYTES = 10 * 1024 * 1024

INT_EXT_LABELS = {"INT": "Interior", "EXT": "Exterior", "INT/EXT": "Interior/exterior", "EST": "Establishing"}
TIMES_OF_DAY = {
    "DAY", "NIGHT", "MORNING", "AFTERNOON", "EVENING", "DAWN", "DUSK", "SUNRISE", "SUNSET", "NOON", "MIDNIGHT",
    "MAGIC HOUR", "GOLDEN HOUR", "CONTINUOUS", "LATER", "MOMENTS LATER", "A MOMENT LATER", "SAME", "SAME TIME",
    "SIMULTANEOUS", "FLASHBACK", "PRESENT", "PRESENT DAY", "NIGHT (FLASHBACK)", "DAY (FLASHBACK)",
}  # fmt: skip
#: Stripboard colours by the usual convention (the report also prints INT/EXT and DAY/NIGHT as text).
STRIP_COLOURS = {
    ("INT", "day"): "#ffffff", ("EXT", "day"): "#fff3a6", ("INT", "night"): "#b9d3ff", ("EXT", "night"): "#bfe8c0",
    ("INT/EXT", "day"): "#ffe0b3", ("INT/EXT", "night"): "#d9c6f5", ("EST", "day"): "#fff3a6",
    ("EST", "night"): "#bfe8c0",
}  # fmt: skip
NIGHT_WORDS = ("NIGHT", "DUSK", "EVENING", "MIDNIGHT", "SUNSET")

_PREFIX = re.compile(
    r"^(?P<prefix>INT\.?\s*/\s*EXT|EXT\.?\s*/\s*INT|I\.?\s*/\s*E|INT|EXT|EST)(?=[.\s]|$)\.?\s*", re.IGNORECASE
)
_SEPARATOR = re.compile("\\s+[-\u2013\u2014]+\\s+")  # hyphen, en dash, em dash
_CONTINUED = re.compile("^(?:CONT[\u2019']?D\\.?|CONTINUED|CONT\\.)$")
_FADE_IN = re.compile(r"^FADE IN:?$", re.IGNORECASE)
_TIME = re.compile(r"^\d{1,2}(?::\d{2})?\s*(?:AM|PM|A\.M\.|P\.M\.)$")
_NOTES_AND_BONEYARD = re.compile(r"\[\[.*?\]\]|/\*.*?\*/", re.DOTALL)
_EMPHASIS = re.compile(r"(?<!\\)(\*{1,3}|_)(?=\S)(.+?)(?<=\S)(?<!\\)\1", re.DOTALL)
TITLE_PAGE_KEYS = {"title": "title", "credit": "credit", "author": "author", "authors": "author",
                   "source": "source", "draft date": "draft_date", "contact": "contact"}  # fmt: skip


@dataclass
class Scene:
    index: int  # 1, 2, 3... in script order
    number: str  # the script's scene number, else the index
    heading: str
    int_ext: str  # INT, EXT, INT/EXT, EST or "" (a forced heading without a prefix)
    location: str
    time_of_day: str
    forced: bool = False
    lines: int = 0
    eighths: int = 0
    characters: list[str] = field(default_factory=list)  # appearing: speakers by first cue, then those named in action
    speaking: list[str] = field(default_factory=list)
    synopsis: str = ""  # the scene's synopsis (`= ...`), else the start of its first action paragraph
    elements: dict[str, list[str]] = field(default_factory=dict)  # category -> names, cast included

    @property
    def length(self) -> str:
        return eighths_label(self.eighths)

    @property
    def day_night(self) -> str:
        return "night" if any(word in self.time_of_day for word in NIGHT_WORDS) else "day"


@dataclass
class Character:
    name: str
    scenes: list[str] = field(default_factory=list)  # scene numbers, in order
    speeches: int = 0
    dialogue_lines: int = 0
    first_scene: str = ""
    first_scene_index: int = 0
    extensions: list[str] = field(default_factory=list)
    dual_dialogue: int = 0


@dataclass
class Breakdown:
    title: str
    scenes: list[Scene]
    characters: list[Character]
    locations: list[dict[str, Any]]
    total_lines: int
    source_format: str
    title_page: dict[str, str] = field(default_factory=dict)
    elements: list[dict[str, Any]] = field(default_factory=list)  # {category, name, scenes}, by category

    @property
    def total_eighths(self) -> int:
        return sum(scene.eighths for scene in self.scenes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "title_page": self.title_page,
            "format": self.source_format,
            "page_lines": PAGE_LINES,
            "scene_count": len(self.scenes),
            "character_count": len(self.characters),
            "location_count": len(self.locations),
            "total_eighths": self.total_eighths,
            "total_length": eighths_label(self.total_eighths),
            "scenes": [asdict(scene) | {"length": scene.length, "day_night": scene.day_night} for scene in self.scenes],
            "characters": [asdict(character) for character in self.characters],
            "locations": self.locations,
            "elements": self.elements,
        }


# Measuring ----------------------------------------------------------------------------------------------------------


def eighths_for_lines(lines: int) -> int:
    """Printed lines to eighths of a PAGE_LINES-line page: nearest eighth, halves up, at least one."""
    return max(1, (16 * lines + PAGE_LINES) // (2 * PAGE_LINES))


def eighths_label(eighths: int) -> str:
    """12 -> "1 4/8", 3 -> "3/8", 16 -> "2" (eighths are never reduced, as on a breakdown sheet)."""
    pages, rest = divmod(eighths, 8)
    if not rest:
        return str(pages)
    return f"{pages} {rest}/8" if pages else f"{rest}/8"


def printed_lines(text: str, width: int) -> int:
    """Lines `text` prints at `width` characters: each source line wrapped at word boundaries; blank lines count 1."""
    total = 0
    for line in text.split("\n"):
        total += max(1, len(textwrap.wrap(line, width, break_long_words=True, break_on_hyphens=False)))
    return total


def split_heading(text: str) -> tuple[str, str, str]:
    """A heading's (INT/EXT, location, time of day): "INT./EXT. CAR - MOVING - NIGHT" -> ("INT/EXT", "CAR -
    MOVING", "NIGHT"). The last " - " part is the time of day only when it reads as one (DAY, LATER, 3 AM...)."""
    rest = " ".join(text.split())
    int_ext = ""
    match = _PREFIX.match(rest)
    if match:
        prefix = re.sub(r"[.\s]", "", match["prefix"].upper())
        int_ext = {"INT": "INT", "EXT": "EXT", "EST": "EST"}.get(prefix, "INT/EXT")
        rest = rest[match.end() :]
    parts = _SEPARATOR.split(rest.strip(" -\u2013\u2014"))
    time_of_day = ""
    if len(parts) > 1:
        last = parts[-1].strip().upper()
        if last in TIMES_OF_DAY or _TIME.match(last) or last.split(" (")[0] in TIMES_OF_DAY:
            time_of_day = last
            parts = parts[:-1]
    location = " - ".join(p.strip() for p in parts).strip(" .").upper()
    return int_ext, location, time_of_day


def character_name(name: str) -> str:
    """The character a cue names as written (a forced `@McCLANE` keeps its case): single spaces, no extension, no
    trailing punctuation, no emphasis markup."""
    name = unicodedata.normalize("NFC", " ".join(strip_markup(name).replace("^", " ").split()))
    return name.strip(" :.")


def strip_markup(text: str) -> str:
    """Text without notes, boneyard or emphasis markup: "**BANG** [[loud]] *now*" -> "BANG  now"."""
    text = _NOTES_AND_BONEYARD.sub("", text)
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text.replace("\\*", "*").replace("\\_", "_")


def element_text(element: Any) -> str:
    """An element's text without markup, from its raw text (screenplay-tools leaves part of an inline boneyard)."""
    raw = getattr(element, "text_raw", None)
    text = raw if isinstance(raw, str) else element.text
    return strip_markup(re.sub(r"\[\[\d*\]\]|/\*\d*\*/", "", text))


def title_page(entries: list[Any]) -> dict[str, str]:
    """Title, Credit, Author, Source, Draft date and Contact from the title page, without markup (multi-line
    values such as a contact address keep their lines)."""
    page: dict[str, str] = {}
    for entry in entries:
        key = TITLE_PAGE_KEYS.get(" ".join(str(entry.key).split()).lower())
        if key and key not in page:
            lines = [" ".join(strip_markup(line).split()) for line in str(entry.text).split("\n")]
            page[key] = "\n".join(line for line in lines if line)
    return page


def clean_extensions(extension: str | None) -> list[str]:
    """ "V.O." -> ["V.O."]; "O.S., CONT'D" -> ["O.S."]: CONT'D only says the speech goes on, it is no extension."""
    if not extension:
        return []
    found = []
    for part in re.split(r"[(),;]+", extension):
        part = " ".join(part.split()).upper()
        if part and not _CONTINUED.match(part):
            found.append(part)
    return found


# Parsing ------------------------------------------------------------------------------------------------------------


def read_script_text(path: Path) -> str:
    """The file as text, or a ToolError saying why it is not a screenplay we can read."""
    size = Path(path).stat().st_size
    if size > MAX_SCRIPT_BYTES:
        raise ToolError(
            f"This file is {size / 1024 / 1024:.1f} MB: far larger than a screenplay "
            f"(we read up to {MAX_SCRIPT_BYTES // 1024 // 1024} MB)."
        )
    data = Path(path).read_bytes()
    if not data.strip():
        raise ToolError("The script is empty: the file has no text in it.")
    if b"\x00" in data:
        raise ToolError(
            f"This file is not a text screenplay: it holds binary data (a NUL byte at byte {data.index(0)}). "
            "Upload the script as Fountain plain text (.fountain) or Final Draft (.fdx)."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ToolError(
            f"This file is not UTF-8 text (an invalid byte at byte {exc.start}), so it is not a Fountain screenplay "
            "we can read. Save it as UTF-8 plain text and upload it again."
        ) from exc
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 1000):
        raise ToolError("This file is not a text screenplay: it is full of control characters (binary data).")
    return text


def parse_elements(text: str) -> tuple[list[Any], list[Any], str]:
    """(elements, title page entries, "fountain" or "fdx") from screenplay-tools."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        if "<FinalDraft" not in stripped[:4096]:
            raise ToolError("This file is XML but not a Final Draft screenplay, so there is nothing to break down.")
        if re.search(r"<!(?:DOCTYPE|ENTITY)", stripped, re.IGNORECASE):
            raise ToolError("This Final Draft file declares a DOCTYPE or entities, which we do not read for safety.")
        from screenplay_tools.fdx.parser import Parser as FdxParser

        try:
            script = FdxParser().parse(stripped)
        except ValueError as exc:
            raise ToolError("This Final Draft file could not be read: its XML is damaged.") from exc
        return script.elements, script.titleEntries, "fdx"
    from screenplay_tools.fountain.parser import Parser as FountainParser

    parser = FountainParser()
    parser.add_text(text)
    return parser.script.elements, parser.script.titleEntries, "fountain"


def build_breakdown(text: str, *, fallback_title: str = "", keywords: dict[str, list[str]] | None = None) -> Breakdown:
    """Break a screenplay's text down into scenes, characters, locations and breakdown elements (see the module's
    docstring). `keywords` is the element dictionary (`breakdown_elements.keywords()` by default)."""
    elements, title_entries, source_format = parse_elements(text)
    page = title_page(title_entries)
    title = one_line(page.get("title", "").replace("\n", " "), 200)
    builder = _Builder()
    for element in elements:
        builder.add(element)
    builder.counter.end_speech()
    if not builder.scenes:
        if builder.speech_counts:
            raise ToolError(
                "We found dialogue but no scene headings, so there are no scenes to break down. Start each scene "
                "with a heading such as “INT. KITCHEN - NIGHT” (or force one with a leading dot: “.FLASHBACK”)."
            )
        raise ToolError(
            "This does not look like a screenplay: we found no scene headings (lines such as “INT. KITCHEN - "
            "NIGHT” or “EXT. ROOFTOP - DAY”) and no dialogue."
        )
    breakdown = _finish(builder.scenes, builder.action_text, builder.speech_counts, builder.extensions,
                        builder.counter.total, title=title or fallback_title, source_format=source_format)  # fmt: skip
    breakdown.title_page = page
    breakdown.elements = _elements(breakdown, builder.action_text, keywords or elements_mod.keywords())
    return breakdown


def _elements(
    breakdown: Breakdown, action_text: dict[int, list[str]], dictionary: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Each scene's elements by category (cast first), and every element with the scenes it is in."""
    finder = elements_mod.Finder(dictionary, [c.name for c in breakdown.characters])
    scenes_of: dict[tuple[str, str], list[str]] = {}
    for scene in breakdown.scenes:
        found: dict[str, list[str]] = {"cast": list(scene.characters)}
        for element in finder.find("\n".join(action_text.get(scene.index, []))):
            found.setdefault(element.category, []).append(element.name)
        scene.elements = {key: found[key] for key in elements_mod.CATEGORY_KEYS if found.get(key)}
        for category, names in scene.elements.items():
            for name in names:
                scenes_of.setdefault((category, name), []).append(scene.number)
    order = {key: index for index, key in enumerate(elements_mod.CATEGORY_KEYS)}
    return [
        {"category": category, "category_label": elements_mod.CATEGORY_LABELS[category], "name": name,
         "scenes": scenes}
        for (category, name), scenes in sorted(scenes_of.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    ]  # fmt: skip


def _synopsis(text: str, limit: int = 140) -> str:
    """A scene's synopsis on one line: whole words, with an ellipsis when the text was longer than `limit`."""
    line = one_line(text, 10 * limit)
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "\u2026"


class _Builder:
    """Walks the screenplay's elements in order, one handler per kind of element, counting lines as it goes."""

    def __init__(self) -> None:
        from screenplay_tools.screenplay import ElementType

        self.T = ElementType
        self.counter = _LineCounter()
        self.scenes: list[Scene] = []
        self.action_text: dict[int, list[str]] = {}
        self.speech_counts: dict[str, list[int]] = {}  # name -> [speeches, dialogue lines, dual-dialogue speeches]
        self.extensions: dict[str, list[str]] = {}
        self.spellings: dict[str, str] = {}  # NAME -> the spelling first seen (McCLANE)
        self.speaker: str | None = None  # the character whose speech we are in
        self.previous_type = None

    def add(self, element: Any) -> None:
        kind = element.type
        if not self._handle(kind, element):
            return  # printed nothing: the speech and the previous element stay as they were
        if kind not in (self.T.CHARACTER, self.T.DIALOGUE, self.T.PARENTHETICAL):
            self.speaker = None
        self.previous_type = kind

    def _handle(self, kind: Any, element: Any) -> bool:
        """Count one element; False when it prints nothing."""
        T = self.T
        speech_part = kind in (T.DIALOGUE, T.PARENTHETICAL)
        if speech_part and self.counter.in_speech:
            self._speech_line(kind, element)
        elif kind == T.CHARACTER:
            self._cue(element)
        elif kind == T.HEADING and not _FADE_IN.match(element.text.strip()):
            self._heading(element)
        elif kind == T.ACTION:
            return self._action(element)
        elif kind == T.LYRIC:
            self.counter.end_speech()
            self.counter.add(printed_lines(element.text, DIALOGUE_WIDTH) + (0 if self.previous_type == T.LYRIC else 1))
        elif speech_part:  # a speech without a cue (possible in FDX): lines only
            self.counter.add(printed_lines(element.text, DIALOGUE_WIDTH))
        elif kind in (T.TRANSITION, T.HEADING):  # a transition, or FADE IN: (which the parser reads as a heading)
            self.counter.end_speech()
            self.counter.add(2)
        else:  # notes, boneyard, sections, synopses and page breaks print nothing
            if kind == T.SYNOPSIS and self.counter.scene is not None and element.text.strip():
                self.counter.scene.synopsis = _synopsis(strip_markup(element.text))
            return False
        return True

    def _speech_line(self, kind: Any, element: Any) -> None:
        dialogue = kind == self.T.DIALOGUE
        width = DIALOGUE_WIDTH if dialogue else PARENTHETICAL_WIDTH
        body = element.text.strip("\n") if dialogue else f"({element.text.strip()})"
        lines = printed_lines(body, width)
        self.counter.speech_lines += lines
        if dialogue and self.speaker:
            self.speech_counts[self.speaker][1] += lines

    def _cue(self, element: Any) -> None:
        dual = bool(element.is_dual_dialogue)
        self.counter.start_speech(dual=dual)
        name = character_name(element.name)
        name = self.spellings.setdefault(name.upper(), name)
        self.speaker = name or None
        if not name:
            return
        counts = self.speech_counts.setdefault(name, [0, 0, 0])
        counts[0] += 1
        counts[2] += int(dual)
        known = self.extensions.setdefault(name, [])
        known += [e for e in dict.fromkeys(clean_extensions(element.extension)) if e not in known]
        if self.counter.scene is not None:
            for names in (self.counter.scene.speaking, self.counter.scene.characters):
                if name not in names:
                    names.append(name)

    def _heading(self, element: Any) -> None:
        self.counter.end_speech()
        heading = " ".join(strip_markup(element.text).split())
        int_ext, location, time_of_day = split_heading(heading)
        index = len(self.scenes) + 1
        scene = Scene(index=index, number=(element.scene_number or "").strip() or str(index),
                      heading=heading.upper(), int_ext=int_ext, location=location, time_of_day=time_of_day,
                      forced=bool(getattr(element, "forced", False)))  # fmt: skip
        self.scenes.append(scene)
        self.action_text[index] = []
        self.counter.scene = scene
        self.counter.add(1 + printed_lines(heading, ACTION_WIDTH))

    def _action(self, element: Any) -> bool:
        body = element_text(element).strip("\n")
        if not body.strip():
            return False  # a line holding only a note or boneyard
        self.counter.end_speech()
        self.counter.add(1 + printed_lines(body, ACTION_WIDTH))
        scene = self.counter.scene
        if scene is not None and not getattr(element, "centered", False):  # centred text: THE END, titles
            self.action_text[scene.index].append(body)
            scene.synopsis = scene.synopsis or _synopsis(body.strip().split("\n\n")[0])
        return True


class _LineCounter:
    """Adds printed lines to the current scene; holds a speech's lines until it ends, for dual dialogue."""

    def __init__(self) -> None:
        self.scene: Scene | None = None
        self.total = 0
        self.in_speech = False
        self.speech_lines = 0
        self.speech_dual = False
        self.beside: int | None = None  # lines of the speech a dual speech prints beside
        self.last_speech: int | None = None  # lines of the speech just ended, if nothing came after it

    def add(self, lines: int) -> None:
        self.total += lines
        if self.scene is not None:
            self.scene.lines += lines

    def start_speech(self, *, dual: bool) -> None:
        self.end_speech()
        self.beside = self.last_speech if dual else None
        self.in_speech, self.speech_lines, self.speech_dual = True, 2, dual  # the blank line and the cue

    def end_speech(self) -> None:
        if not self.in_speech:
            self.last_speech = None
            return
        if self.speech_dual and self.beside is not None:
            # Printed beside the speech before it: only what it adds below that speech counts.
            self.add(max(0, self.speech_lines - self.beside))
            self.last_speech = None
        else:
            self.add(self.speech_lines)
            self.last_speech = self.speech_lines
        self.in_speech = False


def _finish(
    scenes: list[Any],
    action_text: dict[int, list[str]],
    speech_counts: dict[str, list[int]],
    extensions: Any,
    total_lines: int,
    *,
    title: str,
    source_format: str,
) -> Breakdown:
    known = sorted(speech_counts, key=len, reverse=True)
    patterns = {
        name: re.compile(rf"(?<![\w'\u2019])(?:{re.escape(name)}|{re.escape(name.title())})(?![\w\u2019]|'(?!s\b))")
        for name in known
    }
    for scene in scenes:
        text = "\n".join(action_text.get(scene.index, []))
        if not text:
            continue
        found = [(match.start(), name) for name in known for match in [patterns[name].search(text)] if match]
        for _, name in sorted(found):
            if name not in scene.characters:
                scene.characters.append(name)
    for scene in scenes:
        scene.eighths = eighths_for_lines(scene.lines)

    characters: dict[str, Character] = {}
    for scene in scenes:
        for name in scene.characters:
            character = characters.get(name)
            if character is None:
                counts = speech_counts[name]
                character = characters[name] = Character(
                    name=name, speeches=counts[0], dialogue_lines=counts[1], dual_dialogue=counts[2],
                    first_scene=scene.number, first_scene_index=scene.index, extensions=extensions.get(name, []),
                )  # fmt: skip
            character.scenes.append(scene.number)
    for name, counts in speech_counts.items():  # speeches before the first heading
        if name not in characters:
            characters[name] = Character(name=name, speeches=counts[0], dialogue_lines=counts[1],
                                         dual_dialogue=counts[2], extensions=extensions.get(name, []))  # fmt: skip
    cast = sorted(characters.values(), key=lambda c: (-len(c.scenes), -c.dialogue_lines, c.name))

    locations: dict[str, dict[str, Any]] = {}
    for scene in scenes:
        key = scene.location or "(no location)"
        entry = locations.setdefault(key, {"name": key, "int_ext": [], "scenes": [], "eighths": 0})
        entry["scenes"].append(scene.number)
        entry["eighths"] += scene.eighths
        if scene.int_ext and scene.int_ext not in entry["int_ext"]:
            entry["int_ext"].append(scene.int_ext)
    location_list = sorted(locations.values(), key=lambda loc: (-len(loc["scenes"]), loc["name"]))
    for entry in location_list:
        entry["length"] = eighths_label(entry["eighths"])
    return Breakdown(title=title, scenes=scenes, characters=cast, locations=location_list, total_lines=total_lines,
                     source_format=source_format)  # fmt: skip


# Writing ------------------------------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading =, +, -, @ is quoted with an apostrophe)."""
    text = ", ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return buffer.getvalue()


def scenes_csv(breakdown: Breakdown) -> str:
    return _csv(
        ["scene", "number", "int_ext", "location", "time_of_day", "eighths", "length", "lines", "characters",
         "speaking", "heading", "synopsis"],
        [[s.index, s.number, s.int_ext, s.location, s.time_of_day, s.eighths, s.length, s.lines, s.characters,
          s.speaking, s.heading, s.synopsis] for s in breakdown.scenes],
    )  # fmt: skip


def characters_csv(breakdown: Breakdown) -> str:
    return _csv(
        ["character", "scene_count", "scenes", "speeches", "dialogue_lines", "first_scene", "extensions",
         "dual_dialogue"],
        [[c.name, len(c.scenes), c.scenes, c.speeches, c.dialogue_lines, c.first_scene, c.extensions,
          c.dual_dialogue] for c in breakdown.characters],
    )  # fmt: skip


def locations_csv(breakdown: Breakdown) -> str:
    return _csv(
        ["location", "int_ext", "scene_count", "scenes", "eighths", "length"],
        [[loc["name"], loc["int_ext"], len(loc["scenes"]), loc["scenes"], loc["eighths"], loc["length"]]
         for loc in breakdown.locations],
    )  # fmt: skip


def elements_csv(breakdown: Breakdown) -> str:
    """Every breakdown element, one row each, with its category (and the category's sheet colour) and scenes."""
    return _csv(
        ["category", "category_label", "colour", "element", "scene_count", "scenes"],
        [[e["category"], e["category_label"], elements_mod.CATEGORY_COLOURS[e["category"]], e["name"],
          len(e["scenes"]), e["scenes"]] for e in breakdown.elements],
    )  # fmt: skip


def strip_colour(scene: Scene) -> str:
    return STRIP_COLOURS.get((scene.int_ext, scene.day_night), "#eeeeee")


def report_html(
    breakdown: Breakdown, *, studio_name: str, source_name: str, render: Callable[[str, dict[str, Any]], str] | None
) -> str:
    """The stripboard report, a self-contained HTML page (no external files), also the source of the PDF.

    `render(template name, context)` is the portal's template renderer, passed in the tool's context.
    """
    if render is None:
        raise ToolError("The stripboard report cannot be made here: no template renderer was given to the tool.")
    data = breakdown.as_dict()
    cast_ids = {character["name"]: number for number, character in enumerate(data["characters"], start=1)}
    for number, character in enumerate(data["characters"], start=1):
        character["cast_id"] = number
    for scene, row in zip(breakdown.scenes, data["scenes"], strict=True):
        row["colour"] = strip_colour(scene)
        row["int_ext_label"] = INT_EXT_LABELS.get(scene.int_ext, "No INT/EXT")
        row["cast_ids"] = sorted(cast_ids[name] for name in scene.characters if name in cast_ids)
        row["element_boxes"] = [
            {"key": key, "label": elements_mod.CATEGORY_LABELS[key], "colour": elements_mod.CATEGORY_COLOURS[key],
             "names": names}
            for key, names in scene.elements.items()
        ]  # fmt: skip
    for character in data["characters"]:
        character["matrix"] = [scene.number in character["scenes"] for scene in breakdown.scenes]
    return render(
        "beta/tools/script_breakdown_report.html",
        {
            "breakdown": data,
            "studio_name": one_line(studio_name, 120),
            "source_name": one_line(source_name, 200),
            "generated_at": dt.datetime.now(tz=dt.UTC),
            "page_lines": PAGE_LINES,
            "categories": [
                {"key": key, "label": label, "colour_name": name, "colour": colour}
                for key, label, name, colour in elements_mod.CATEGORIES
            ],
        },
    )


def write_pdf(html: str, dest: Path) -> None:
    """The report as PDF with WeasyPrint (Pango); it may fetch nothing but data: URIs."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # a line per layout step is noise in a worker
    HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(dest)


# The tool ------------------------------------------------------------------------------------------------------------


class ScriptBreakdownTool(Tool):
    """Scenes, cast and locations of a Fountain (or Final Draft) screenplay, as sheets and a stripboard report."""

    slug = "script-breakdown"
    name = "Script breakdown"
    description = (
        "Breaks a screenplay (Fountain or Final Draft) down into scenes with INT/EXT, location, time of day and "
        "length in eighths of a page, a cast list with scene and dialogue counts, locations and breakdown elements "
        "by category (extras, props, vehicles, effects...): CSV sheets, JSON and a report (HTML and PDF) with a "
        "stripboard, a cast-by-scene matrix and a breakdown sheet per scene."
    )
    version = "1.1.0"
    input_kinds = ("script",)
    output_kinds = ("document",)
    output_roles = (
        "json", "scenes_csv", "characters_csv", "locations_csv", "elements_csv", "report_html", "report_pdf",
    )
    queue = "cpu"
    soft_time_limit = 5 * 60
    time_limit = 6 * 60
    cost_factor = 0.05

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        source = inputs[0]
        progress(0, "Reading the script")
        text = read_script_text(source.path)
        progress(10, "Parsing the screenplay")
        stem = safe_stem(source.filename, "script")
        breakdown = build_breakdown(
            text,
            fallback_title=one_line(Path(source.filename).stem, 200) or stem,
            keywords=elements_mod.keyword_setting(context.settings),
        )
        pages = breakdown.total_eighths / 8
        progress(
            40,
            "Writing the breakdown sheets",
            log=f"{len(breakdown.scenes)} scenes, {len(breakdown.characters)} characters, "
            f"{len(breakdown.locations)} locations, {eighths_label(breakdown.total_eighths)} pages.",
        )
        summary = breakdown.as_dict()
        documents = [
            (f"{stem}_breakdown.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "application/json",
             "Breakdown (JSON)", "json"),
            (f"{stem}_scenes.csv", scenes_csv(breakdown), "text/csv", "Scene breakdown sheet (CSV)", "scenes_csv"),
            (f"{stem}_characters.csv", characters_csv(breakdown), "text/csv", "Cast list (CSV)", "characters_csv"),
            (f"{stem}_locations.csv", locations_csv(breakdown), "text/csv", "Locations (CSV)", "locations_csv"),
            (f"{stem}_elements.csv", elements_csv(breakdown), "text/csv", "Breakdown elements by category (CSV)",
             "elements_csv"),
        ]  # fmt: skip
        progress(55, "Making the stripboard report")
        html = report_html(breakdown, studio_name=context.studio_name, source_name=source.filename,
                           render=context.render_template)  # fmt: skip
        documents.append((f"{stem}_stripboard.html", html, "text/html", "Stripboard report (HTML)", "report_html"))
        outputs = []
        for filename, body, content_type, label, role in documents:
            path = context.work_dir / filename
            path.write_text(body, encoding="utf-8")
            outputs.append(ToolOutput(path, "document", label, content_type, filename, role))
        progress(65, "Making the PDF report")
        pdf = context.work_dir / f"{stem}_stripboard.pdf"
        write_pdf(html, pdf)
        outputs.append(
            ToolOutput(pdf, "document", "Stripboard report (PDF)", "application/pdf", pdf.name, "report_pdf")
        )
        progress(100, "Done")
        summary["pages"] = round(pages, 3)
        return ToolResult(outputs=outputs, summary=summary)


TOOLS = [ScriptBreakdownTool]
