"""Provenance per tool output (beta/output_provenance.py): every tool is run here with a ToolContext on the tool
tests' own generated media, its outputs are signed as the pipeline signs them, and each manifest is read back with
c2pa's Reader against the table: action, digital source type, ingredient and its SHA-256, training and mining."""

import datetime as dt
import hashlib
import json
from fnmatch import fnmatchcase
from pathlib import Path

import c2pa
import pytest

from assets import provenance
from assets.provenance import (
    ALGORITHMIC_MEDIA,
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    INGREDIENT_SHA256,
    TRAINED_ALGORITHMIC_MEDIA,
    TRAINING_MINING_ENTRIES,
    verify,
)
from beta import tools as catalogue
from beta.output_provenance import (
    AI_INPUT_PROVENANCE,
    OUTPUT_PROVENANCE,
    UnknownOutputKind,
    output_kind,
    run_has_ai_inputs,
    run_record,
    sign_tool_output,
)
from beta.tool_settings import ToolSettings
from beta.tools import whisper_model
from beta.tools.base import ToolContext, ToolInput
from beta.tools.dailies import DailiesTool
from beta.tools.diagnostics import NoopTool
from beta.tools.generate import GenerateImageTool, GenerateVideoTool
from beta.tools.script_breakdown import ScriptBreakdownTool
from beta.tools.shot_detect import ShotDetectTool
from beta.tools.transcribe import TranscribeTool
from beta.tools.upscale import UpscaleTool
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input
from tests.beta.test_tool_bedrock import (  # noqa: F401 (fixtures)
    PROMPT,
    bedrock_on,
    canvas_answer,
    png_file,
    reel_bucket_if_any,
    stub,
)
from tests.beta.test_tool_script_breakdown import SCRIPT
from tests.beta.test_tool_transcribe import speech_clip, speech_wav  # noqa: F401 (fixtures)
from tests.beta.test_tool_upscale import picture  # noqa: F401 (fixture)

ORGANIZATION = "0b6f7a52-3c1e-4a53-9a55-5f0e0c1f7d11"


@pytest.fixture(autouse=True)
def _dev_signing(settings, tmp_path):
    """Sign with the development chain, made under this test's own VAR_DIR."""
    settings.VAR_DIR = tmp_path / "var"
    settings.C2PA_SIGNING_KEY_PATH = settings.C2PA_CERT_CHAIN_PATH = settings.C2PA_KMS_KEY_ID = ""
    settings.C2PA_TRUST_ANCHORS_PATH = ""


def sign_run(tool, inputs: list[ToolInput], params: dict, result) -> dict:
    """Sign each output as the pipeline does; {role: (output, provenance result)}."""
    record = run_record(
        tool=tool, inputs=inputs, parameters=params, organization=ORGANIZATION, job_id="42",
        summary=result.summary, created_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    )  # fmt: skip
    ai_inputs = run_has_ai_inputs(inputs, result.summary)
    return {output.role: (output, sign_tool_output(tool, output, record, ai_inputs=ai_inputs))
            for output in result.outputs}  # fmt: skip


def read_manifest(path: Path) -> dict:
    """The active manifest, read with c2pa's Reader: embedded, else from the `.c2pa` sidecar; it must validate."""
    mime = provenance.c2pa_format(path)
    sidecar = path.with_name(path.name + ".c2pa")
    with open(path, "rb") as stream, provenance._c2pa_context(anchors=provenance.trust_anchors_pem()) as context:
        reader = (
            c2pa.Reader(mime, stream, None, context=context)
            if mime
            else c2pa.Reader("application/octet-stream", stream, sidecar.read_bytes(), context=context)
        )
        with reader:
            store = json.loads(reader.json())
    assert store["validation_state"] == "Trusted", store.get("validation_results")
    return store["manifests"][store["active_manifest"]]


def assertion(manifest: dict, label: str) -> dict:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == label)


def check_outputs(tool, inputs: list[ToolInput], params: dict, signed: dict, *, ai_inputs: bool = False) -> None:
    """Every output says what the table says of it, names its inputs with their SHA-256 and refuses training."""
    assert signed, "the tool made no outputs"
    for role, (output, result) in signed.items():
        assert any(fnmatchcase(role, declared) for declared in tool.output_roles), f"{role} is not declared"
        kind = output_kind(tool.slug, role, ai_inputs=ai_inputs)
        manifest = read_manifest(output.path)
        actions = assertion(manifest, "c2pa.actions.v2")["actions"]
        step = actions[-1]
        assert step["action"] == kind.action, role
        assert step.get("digitalSourceType") == kind.digital_source_type, role
        ingredients = manifest.get("ingredients") or []
        assert [i["metadata"][INGREDIENT_SHA256] for i in ingredients] == [i.sha256 for i in inputs], role
        assert {i["relationship"] for i in ingredients} <= {kind.relationship}, role
        if kind.relationship == "parentOf":
            assert [a["action"] for a in actions] == ["c2pa.opened", kind.action], role
            # An AI source type on an edit names the model that made it, unless the model-made media came in as
            # an input (its own manifest names the model).
            assert kind.digital_source_type is None or kind.model_agent or ai_inputs, role
        entries = assertion(manifest, "cawg.training-mining")["entries"]
        assert set(entries) == set(TRAINING_MINING_ENTRIES)
        assert all(entry["use"] == "notAllowed" for entry in entries.values()), role
        job = assertion(manifest, "com.greenlight.job")
        assert (job["tool"], job["tool_version"], job["job_id"], job["role"]) == (tool.slug, tool.version, "42", role)
        assert job["parameters"] == json.loads(json.dumps(params))
        assert result.manifest_path.is_file()
        assert verify(output.path).valid


def hash_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# The table ------------------------------------------------------------------------------------------------------------
def test_every_output_kind_of_every_tool_in_the_catalogue_has_a_row(settings):
    # Given the whole catalogue, diagnostic tools included
    catalogue.configure(settings={**ToolSettings(), "ENABLE_DIAGNOSTIC_TOOLS": True})
    try:
        tools = catalogue.all_tools()
    finally:
        catalogue.configure(settings=ToolSettings())
    assert {"dailies", "shot-detect", "transcribe", "script-breakdown", "upscale", "generate-image",
            "generate-video", "noop"} <= {t.slug for t in tools}  # fmt: skip
    declared = set()
    for tool in tools:
        assert tool.output_roles, f"{tool.slug} declares no output roles"
        for role in tool.output_roles:
            declared.add((tool.slug, role))
            assert (tool.slug, role) in OUTPUT_PROVENANCE, f"no provenance row for {tool.slug} output {role}"
    # and no row describes an output no tool makes
    assert set(OUTPUT_PROVENANCE) == declared


def test_an_output_kind_with_no_row_is_refused_not_guessed():
    with pytest.raises(UnknownOutputKind):
        output_kind("dailies", "storyboard")
    assert output_kind("shot-detect", "shot-0012") == OUTPUT_PROVENANCE[("shot-detect", "shot-*")]


def test_renditions_of_partner_media_never_claim_ai():
    for (slug, role), kind in OUTPUT_PROVENANCE.items():
        if kind.action in ("c2pa.transcoded",) or slug == "dailies" or role in ("compare_before",):
            assert kind.digital_source_type is None, (slug, role)
            assert kind.relationship == "parentOf"
    assert OUTPUT_PROVENANCE[("upscale", "upscaled")].digital_source_type == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    assert OUTPUT_PROVENANCE[("generate-image", "image-*")].digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert OUTPUT_PROVENANCE[("shot-detect", "edl")].digital_source_type == ALGORITHMIC_MEDIA


# Each tool ------------------------------------------------------------------------------------------------------------
def test_dailies_outputs_are_edits_of_the_partners_clip_not_ai(dailies_clip, tool_context):
    inputs = [video_input(dailies_clip)]
    params = {**DailiesTool().defaults(), "height": 240}
    result = DailiesTool().run(inputs, params, ProgressRecorder(), tool_context)

    signed = sign_run(DailiesTool(), inputs, params, result)

    assert set(signed) == {"proxy", "poster", "contact_sheet"}
    check_outputs(DailiesTool(), inputs, params, signed)
    manifest = read_manifest(signed["proxy"][0].path)
    parent = manifest["ingredients"][0]
    assert parent["relationship"] == "parentOf"
    assert parent["metadata"][INGREDIENT_SHA256] == hash_of(dailies_clip)
    step = assertion(manifest, "c2pa.actions.v2")["actions"][-1]
    assert step["action"] == "c2pa.edited"
    assert "digitalSourceType" not in step
    assert step["softwareAgent"] == {"name": "Greenlight dailies", "version": DailiesTool.version}


def test_shot_stills_are_transcoded_and_cut_lists_get_a_c2pa_sidecar(cut_clip, tool_context):
    inputs = [video_input(cut_clip)]
    params = ShotDetectTool().defaults()
    result = ShotDetectTool().run(inputs, params, ProgressRecorder(), tool_context)

    signed = sign_run(ShotDetectTool(), inputs, params, result)

    assert {"shot-0001", "edl", "csv", "otio"} <= set(signed)
    check_outputs(ShotDetectTool(), inputs, params, signed)
    assert signed["shot-0001"][1].embedded
    edl, edl_result = signed["edl"]
    assert not edl_result.embedded
    assert edl_result.manifest_path == edl.path.with_name(edl.path.name + ".c2pa")


def test_an_upscale_is_an_ai_edit_naming_the_model(picture, tool_context):  # noqa: F811
    source = picture()
    inputs = [video_input(source, "plate.png", "image")]
    result = UpscaleTool().run(inputs, {}, ProgressRecorder(), tool_context)

    signed = sign_run(UpscaleTool(), inputs, {}, result)

    check_outputs(UpscaleTool(), inputs, {}, signed)
    step = assertion(read_manifest(signed["upscaled"][0].path), "c2pa.actions.v2")["actions"][-1]
    assert step["digitalSourceType"] == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    assert step["softwareAgent"]["name"] == result.summary["model"]
    before = assertion(read_manifest(signed["compare_before"][0].path), "c2pa.actions.v2")["actions"][-1]
    assert "digitalSourceType" not in before


def test_script_breakdown_documents_are_algorithmic_and_the_pdf_carries_its_manifest(tool_context, tmp_path):
    script = tmp_path / "night_kitchen.fountain"
    script.write_text(SCRIPT, encoding="utf-8")
    inputs = [video_input(script, "night_kitchen.fountain", "script")]
    result = ScriptBreakdownTool().run(inputs, {}, ProgressRecorder(), tool_context)

    signed = sign_run(ScriptBreakdownTool(), inputs, {}, result)

    check_outputs(ScriptBreakdownTool(), inputs, {}, signed)
    assert signed["report_pdf"][1].embedded
    assert not signed["scenes_csv"][1].embedded


def test_a_transcript_is_created_by_the_whisper_model(speech_clip, tool_context):  # noqa: F811
    inputs = [video_input(speech_clip, "scene 12 take 3.mp4")]
    result = TranscribeTool().run(inputs, {}, ProgressRecorder(), tool_context)

    signed = sign_run(TranscribeTool(), inputs, {}, result)

    check_outputs(TranscribeTool(), inputs, {}, signed)
    step = assertion(read_manifest(signed["srt"][0].path), "c2pa.actions.v2")["actions"][-1]
    assert step["action"] == "c2pa.created"
    assert step["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert step["softwareAgent"]["name"] == whisper_model.MODEL_NAME


def test_generated_images_are_created_by_nova_canvas(stub, png_file, tool_context):  # noqa: F811
    png = png_file.read_bytes()
    stub.add_response("invoke_model", canvas_answer(png))
    params = {"prompt": PROMPT, "number_of_images": 1, "size": "1280x720", "seed": 42}
    result = GenerateImageTool().run([], params, ProgressRecorder(), tool_context)

    signed = sign_run(GenerateImageTool(), [], params, result)

    check_outputs(GenerateImageTool(), [], params, signed)
    manifest = read_manifest(signed["image-1"][0].path)
    step = assertion(manifest, "c2pa.actions.v2")["actions"][0]
    assert step == {**step, "action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}
    assert step["softwareAgent"]["name"] == "amazon.nova-canvas-v1:0"
    assert not manifest.get("ingredients")


def test_a_generated_video_polled_later_names_its_input_image_by_hash(png_file, tmp_path):  # noqa: F811
    # Given a Nova Reel video finished while the job was parked: the input image is known by its SHA-256 only
    video = tmp_path / "generated.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=1", "-pix_fmt", "yuv420p", str(video))
    fingerprint = ToolInput(path=Path(), kind="", filename="", sha256=hash_of(png_file))
    output = provenance_output(video)
    result = type("R", (), {"outputs": [output], "summary": {"model": "amazon.nova-reel-v1:1"}})()

    signed = sign_run(GenerateVideoTool(), [fingerprint], {"prompt": PROMPT}, result)

    check_outputs(GenerateVideoTool(), [fingerprint], {"prompt": PROMPT}, signed)
    ingredient = read_manifest(video)["ingredients"][0]
    assert ingredient["relationship"] == "inputTo"


def provenance_output(path: Path):
    from beta.tools.base import ToolOutput

    return ToolOutput(path, "video", "Generated video", "video/mp4", path.name, "video", web_ready=True)


def test_a_diagnostic_result_gets_a_sidecar_that_validates_and_fails_after_one_flipped_byte(tmp_path, tool_context):
    source = tmp_path / "input.bin"
    source.write_bytes(b"the partner's bytes" * 100)
    inputs = [video_input(source, "input.bin", "document")]
    result = NoopTool().run(inputs, {}, ProgressRecorder(), tool_context)
    signed = sign_run(NoopTool(), inputs, {}, result)
    check_outputs(NoopTool(), inputs, {}, signed)
    output, _ = signed["result"]
    manifest_bytes = output.path.with_name(output.path.name + ".c2pa").read_bytes()

    # When one byte of the file is flipped, the same sidecar no longer validates
    flip_one_byte(output.path)

    anchors = provenance.trust_anchors_pem()
    with (
        open(output.path, "rb") as stream,
        provenance._c2pa_context(anchors=anchors) as ctx,
        c2pa.Reader("application/octet-stream", stream, manifest_bytes, context=ctx) as reader,
    ):
        store = json.loads(reader.json())
    failures = [s["code"] for s in store["validation_results"]["activeManifest"]["failure"]]
    assert "assertion.dataHash.mismatch" in failures
    assert not verify(output.path).valid


def test_an_embedded_output_also_validates_from_its_sidecar_alone(dailies_clip, tool_context, tmp_path):
    inputs = [video_input(dailies_clip)]
    params = {**DailiesTool().defaults(), "height": 240}
    result = DailiesTool().run(inputs, params, ProgressRecorder(), tool_context)
    poster, signed = sign_run(DailiesTool(), inputs, params, result)["poster"]

    anchors = provenance.trust_anchors_pem()
    with (
        open(poster.path, "rb") as stream,
        provenance._c2pa_context(anchors=anchors) as ctx,
        c2pa.Reader("image/jpeg", stream, signed.manifest_path.read_bytes(), context=ctx) as reader,
    ):
        assert reader.get_validation_state() == "Trusted"


def test_an_input_the_c2pa_library_cannot_parse_is_still_named_by_its_hash(tmp_path, tool_context):
    # Given a partner's "MP4" whose boxes run past its end (the C2PA library refuses to parse it as an ingredient)
    source = tmp_path / "plate.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x7f" * 4096)
    inputs = [video_input(source, "plate.mp4")]
    result = NoopTool().run(inputs, {}, ProgressRecorder(), tool_context)

    signed = sign_run(NoopTool(), inputs, {}, result)

    check_outputs(NoopTool(), inputs, {}, signed)


def test_a_temp_comp_is_a_composite_with_both_plates_as_ingredients(tmp_path, tool_context, png_file):  # noqa: F811
    from beta.tools.temp_comp import TempCompTool
    from tests.beta.test_tool_temp_comp import green_plate

    plate = green_plate(tmp_path / "plate.mp4", "25", "10:00:00:00")
    inputs = [video_input(plate), video_input(png_file, "bg.png", "image")]
    result = TempCompTool().run(inputs, {}, ProgressRecorder(), tool_context)

    signed = sign_run(TempCompTool(), inputs, {}, result)

    check_outputs(TempCompTool(), inputs, {}, signed)
    comp = read_manifest(signed["comp"][0].path)
    step = assertion(comp, "c2pa.actions.v2")["actions"][-1]
    assert step["action"] == "c2pa.edited"
    assert "digitalSourceType" not in step  # keyed by rules, not a model
    assert {i["relationship"] for i in comp["ingredients"]} == {"parentOf"}
    assert result.summary["review_label"] == "TEMP COMP"
    review = read_manifest(signed["review"][0].path)
    assert "digitalSourceType" not in assertion(review, "c2pa.actions.v2")["actions"][-1]


def label_width(result) -> int:
    """How many columns of the review copy's first frame the burnt-in label changed (against the ProRes comp)."""
    import numpy as np

    from beta.tools.temp_comp import Frames

    firsts = []
    for output in result.outputs[:2]:  # the comp, the review copy
        frames = Frames(output.path, 320, 180, "25")
        firsts.append(next(iter(frames)).astype(np.int16))
        frames.close()
    changed = np.abs(firsts[0] - firsts[1]).max(axis=2)[14:34] > 40
    return int(changed.any(axis=0).sum())


@pytest.mark.parametrize("origin", ["generate-image", "declared"])
def test_a_temp_comp_over_an_ai_background_is_a_composite_with_trained_media_and_says_so(
    tmp_path, tool_context, png_file, origin  # noqa: F811
):  # fmt: skip
    from beta.tools.temp_comp import TempCompTool
    from tests.beta.test_tool_temp_comp import green_plate

    # Given a background the portal made with Nova Canvas (its provenance row: trained algorithmic media), or one
    # the partner says a model made elsewhere
    plate = green_plate(tmp_path / "plate.mp4", "25", "10:00:00:00")
    source_type = output_kind("generate-image", "image-1").digital_source_type if origin == "generate-image" else ""
    background = ToolInput(path=png_file, kind="image", filename="bg.png", sha256=hash_of(png_file),
                           digital_source_type=source_type or "")  # fmt: skip
    params = {"ai_background": True} if origin == "declared" else {}
    inputs = [video_input(plate), background]
    result = TempCompTool().run(inputs, params, ProgressRecorder(), tool_context)

    signed = sign_run(TempCompTool(), inputs, params, result)

    check_outputs(TempCompTool(), inputs, params, signed, ai_inputs=True)
    for role in ("comp", "review"):
        step = assertion(read_manifest(signed[role][0].path), "c2pa.actions.v2")["actions"][-1]
        assert step["action"] == "c2pa.edited"
        assert step["digitalSourceType"] == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
        assert AI_INPUT_PROVENANCE[("temp-comp", role)].digital_source_type == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    matte = assertion(read_manifest(signed["matte"][0].path), "c2pa.actions.v2")["actions"][-1]
    assert "digitalSourceType" not in matte  # the matte is pulled from the plate alone
    assert result.summary["review_label"] == "TEMP COMP · AI background"
    # The burnt-in label is the longer one: its box is wider than a camera background's.
    elsewhere = ToolContext(work_dir=tmp_path / "camera", studio_name="S")
    elsewhere.work_dir.mkdir()
    camera = TempCompTool().run([video_input(plate), video_input(png_file, "bg.png", "image")], {},
                                ProgressRecorder(), elsewhere)  # fmt: skip
    assert camera.summary["review_label"] == "TEMP COMP"
    assert label_width(result) > label_width(camera) + 20 > 40


def test_the_portals_own_record_decides_an_inputs_origin():
    from beta.output_provenance import recorded_source_type

    assert recorded_source_type(tool_slug="generate-video", role="video", summary={}) == TRAINED_ALGORITHMIC_MEDIA
    assert recorded_source_type(tool_slug="dailies", role="proxy", summary={}) == ""
    assert recorded_source_type(tool_slug="temp-comp", role="comp", summary={"ai_inputs": True}) == (
        COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    )
    assert recorded_source_type(tool_slug="nope", role="x", summary={}) == ""
    assert ToolInput(Path(), "image", "a", "0", digital_source_type=TRAINED_ALGORITHMIC_MEDIA).ai_generated
    assert not ToolInput(Path(), "image", "a", "0", digital_source_type=ALGORITHMIC_MEDIA).ai_generated
