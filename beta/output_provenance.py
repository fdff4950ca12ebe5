"""The one table of what each tool output is, in C2PA's and IPTC's words: its action and its digital source type.

Every output kind a tool can make (its slug and the output's role; `Tool.output_roles` declares them) has one row.
`tests/beta/test_output_provenance.py` fails when a tool declares an output kind this table does not cover, and the
per-tool tests read every output's manifest back against its row. An output kind missing here stops the job with an
error rather than signing a guess: a manifest that calls the partner's footage AI-generated, or an AI output real,
is worse than none.

The vocabulary (C2PA 2.x actions; IPTC digital source types):

- a rendition of the partner's own media (a frame as a JPEG) is ``c2pa.transcoded``; one that adds to it (burnt-in
  timecode and watermark, a contact sheet's layout, a plain bicubic enlargement) is ``c2pa.edited``. Both have the
  input as their ``parentOf`` ingredient and **no** digital source type: nothing in them is synthetic;
- an output a model changed (Real-ESRGAN's upscale; Nova Canvas's inpainting and outpainting of a plate) is
  ``c2pa.edited`` with ``compositeWithTrainedAlgorithmicMedia`` (the partner's picture with model-made detail or
  areas), the model named in the action's ``softwareAgent``;
- an output a trained model made (Bedrock images and video, a Whisper transcript) is ``c2pa.created`` with
  ``trainedAlgorithmicMedia``; an output an algorithm without training made (a cut list, a script breakdown) is
  ``c2pa.created`` with ``algorithmicMedia``. Inputs they were made from are ``inputTo`` ingredients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from assets.provenance import (
    ALGORITHMIC_MEDIA,
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    TRAINED_ALGORITHMIC_MEDIA,
    OutputKind,
    ProvenanceResult,
    RunRecord,
    SourceFile,
    sign_output,
)
from beta.tools.base import Tool, ToolInput, ToolOutput

_TRANSCODED, _EDITED, _CREATED = "c2pa.transcoded", "c2pa.edited", "c2pa.created"
_CUT_LIST = OutputKind(
    _CREATED, "Cut list found by scene detection (PySceneDetect's content detector; no trained model)",
    ALGORITHMIC_MEDIA,
)  # fmt: skip
_BREAKDOWN = OutputKind(
    _CREATED, "Breakdown parsed from the screenplay by rules (screenplay-tools; no trained model)", ALGORITHMIC_MEDIA
)
_TRANSCRIPT = OutputKind(
    _CREATED, "Speech recognised by a Whisper model on the portal's own servers", TRAINED_ALGORITHMIC_MEDIA,
    model_agent=True,
)  # fmt: skip
_DIAGNOSTIC = OutputKind(_CREATED, "Diagnostic result (the input's SHA-256)", ALGORITHMIC_MEDIA)

#: (tool slug, output role or an fnmatch pattern of numbered roles) -> what the output is.
OUTPUT_PROVENANCE: dict[tuple[str, str], OutputKind] = {
    # Dailies: renditions of the partner's clip, with timecode and watermark burnt in.
    ("dailies", "proxy"): OutputKind(
        _EDITED, "Review copy: transcoded to H.264 with the source timecode and the studio's watermark burnt in"
    ),
    ("dailies", "poster"): OutputKind(_EDITED, "A frame of the review copy (timecode and watermark burnt in)"),
    ("dailies", "contact_sheet"): OutputKind(_EDITED, "Frames of the review copy laid out on one sheet"),
    ("dailies", "deliverable"): OutputKind(
        _TRANSCODED, "Editorial deliverable: transcoded to ProRes or DNxHR with the source timecode and reel name, "
        "nothing burnt in",
    ),
    # Shot detection: stills of the partner's shots, and the cut list.
    ("shot-detect", "shot-*"): OutputKind(_TRANSCODED, "The shot's middle frame, as a JPEG"),
    ("shot-detect", "edl"): _CUT_LIST,
    ("shot-detect", "csv"): _CUT_LIST,
    ("shot-detect", "otio"): _CUT_LIST,
    # Transcription: text a speech model wrote from the partner's sound.
    ("transcribe", "transcript"): _TRANSCRIPT,
    ("transcribe", "srt"): _TRANSCRIPT,
    ("transcribe", "vtt"): _TRANSCRIPT,
    # Script breakdown: documents parsed from the partner's screenplay.
    ("script-breakdown", "json"): _BREAKDOWN,
    ("script-breakdown", "scenes_csv"): _BREAKDOWN,
    ("script-breakdown", "characters_csv"): _BREAKDOWN,
    ("script-breakdown", "locations_csv"): _BREAKDOWN,
    ("script-breakdown", "elements_csv"): _BREAKDOWN,
    ("script-breakdown", "report_html"): _BREAKDOWN,
    ("script-breakdown", "report_pdf"): _BREAKDOWN,
    # Upscaling: the partner's picture with detail a model made.
    ("upscale", "upscaled"): OutputKind(
        _EDITED, "Enlarged 2x by a super-resolution model", COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, model_agent=True
    ),
    ("upscale", "compare_before"): OutputKind(_EDITED, "A detail of the input enlarged 2x by plain bicubic resizing"),
    ("upscale", "compare_after"): OutputKind(
        _EDITED,
        "A detail of the input enlarged 2x by a super-resolution model",
        COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
        model_agent=True,
    ),
    # Temp comp: the partner's plate keyed over a background by classical keying (no trained model, so no AI source
    # type on the partner's picture); a background a model made carries that in its own ingredient manifest.
    ("temp-comp", "comp"): OutputKind(_EDITED, "Temp comp: the plate keyed over the background (no trained model)"),
    ("temp-comp", "review"): OutputKind(_EDITED, "Review copy of the temp comp (H.264, labelled TEMP COMP)"),
    ("temp-comp", "matte"): OutputKind(_EDITED, "The key's matte, pulled from the plate"),
    ("temp-comp", "edl"): OutputKind(_CREATED, "EDL placing the temp comp at the plate's timecode", ALGORITHMIC_MEDIA),
    ("temp-comp", "otio"): OutputKind(
        _CREATED, "OpenTimelineIO clip placing the temp comp at the plate's timecode", ALGORITHMIC_MEDIA
    ),
    # Generation on Amazon Bedrock: made by a model from a prompt (and any input image).
    ("generate-image", "image-*"): OutputKind(
        _CREATED, "Generated from a prompt by Amazon Nova Canvas", TRAINED_ALGORITHMIC_MEDIA, model_agent=True
    ),
    # Set extension: the partner's plate with areas Nova Canvas painted (inside or outside a mask), so an edit of the
    # plate (its parentOf ingredient) that is part camera footage, part model-made.
    ("generate-image", "inpainted-*"): OutputKind(
        _EDITED, "The plate with the masked area repainted by Amazon Nova Canvas (inpainting)",
        COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, model_agent=True,
    ),
    ("generate-image", "outpainted-*"): OutputKind(
        _EDITED, "The plate kept and the rest, the extended frame included, painted by Amazon Nova Canvas "
        "(outpainting)", COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, model_agent=True,
    ),
    ("generate-video", "video"): OutputKind(
        _CREATED, "Generated from a prompt by Amazon Nova Reel", TRAINED_ALGORITHMIC_MEDIA, model_agent=True
    ),
    # Diagnostic tools (the pipeline's own tests).
    **{(slug, "result"): _DIAGNOSTIC for slug in ("noop", "ping", "fail", "flaky", "slow", "crash")},
}


#: Variant rows, for a run with an AI input: an input the portal's own record says a model made (an output of
#: generate-image or generate-video, `ToolInput.ai_generated`), or one the run's summary says was (`ai_inputs`: the
#: partner's word that a background came from a model elsewhere). The same output then holds model-made media, so it
#: is a composite with trained algorithmic media; no model ran in this tool, so none is named as its agent.
AI_INPUT_PROVENANCE: dict[tuple[str, str], OutputKind] = {
    ("temp-comp", "comp"): OutputKind(
        _EDITED, "Temp comp: the plate keyed over a background a model made (the keying itself uses no model)",
        COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    ),
    ("temp-comp", "review"): OutputKind(
        _EDITED, "Review copy of the temp comp (H.264, labelled TEMP COMP · AI background)",
        COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    ),
}  # fmt: skip


class UnknownOutputKind(LookupError):
    """A tool made an output the table has no row for: add one (and declare the role on the tool)."""


def output_kind(tool_slug: str, role: str, *, ai_inputs: bool = False) -> OutputKind:
    """The table's row for one output (its AI-input variant when the run had one); UnknownOutputKind when there is
    none."""
    if ai_inputs and (tool_slug, role) in AI_INPUT_PROVENANCE:
        return AI_INPUT_PROVENANCE[(tool_slug, role)]
    exact = OUTPUT_PROVENANCE.get((tool_slug, role))
    if exact is not None:
        return exact
    for (slug, pattern), kind in OUTPUT_PROVENANCE.items():
        if slug == tool_slug and fnmatchcase(role, pattern):
            return kind
    raise UnknownOutputKind(f"no provenance row for output {role!r} of tool {tool_slug!r}")


def run_record(
    *,
    tool: Tool,
    inputs: Iterable[ToolInput],
    parameters: dict[str, Any],
    organization: str,
    job_id: str,
    summary: dict[str, Any],
    created_at: dt.datetime,
) -> RunRecord:
    """What made a run's outputs: the tool, the model its summary names, the inputs (with their local copies, read
    as ingredients), the parameters and the job."""
    inputs = [i for i in inputs if i.sha256]
    return RunRecord(
        tool=tool.slug, tool_version=tool.version, inputs_sha256=tuple(i.sha256 for i in inputs),
        parameters=parameters, organization=organization, job_id=job_id, created_at=created_at,
        model=run_model(summary), sources=tuple(SourceFile(i.sha256, i.filename, i.path) for i in inputs),
    )  # fmt: skip


def run_has_ai_inputs(inputs: Iterable[ToolInput], summary: dict[str, Any] | None) -> bool:
    """Whether a run combined model-made media: an input the portal made with a model, or the summary says so."""
    return any(i.ai_generated for i in inputs) or bool((summary or {}).get("ai_inputs"))


def sign_tool_output(tool: Tool, output: ToolOutput, record: RunRecord, *, ai_inputs: bool = False
                     ) -> ProvenanceResult:  # fmt: skip
    """Sign one output as the table says it was made (UnknownOutputKind when the table has no row for it)."""
    kind = output_kind(tool.slug, output.role, ai_inputs=ai_inputs)
    return sign_output(output.path, record, kind=kind, role=output.role)


def recorded_source_type(*, tool_slug: str, role: str, summary: dict[str, Any] | None) -> str:
    """The IPTC digital source type the portal signed one of its outputs with (by the table), "" for none: what a
    later run is told of that asset when it is an input (`ToolInput.digital_source_type`)."""
    try:
        kind = output_kind(tool_slug, role, ai_inputs=bool((summary or {}).get("ai_inputs")))
    except UnknownOutputKind:
        return ""
    return kind.digital_source_type or ""


def run_model(summary: dict[str, Any]) -> str:
    """The model a run used, as its summary names it (a name, or {"name": ...}); "" when it names none."""
    model = (summary or {}).get("model")
    if isinstance(model, dict):
        model = model.get("name")
    return str(model) if isinstance(model, str | int) else ""
