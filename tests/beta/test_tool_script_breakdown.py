"""Script breakdown (beta/tools/script_breakdown.py): scenes, cast, locations and eighths from Fountain scripts
written here; its refusals; its job page; and one run through a real worker."""

import csv
import io
import json
import re

import jsonschema
import pytest
from django.urls import reverse

from assets.models import Asset
from assets.services import asset_create_from_file
from assets.storage import get_store
from beta.jobs.submit import job_submit
from beta.models import Job, JobInput, JobOutput
from beta.tools import get_tool
from beta.tools.base import ToolError
from beta.tools.script_breakdown import (
    ScriptBreakdownTool,
    build_breakdown,
    clean_extensions,
    eighths_for_lines,
    eighths_label,
    printed_lines,
    split_heading,
)
from tests.beta.conftest import ProgressRecorder, video_input
from tests.conftest import wait_for
from tests.factories import OwnerFactory

WORDS_26 = " ".join(["word"] * 26)  # 129 characters: 12 + 12 + 2 words at 61 characters, 3 printed lines
TALK_16 = " ".join(["talk"] * 16)  # 79 characters: 7 + 7 + 2 words at 35 characters, 3 printed lines
BEATS = "\n\n".join(f"Beat {n}." for n in range(1, 41))  # 40 one-line paragraphs with 39 blank lines between

SCRIPT = f"""Title: Night Kitchen
Credit: Written by
Author: Test Writer

FADE IN:

INT. KITCHEN - NIGHT #1#

MARY (40s) stirs a pot. BOB watches from the door.

MARY (V.O.)
I never told him.

BOB (O.S.)
Told me what?

MARY (CONT'D)
Nothing.

EXT. GARDEN - DAY #2A#

Bob walks among the roses.

INT./EXT. CAR - MOVING - NIGHT

MARY
Left here.

BOB ^
Right here.

INT/EXT. PORCH - DUSK

I/E BUS SHELTER - DAY

.FLASHBACK - THE LAKE

Young Mary skims a stone.

@McCLANE (INTO PHONE)
Yippee.

EST. CITY SKYLINE - DAWN #9#

[[A note: prints nothing.]]

INT. KITCHEN - LATER

{WORDS_26}

{BEATS}

BOB
{TALK_16}

> CUT TO:
"""

# Printed lines per scene, by the rules in the module's docstring (1 blank line before each block):
# 1  heading 2 + action 2 + three speeches of 3                                  = 13 -> 2/8
# 2A heading 2 + action 2                                                        =  4 -> 1/8
# 3  heading 2 + MARY 3 + BOB ^ beside her (3, adds 0)                           =  5 -> 1/8
# 4, 5 heading 2                                                                 =  2 -> 1/8 (the minimum)
# 6  heading 2 + action 2 + McCLANE 3                                            =  7 -> 1/8
# 9  heading 2 (the note prints nothing)                                         =  2 -> 1/8
# 8  heading 2 + action (1 + 3 + 1 + 40 + 39) 84 + BOB (2 + 3) 5 + transition 2 = 93 -> 13.53 -> 14/8 = 1 6/8
EXPECTED_LINES = [13, 4, 5, 2, 2, 7, 2, 93]
EXPECTED_EIGHTHS = [2, 1, 1, 1, 1, 1, 1, 14]


@pytest.fixture(scope="module")
def breakdown():
    return build_breakdown(SCRIPT)


@pytest.fixture
def write(tmp_path):
    def write(name: str, data: bytes | str):
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return write


# Measuring ------------------------------------------------------------------------------------------------------------


def test_eighths_round_to_the_nearest_eighth_of_a_55_line_page_with_a_minimum_of_one():
    assert [eighths_for_lines(n) for n in (0, 1, 10, 11, 17, 55, 62, 93, 110)] == [1, 1, 1, 2, 2, 8, 9, 14, 16]
    assert [eighths_label(e) for e in (1, 7, 8, 14, 16)] == ["1/8", "7/8", "1", "1 6/8", "2"]


def test_printed_lines_wrap_at_word_boundaries_and_count_blank_lines():
    assert printed_lines(WORDS_26, 61) == 3
    assert printed_lines(TALK_16, 35) == 3
    assert printed_lines("one\n\ntwo", 61) == 3
    assert printed_lines("x" * 70, 61) == 2  # a word longer than the line is broken


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("INT. KITCHEN - NIGHT", ("INT", "KITCHEN", "NIGHT")),
        ("EXT. GARDEN - DAY", ("EXT", "GARDEN", "DAY")),
        ("INT./EXT. CAR - MOVING - NIGHT", ("INT/EXT", "CAR - MOVING", "NIGHT")),
        ("INT/EXT. PORCH - DUSK", ("INT/EXT", "PORCH", "DUSK")),
        ("EXT./INT. BARN - CONTINUOUS", ("INT/EXT", "BARN", "CONTINUOUS")),
        ("I/E BUS SHELTER - DAY", ("INT/EXT", "BUS SHELTER", "DAY")),
        ("EST. CITY SKYLINE - DAWN", ("EST", "CITY SKYLINE", "DAWN")),
        ("int. hallway – 3 AM", ("INT", "HALLWAY", "3 AM")),
        ("INT. HOUSE - KITCHEN", ("INT", "HOUSE - KITCHEN", "")),
        ("FLASHBACK - THE LAKE", ("", "FLASHBACK - THE LAKE", "")),
        ("INTERCUT WITH HOTEL", ("", "INTERCUT WITH HOTEL", "")),
    ],
)
def test_headings_split_into_int_ext_location_and_time_of_day(heading, expected):
    assert split_heading(heading) == expected


def test_contd_is_not_an_extension():
    assert clean_extensions("V.O.") == ["V.O."]
    assert clean_extensions("CONT'D") == []
    assert clean_extensions("O.S.) (CONT’D") == ["O.S."]
    assert clean_extensions(None) == []


# The breakdown --------------------------------------------------------------------------------------------------------


def test_scenes_have_their_numbers_int_ext_location_time_and_eighths(breakdown):
    scenes = breakdown.scenes
    assert len(scenes) == 8
    assert [s.number for s in scenes] == ["1", "2A", "3", "4", "5", "6", "9", "8"]
    assert [s.int_ext for s in scenes] == ["INT", "EXT", "INT/EXT", "INT/EXT", "INT/EXT", "", "EST", "INT"]
    assert [s.location for s in scenes] == [
        "KITCHEN", "GARDEN", "CAR - MOVING", "PORCH", "BUS SHELTER", "FLASHBACK - THE LAKE", "CITY SKYLINE", "KITCHEN",
    ]  # fmt: skip
    assert [s.time_of_day for s in scenes] == ["NIGHT", "DAY", "NIGHT", "DUSK", "DAY", "", "DAWN", "LATER"]
    assert [s.forced for s in scenes] == [False] * 5 + [True] + [False] * 2
    assert [s.lines for s in scenes] == EXPECTED_LINES
    assert [s.eighths for s in scenes] == EXPECTED_EIGHTHS
    assert breakdown.total_eighths == 22
    assert breakdown.title == "Night Kitchen"


def test_scenes_list_who_appears_and_who_speaks(breakdown):
    by_number = {s.number: s for s in breakdown.scenes}
    assert by_number["1"].speaking == ["MARY", "BOB"]
    assert by_number["1"].characters == ["MARY", "BOB"]
    # Named in the action only ("Bob walks..."): appears, does not speak.
    assert by_number["2A"].speaking == []
    assert by_number["2A"].characters == ["BOB"]
    # Dual dialogue: both speak.
    assert by_number["3"].speaking == ["MARY", "BOB"]
    # A forced cue (@McCLANE) with an extension; Mary named in title case in the action.
    assert by_number["6"].speaking == ["McCLANE"]
    assert by_number["6"].characters == ["McCLANE", "MARY"]
    assert by_number["4"].characters == by_number["9"].characters == []
    assert by_number["8"].characters == ["BOB"]


def test_characters_are_counted_once_whatever_their_extensions(breakdown):
    cast = {c.name: c for c in breakdown.characters}
    # MARY (V.O.), MARY (CONT'D) and MARY are one character; BOB (O.S.), BOB ^ and BOB are one.
    assert list(cast) == ["BOB", "MARY", "McCLANE"]  # most scenes first
    assert cast["BOB"].scenes == ["1", "2A", "3", "8"]
    assert cast["MARY"].scenes == ["1", "3", "6"]
    assert cast["McCLANE"].scenes == ["6"]
    assert [cast[n].speeches for n in cast] == [3, 3, 1]
    assert [cast[n].dialogue_lines for n in cast] == [5, 3, 1]
    assert [cast[n].first_scene for n in cast] == ["1", "1", "6"]
    assert cast["MARY"].extensions == ["V.O."]
    assert cast["BOB"].extensions == ["O.S."]
    assert cast["McCLANE"].extensions == ["INTO PHONE"]
    assert cast["BOB"].dual_dialogue == 1


def test_locations_group_their_scenes(breakdown):
    locations = {loc["name"]: loc for loc in breakdown.locations}
    assert len(locations) == 7
    assert locations["KITCHEN"]["scenes"] == ["1", "8"]
    assert locations["KITCHEN"]["eighths"] == 16
    assert locations["KITCHEN"]["length"] == "2"
    assert locations["KITCHEN"]["int_ext"] == ["INT"]
    assert locations["CAR - MOVING"]["int_ext"] == ["INT/EXT"]
    assert breakdown.locations[0]["name"] == "KITCHEN"  # most scenes first


def test_a_final_draft_file_is_broken_down_too():
    fdx = """<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<FinalDraft DocumentType="Script" Template="No" Version="5">
<Content>
<Paragraph Type="Scene Heading"><Text>INT. OFFICE - DAY</Text></Paragraph>
<Paragraph Type="Action"><Text>Ann types.</Text></Paragraph>
<Paragraph Type="Character"><Text>ANN (V.O.)</Text></Paragraph>
<Paragraph Type="Dialogue"><Text>Deadline.</Text></Paragraph>
<Paragraph Type="Scene Heading"><Text>EXT. STREET - NIGHT</Text></Paragraph>
</Content>
</FinalDraft>
"""
    result = build_breakdown(fdx)
    assert result.source_format == "fdx"
    assert [(s.number, s.int_ext, s.location, s.time_of_day, s.lines) for s in result.scenes] == [
        ("1", "INT", "OFFICE", "DAY", 7),
        ("2", "EXT", "STREET", "NIGHT", 2),
    ]
    assert [(c.name, c.extensions, c.scenes) for c in result.characters] == [("ANN", ["V.O."], ["1"])]


# Refusals -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.fountain", b"", "The script is empty"),
        ("blank.fountain", b"  \n\n\t\n", "The script is empty"),
        ("still.fountain", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary data"),
        ("latin1.fountain", "INT. CAFÉ - DAY\n".encode("latin-1"), "not UTF-8 text"),
        ("notes.fountain", "Shopping list.\n\nEggs, milk and bread.\n", "no scene headings"),
        ("talk.fountain", "Intro.\n\nMARY\nHello.\n", "found dialogue but no scene headings"),
        ("doc.fdx", '<?xml version="1.0"?><svg></svg>', "not a Final Draft screenplay"),
        ("bomb.fdx", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><FinalDraft/>', "DOCTYPE"),
    ],
)
def test_a_file_that_is_not_a_screenplay_fails_with_a_message_saying_why(write, tool_context, name, data, message):
    with pytest.raises(ToolError, match=message):
        ScriptBreakdownTool().run([video_input(write(name, data), name, "script")], {}, ProgressRecorder(),
                                  tool_context)  # fmt: skip


# The tool's files -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tool_run(tmp_path_factory):
    from beta.tool_settings import ToolSettings, render_template
    from beta.tools.base import ToolContext

    folder = tmp_path_factory.mktemp("breakdown")
    script = folder / "night_kitchen.fountain"
    script.write_text(SCRIPT, encoding="utf-8")
    work = folder / "work"
    work.mkdir()
    recorder = ProgressRecorder()
    context = ToolContext(work_dir=work, studio_name="Northlight <Pictures>", job_label="job 1",
                          settings=ToolSettings(), render_template=render_template)
    result = ScriptBreakdownTool().run([video_input(script, "night_kitchen.fountain", "script")], {}, recorder, context)
    return result, recorder


def test_the_tool_writes_json_csv_sheets_and_an_html_and_pdf_stripboard(tool_run):
    result, recorder = tool_run
    outputs = {o.role: o for o in result.outputs}
    assert list(outputs) == [
        "json", "scenes_csv", "characters_csv", "locations_csv", "elements_csv", "report_html", "report_pdf",
    ]  # fmt: skip
    assert all(o.kind == "document" and o.path.is_file() for o in outputs.values())
    assert recorder.percents == sorted(recorder.percents)
    assert recorder.percents[-1] == 100

    data = json.loads(outputs["json"].path.read_text(encoding="utf-8"))
    assert (data["scene_count"], data["character_count"], data["location_count"]) == (8, 3, 7)
    assert [s["eighths"] for s in data["scenes"]] == EXPECTED_EIGHTHS
    assert data["total_length"] == "2 6/8"
    assert result.summary["scenes"] == data["scenes"]

    scenes = list(csv.DictReader(io.StringIO(outputs["scenes_csv"].path.read_text(encoding="utf-8"))))
    assert [(r["number"], r["int_ext"], r["location"], r["eighths"], r["length"]) for r in scenes][:3] == [
        ("1", "INT", "KITCHEN", "2", "2/8"),
        ("2A", "EXT", "GARDEN", "1", "1/8"),
        ("3", "INT/EXT", "CAR - MOVING", "1", "1/8"),
    ]
    assert len(scenes) == 8
    assert scenes[0]["speaking"] == "MARY, BOB"
    cast = list(csv.DictReader(io.StringIO(outputs["characters_csv"].path.read_text(encoding="utf-8"))))
    assert [(r["character"], r["scene_count"], r["speeches"], r["dialogue_lines"], r["first_scene"]) for r in cast] == [
        ("BOB", "4", "3", "5", "1"), ("MARY", "3", "3", "3", "1"), ("McCLANE", "1", "1", "1", "6"),
    ]  # fmt: skip
    locations = list(csv.DictReader(io.StringIO(outputs["locations_csv"].path.read_text(encoding="utf-8"))))
    assert len(locations) == 7

    html = outputs["report_html"].path.read_text(encoding="utf-8")
    assert html.count('class="strip"') == 8
    assert "Northlight &lt;Pictures&gt;" in html  # escaped
    # Self-contained: nothing to fetch, nothing to run.
    assert "<script" not in html
    assert 'src="' not in html
    assert "url(" not in html
    pdf = outputs["report_pdf"].path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-1024:]
    assert outputs["report_pdf"].content_type == "application/pdf"


def test_the_tool_is_in_the_catalogue():
    tool = get_tool("script-breakdown")
    assert isinstance(tool, ScriptBreakdownTool)
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    jsonschema.validate(tool.defaults(), tool.parameters)
    assert tool.parameters["additionalProperties"] is False
    assert tool.soft_time_limit < tool.time_limit
    assert tool.input_kinds == ("script",)


# The job page ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_job_page_shows_sortable_scene_and_cast_tables(client, tool_run):
    result, _ = tool_run
    owner = OwnerFactory()
    client.force_login(owner.user)
    job = Job.objects.create(
        organization=owner.organization, submitted_by=owner.user, tool_slug="script-breakdown", tool_version="1.0.0",
        status="succeeded", progress=100, summary=result.summary,
    )  # fmt: skip
    for output in result.outputs:
        asset = asset_create_from_file(
            organization=owner.organization, created_by=owner.user, path=output.path, kind=output.kind,
            filename=output.filename, content_type=output.content_type,
        )  # fmt: skip
        JobOutput.objects.create(job=job, asset=asset, role=output.role, label=output.label)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()

    assert body.count("data-sortable") == 2
    scenes_table = re.search(r'<table[^>]*aria-labelledby="scenes-title".*?</table>', body, re.S).group(0)
    assert scenes_table.count("<tr>") == 1 + 8
    assert '<td class="num" data-value="14">1 6/8</td>' in scenes_table
    assert '<td class="num" data-value="2">2A</td>' in scenes_table
    assert "<strong>MARY</strong>, <strong>BOB</strong>" in scenes_table
    cast_table = re.search(r'<table[^>]*aria-labelledby="cast-title".*?</table>', body, re.S).group(0)
    assert re.findall(r'<th scope="row">([A-Za-z]+)</th>', cast_table) == ["BOB", "MARY", "McCLANE"]
    assert 'data-sort="number"' in body
    assert "js/table-sort.js" in body
    pdf = job.job_outputs.get(role="report_pdf")
    assert f'href="{reverse("assets:download", args=[pdf.asset_id])}"' in body


# Through the real pipeline --------------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_breakdown_job_runs_in_a_real_worker_and_its_page_shows_the_tables(celery_worker_process, client, tmp_path):
    owner = OwnerFactory(organization__max_concurrent_jobs=2)
    script = tmp_path / "night_kitchen.fountain"
    script.write_text(SCRIPT, encoding="utf-8")
    asset = asset_create_from_file(
        organization=owner.organization, created_by=owner.user, path=script, kind="script",
        filename=script.name, content_type="text/plain",
    )  # fmt: skip
    job = job_submit(actor=owner.user, tool_slug="script-breakdown", asset_ids=[asset.pk], parameters={})
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(), timeout=90, message="breakdown"
    )
    assert job.status == "succeeded", job.error or job.log
    outputs = {o.role: o for o in job.job_outputs.select_related("asset")}
    assert set(outputs) == {
        "json", "scenes_csv", "characters_csv", "locations_csv", "elements_csv", "report_html", "report_pdf",
    }  # fmt: skip
    assert all(o.asset.status == Asset.Status.READY and o.provenance_key for o in outputs.values())
    with get_store().open(outputs["report_pdf"].asset.storage_key) as fh:
        assert fh.read(5) == b"%PDF-"
    with get_store().open(outputs["json"].provenance_key) as fh:
        sidecar = json.loads(fh.read())
    assert sidecar["run"]["tool"] == "script-breakdown"
    assert [s["eighths"] for s in job.summary["scenes"]] == EXPECTED_EIGHTHS
    assert JobInput.objects.get(job=job).sha256 == asset.sha256

    client.force_login(owner.user)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert 'aria-labelledby="scenes-title"' in body
    assert 'aria-labelledby="cast-title"' in body
    assert "FLASHBACK - THE LAKE" in body


def test_a_long_synopsis_ends_on_a_whole_word_with_an_ellipsis():
    from beta.tools.script_breakdown import _synopsis

    text = "The ARMY arrives. Soldiers march past a TRUCK and a HOVERCRAFT. " * 4
    line = _synopsis(text)
    assert len(line) <= 140
    assert line.endswith("\u2026")
    assert text.startswith(line[:-1])
    assert text[len(line) - 1] == " "  # cut between words
    assert _synopsis("Short and whole.") == "Short and whole."
