"""Script breakdown elements, title page, markup and the report's pages (beta/tools/script_breakdown.py,
beta/tools/breakdown_elements.py), on Fountain scripts written here; the PDF is rendered with pypdfium2 and read by
pixel."""

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from beta.tool_settings import render_template
from beta.tools.base import ToolContext
from beta.tools.breakdown_elements import CATEGORY_COLOURS, keywords
from beta.tools.script_breakdown import STRIP_COLOURS, ScriptBreakdownTool, build_breakdown, strip_markup
from tests.beta.conftest import ProgressRecorder, video_input

SCRIPT = """Title: **THE HARBOUR**
Credit: _written by_
Author: *Jane Doe*
Source: based on the novel ***Salt*** by Sam Roe
Draft date: 1 March 2026
Contact:
    Northlight Pictures
    12 Quay Street

INT. WAREHOUSE - NIGHT

JOHN loads a PISTOL into a crate. [[DANIEL was cut from this scene]] Two GUARDS watch the door. /* HAROLD enters */
A DOG barks somewhere.

> MARY <

> A FILM BY VICTOR <

@McCLANE
Yippee *ki* yay, _friend_.

SMASH CUT TO:

EXT. DOCKS - DAY

The ARMY arrives. Soldiers march past a TRUCK and a HOVERCRAFT. A STUNT DOUBLE leaps from the pier.
Smoke drifts over the water. Mary wears a UNIFORM, blood on her sleeve. A HOLOGRAM flickers. MUSIC swells.
Fishing nets hang from the barrels.

MARY
We sail at **dawn**.

INT. OFFICE - DAY

MARY files a report.

EXT. ROOFTOP - NIGHT

McCLANE and MARY watch the harbour.

MARY
It's over.
"""

EXPECTED = {  # scene number -> category -> elements that must be there
    "1": {"cast": ["McCLANE", "JOHN"], "weapons": ["PISTOL"], "props": ["CRATE"], "background": ["GUARDS"],
          "animals": ["DOG"], "sound_music": ["BARKS"]},
    "2": {"cast": ["MARY"], "background": ["ARMY", "SOLDIERS"], "vehicles": ["TRUCK", "HOVERCRAFT"],
          "stunts": ["STUNT DOUBLE", "LEAPS"], "special_effects": ["SMOKE"], "wardrobe": ["UNIFORM"],
          "makeup_hair": ["BLOOD"], "visual_effects": ["HOLOGRAM"], "sound_music": ["MUSIC"],
          "set_dressing": ["FISHING NETS", "BARRELS"]},
    "3": {"cast": ["MARY"]},
    "4": {"cast": ["MARY", "McCLANE"]},
}  # fmt: skip
STRIPS = ["INT night", "EXT day", "INT day", "EXT night"]  # scenes 1 to 4
EXPECTED_STRIP_COLOURS = {"INT day": "#ffffff", "EXT day": "#fff3a6", "INT night": "#b9d3ff", "EXT night": "#bfe8c0"}
#: Set BREAKDOWN_ARTIFACTS to a folder to keep PNGs of the stripboard, matrix and a breakdown sheet for a person to see.
ARTIFACTS = os.environ.get("BREAKDOWN_ARTIFACTS", "")


@pytest.fixture(scope="module")
def breakdown():
    return build_breakdown(SCRIPT, keywords=keywords({"vehicles": ["hovercraft"]}))


@pytest.fixture(scope="module")
def tool_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("breakdown")
    script = folder / "harbour.fountain"
    script.write_text(SCRIPT, encoding="utf-8")
    work = folder / "work"
    work.mkdir()
    context = ToolContext(work_dir=work, studio_name="Northlight", render_template=render_template,
                          settings={"BREAKDOWN_KEYWORDS": {"vehicles": ["hovercraft"]}})  # fmt: skip
    result = ScriptBreakdownTool().run([video_input(script, "harbour.fountain", "script")], {}, ProgressRecorder(),
                                       context)  # fmt: skip
    return {output.role: output for output in result.outputs}, result.summary


def test_the_title_page_is_read_without_markup(breakdown):
    assert breakdown.title == "THE HARBOUR"
    assert breakdown.title_page == {
        "title": "THE HARBOUR", "credit": "written by", "author": "Jane Doe",
        "source": "based on the novel Salt by Sam Roe", "draft_date": "1 March 2026",
        "contact": "Northlight Pictures\n12 Quay Street",
    }  # fmt: skip


def test_emphasis_markup_is_stripped_from_every_text_field(tool_run):
    _, summary = tool_run
    text = json.dumps(summary)
    assert "*" not in text
    assert "_friend" not in text
    assert strip_markup("**BANG** [[loud]] *now* _under_ ***both*** \\*literal\\*") == "BANG  now under both *literal*"


def test_notes_boneyard_centred_text_and_transitions_are_not_cast_or_elements(breakdown):
    scene = breakdown.scenes[0]
    names = {name for names in scene.elements.values() for name in names}
    assert not names & {"DANIEL", "HAROLD", "VICTOR", "FILM", "SMASH", "MARY"}
    assert "MARY" not in scene.characters  # only centred text names her in scene 1
    assert breakdown.characters[0].scenes == ["2", "3", "4"]  # MARY


def test_a_forced_name_keeps_its_spelling(breakdown):
    assert [c.name for c in breakdown.characters] == ["MARY", "McCLANE"]
    assert breakdown.scenes[3].characters == ["MARY", "McCLANE"]  # named in action as written


def test_elements_of_each_category_are_found_in_their_scenes(breakdown):
    by_number = {scene.number: scene for scene in breakdown.scenes}
    for number, categories in EXPECTED.items():
        for category, names in categories.items():
            found = by_number[number].elements.get(category, [])
            assert set(names) <= set(found), (number, category, found)
    listed = {(e["category"], e["name"]): e["scenes"] for e in breakdown.elements}
    assert listed[("cast", "MARY")] == ["2", "3", "4"]
    assert listed[("vehicles", "TRUCK")] == ["2"]
    assert listed[("weapons", "PISTOL")] == ["1"]


def test_staff_keywords_extend_the_dictionary():
    plain = build_breakdown(SCRIPT)
    assert "HOVERCRAFT" not in plain.scenes[1].elements.get("vehicles", [])


def test_the_csv_and_json_carry_the_elements_with_their_categories(tool_run):
    outputs, _ = tool_run
    rows = list(csv.DictReader(io.StringIO(outputs["elements_csv"].path.read_text(encoding="utf-8"))))
    assert {(row["category"], row["element"], row["scenes"]) for row in rows} >= {
        ("cast", "MARY", "2, 3, 4"), ("background", "ARMY", "2"), ("vehicles", "HOVERCRAFT", "2"),
    }  # fmt: skip
    assert all(row["colour"] == CATEGORY_COLOURS[row["category"]] for row in rows)
    data = json.loads(outputs["json"].path.read_text(encoding="utf-8"))
    assert data["title_page"]["author"] == "Jane Doe"
    assert data["scenes"][1]["elements"]["vehicles"] == ["TRUCK", "HOVERCRAFT"]
    assert [s["day_night"] for s in data["scenes"]] == ["night", "day", "day", "night"]


def test_strips_are_coloured_by_int_ext_and_day_night(breakdown):
    from beta.tools.script_breakdown import strip_colour

    assert [strip_colour(scene) for scene in breakdown.scenes] == [EXPECTED_STRIP_COLOURS[s] for s in STRIPS]
    assert STRIP_COLOURS[("EXT", "night")] == "#bfe8c0"


# The PDF, by pixel ---------------------------------------------------------------------------------------------------


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def _pages(pdf_path: Path) -> list[np.ndarray]:
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        return [np.asarray(page.render(scale=2).to_pil().convert("RGB")).astype(int) for page in document]
    finally:
        document.close()


def _has(image: np.ndarray, hex_colour: str, minimum: int = 200) -> bool:
    return int((np.abs(image - _rgb(hex_colour)).sum(axis=2) <= 6).sum()) >= minimum


def test_the_pdf_has_a_strip_of_each_colour_a_matrix_and_a_sheet_per_scene(tool_run):
    outputs, _ = tool_run
    pages = _pages(outputs["report_pdf"].path)
    first = pages[0]
    for strip in ("EXT day", "INT night", "EXT night"):
        assert _has(first, EXPECTED_STRIP_COLOURS[strip]), strip
    # Down the strips' colour band (the table's first column), below its dark header, the colours run in scene order.
    yellow = np.argwhere(np.abs(first - _rgb("#fff3a6")).sum(axis=2) <= 6)
    column = first[:, int(yellow[:, 1].min()) + 3]
    dark = np.flatnonzero(np.abs(column - _rgb("#222222")).sum(axis=1) <= 12)
    yellow_in_band = np.flatnonzero(np.abs(column - _rgb("#fff3a6")).sum(axis=1) <= 6)
    header = dark[dark < yellow_in_band.min()]  # the stripboard's header, above its strips
    lookup = {name: _rgb(colour) for name, colour in EXPECTED_STRIP_COLOURS.items()}
    runs: list[str] = []
    previous = None
    for pixel in column[int(header.max()) + 1 :]:
        match = next((n for n, c in lookup.items() if np.abs(pixel - c).sum() <= 6), None)
        if match and match != previous:
            runs.append(match)
        previous = match
    assert runs[: len(STRIPS)] == STRIPS
    # The cast-by-scene matrix marks cast in red; each scene has its own breakdown sheet page after it.
    assert len(pages) >= 1 + 1 + len(EXPECTED)
    assert any(_has(page, "#ef4444") for page in pages[1:])
    sheets = pages[-len(EXPECTED) :]
    for category in EXPECTED["2"]:
        assert _has(sheets[1], CATEGORY_COLOURS[category], minimum=50), category
    if ARTIFACTS:
        folder = Path(ARTIFACTS)
        folder.mkdir(parents=True, exist_ok=True)
        document = pdfium.PdfDocument(str(outputs["report_pdf"].path))
        try:
            for index, name in ((0, "stripboard"), (1, "matrix"), (len(document) - len(EXPECTED) + 1, "sheet")):
                document[index].render(scale=2).to_pil().save(folder / f"breakdown_{name}.png")
        finally:
            document.close()
