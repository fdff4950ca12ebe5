"""Generative image and video through Amazon Bedrock: Nova Canvas (`generate-image`) and Nova Reel (`generate-video`).

Both run on the `external` queue and only when Bedrock is configured (`beta.tools.bedrock`, the one module that
talks to AWS). Nova Canvas answers in the request. Nova Reel works asynchronously: `run` starts the invocation,
writing to the studio's own prefix of the output bucket, and returns a pending result; the pipeline parks the job
(no worker waits) and calls `poll` every `BEDROCK_POLL_SECONDS` until the video is there, then `poll` copies it
into the job's work folder and the pipeline stores it as the studio's output asset, with provenance saying it is
AI-generated (like every output).

`generate-image` also edits a plate (an image, or the first frame of a video) for set extension: INPAINTING repaints
inside a garbage-matte polygon (or what a mask prompt names), OUTPAINTING keeps the polygon (or the whole plate) and
repaints the rest, e.g. the frame extended by some per cent to the left, right or top (`beta.tools.canvas_edit` pads
the plate and makes the mask). Those outputs are the partner's plate with model-made areas: provenance says
`compositeWithTrainedAlgorithmicMedia`, and the job page offers them to `temp-comp` as a background.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from beta import tools as catalogue
from beta.tools import bedrock, canvas_edit
from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CANVAS_STYLES = [
    "PHOTOREALISM", "SOFT_DIGITAL_PAINTING", "GRAPHIC_NOVEL_ILLUSTRATION", "3D_ANIMATED_FAMILY_FILM", "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION", "MAXIMALISM", "MIDCENTURY_RETRO",
]  # fmt: skip
CANVAS_STYLE_LABELS = [
    "Photorealism", "Soft digital painting", "Graphic novel illustration", "3D animated family film",
    "Design sketch", "Flat vector illustration", "Maximalism", "Mid-century retro",
]  # fmt: skip
#: Sizes Nova Canvas accepts (sides 320-4096 in steps of 16, under 4.19 megapixels, aspect 1:4 to 4:1).
CANVAS_SIZES = ["1024x1024", "1280x720", "720x1280", "1920x1088", "1088x1920", "1152x896", "896x1152", "512x512"]
CANVAS_SIZE_LABELS = [
    "1024x1024 (square)", "1280x720 (16:9)", "720x1280 (9:16)", "1920x1088 (16:9, HD)", "1088x1920 (9:16, HD)",
    "1152x896 (4:3)", "896x1152 (3:4)", "512x512 (small square)",
]  # fmt: skip
CANVAS_INPUT_MIN_SIDE = 320
CANVAS_INPUT_MAX_SIDE = 2048  # larger inputs are scaled down (the model's limit is 4.19 megapixels)
#: task parameter -> Nova Canvas task type and its parameters' field, for the editing tasks
EDIT_TASKS = {"inpainting": ("INPAINTING", "inPaintingParams"), "outpainting": ("OUTPAINTING", "outPaintingParams")}
TASK_LABELS = ["Generate (from the prompt; with a file, variations of it)",
               "Inpainting: repaint inside the mask", "Outpainting / set extension: keep the mask, repaint the rest"]
EXTEND_MAX_PERCENT = 100
REEL_SIZE = (1280, 720)
REEL_SINGLE_SHOT_SECONDS = 6
REEL_SINGLE_SHOT_PROMPT = 512
REEL_SECONDS_OF_WORK_PER_SECOND = 15  # about 90 s for a 6-second clip, 14-17 min for 2 minutes: for the progress bar


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _to_png(source: Path, destination: Path, video_filter: str) -> None:
    """Decode the partner's image and write it as an RGB PNG through `video_filter` (scale, pad)."""
    command = [_ffmpeg(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
               "-vf", video_filter, "-frames:v", "1", "-pix_fmt", "rgb24", str(destination)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if result.returncode != 0 or not destination.is_file():
        raise ToolError("The input image could not be read as a picture (JPEG, PNG, TIFF, WebP...).")


def _percent(side: str) -> dict[str, Any]:
    return {"type": "integer", "title": f"Extend {side} (%)", "minimum": 0, "maximum": EXTEND_MAX_PERCENT,
            "default": 0, "description": f"Outpainting: add this share of the plate's width or height on the {side}."}


def _edit_plate(plate: ToolInput, work: Path) -> Any:
    """The plate's picture as RGB pixels (a video's first frame), scaled down to Nova Canvas's largest side."""
    import cv2

    if plate.width and plate.height and min(plate.width, plate.height) < canvas_edit.MIN_SIDE:
        raise ToolError(f"{plate.filename} is {plate.width}x{plate.height} pixels; Nova Canvas needs at least "
                        f"{canvas_edit.MIN_SIDE} pixels on each side.")
    png = work / "canvas-plate.png"
    side = canvas_edit.MAX_SIDE
    _to_png(plate.path, png, f"scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease")
    pixels = cv2.imread(str(png), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ToolError("The plate could not be read as a picture.")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def _png_b64(pixels: Any) -> str:
    import cv2

    ok, data = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ToolError("The plate could not be prepared for Nova Canvas.")
    return bedrock.b64(data.tobytes())


def _crop_png(data: bytes, canvas: canvas_edit.Canvas) -> bytes:
    """An inpainted canvas cut back to the plate (the padding to a multiple of 16 is not part of the picture)."""
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or (pixels.shape[1], pixels.shape[0]) != (canvas.width, canvas.height):
        return data  # not the size we sent: keep the answer as it is
    plate = pixels[canvas.top:canvas.top + canvas.plate_height, canvas.left:canvas.left + canvas.plate_width]
    ok, encoded = cv2.imencode(".png", plate)
    return encoded.tobytes() if ok else data


def _check_edit(task: str, inputs: list[ToolInput], params: dict[str, Any]) -> None:
    """Refuse, before anything is read or sent, an edit whose parameters cannot make a request."""
    polygon, prompt = params.get("mask_polygon"), (params.get("mask_prompt") or "").strip()
    extending = any(params.get(f"extend_{side}") for side in ("left", "right", "top"))
    if not inputs:
        raise ToolError(f"{task.capitalize()} needs a plate: choose an image, or a video (its first frame is used).")
    if polygon and prompt:
        raise ToolError("Give either a mask polygon or a mask prompt, not both.")
    if task == "inpainting" and extending:
        raise ToolError("Extending the frame is outpainting: choose the outpainting task, or set the extensions to 0.")
    if task == "inpainting" and not (polygon or prompt):
        raise ToolError("Inpainting needs a mask: draw the area to repaint (mask polygon) or name it (mask prompt).")
    if task == "outpainting" and not (polygon or prompt or extending):
        raise ToolError("Outpainting needs something to repaint: extend the frame, or give a mask polygon or a mask "
                        "prompt for what to keep.")
    if polygon:
        canvas_edit.check_polygon(polygon)


def _canvas_input(image: ToolInput, work: Path) -> str:
    """The input image as Nova Canvas takes it: a base64 PNG, scaled down to fit, refused when too small."""
    if image.width and image.height and min(image.width, image.height) < CANVAS_INPUT_MIN_SIDE:
        raise ToolError(
            f"{image.filename} is {image.width}x{image.height} pixels; Nova Canvas needs at least "
            f"{CANVAS_INPUT_MIN_SIDE} pixels on each side."
        )
    png = work / "canvas-input.png"
    side = CANVAS_INPUT_MAX_SIDE
    _to_png(image.path, png, f"scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease")
    return bedrock.b64(png.read_bytes())


def _reel_input(image: ToolInput, work: Path) -> dict[str, Any]:
    """The first frame for Nova Reel: exactly 1280x720, so the image is fitted and letterboxed."""
    width, height = REEL_SIZE
    png = work / "reel-first-frame.png"
    _to_png(image.path, png, f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
                             f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2")
    return {"format": "png", "source": {"bytes": bedrock.b64(png.read_bytes())}}


class _BedrockTool(Tool):
    queue = "external"
    version = "1.0.0"
    min_inputs = 0
    max_inputs = 1
    input_kinds: ClassVar[tuple[str, ...]] = ("image",)
    cost_factor = 1.0
    needs_output_bucket = False

    def configuration_problem(self, settings: Mapping[str, Any] | None = None) -> str:
        cfg = bedrock.config(catalogue.tool_settings() if settings is None else settings)
        return bedrock.configuration_problem(cfg, needs_output_bucket=self.needs_output_bucket)

    def missing_settings(self, settings: Mapping[str, Any] | None = None) -> list[str]:
        cfg = bedrock.config(catalogue.tool_settings() if settings is None else settings)
        return bedrock.missing_settings(cfg, needs_output_bucket=self.needs_output_bucket)

    def _check_configured(self, settings: Mapping[str, Any]) -> bedrock.BedrockConfig:
        problem = self.configuration_problem(settings)
        if problem:
            raise ToolError(problem)
        return bedrock.config(settings)


# --- Nova Canvas --------------------------------------------------------------------------------------------------
class GenerateImageTool(_BedrockTool):
    """Text to image with Nova Canvas; with an input image, variations of it guided by the prompt."""

    slug = "generate-image"
    name = "Generate image"
    description = (
        "Stills from a text prompt with Amazon Nova Canvas on Amazon Bedrock; give an image to get variations of it. "
        "Outputs are marked AI-generated."
    )
    output_kinds = ("image",)
    output_roles = ("image-*", "inpainted-*", "outpainted-*")
    input_kinds = ("image", "video")
    soft_time_limit = 5 * 60
    time_limit = 6 * 60
    parameters = {
        "type": "object",
        "properties": {
            "task": {"type": "string", "title": "Task", "enum": ["generate", *EDIT_TASKS], "x-enum-labels": TASK_LABELS,
                     "default": "generate",
                     "description": "Inpainting and outpainting edit a plate (an image, or a video's first frame)."},
            "prompt": {"type": "string", "title": "Prompt", "minLength": 1, "maxLength": 1024,
                       "description": "What to see: subject, setting, light, lens. Up to 1,024 characters. For "
                                      "outpainting, describe the whole picture, the kept part included."},
            "negative_prompt": {"type": "string", "title": "Leave out", "maxLength": 1024,
                                "description": "What not to see (write “mirrors”, not “no mirrors”)."},
            "style": {"type": "string", "title": "Style", "enum": CANVAS_STYLES, "x-enum-labels": CANVAS_STYLE_LABELS,
                      "description": "Text to image only."},
            "size": {"type": "string", "title": "Size", "enum": CANVAS_SIZES, "x-enum-labels": CANVAS_SIZE_LABELS,
                     "default": "1024x1024"},
            "number_of_images": {"type": "integer", "title": "Images", "minimum": 1, "maximum": 5, "default": 1},
            "quality": {"type": "string", "title": "Quality", "enum": ["standard", "premium"], "default": "standard"},
            "cfg_scale": {"type": "number", "title": "Prompt strength", "minimum": 1.1, "maximum": 10,
                          "default": 6.5, "description": "Higher follows the prompt more closely."},
            "similarity": {"type": "number", "title": "Similarity to the input image", "minimum": 0.2,
                           "maximum": 1.0, "default": 0.7, "description": "With an input image only."},
            "seed": {"type": "integer", "title": "Seed", "minimum": 0, "maximum": 858993459, "default": 0,
                     "description": "The same seed and settings give the same images."},
            "mask_polygon": {"type": "array", "title": "Mask polygon (normalised x, y corners)",
                             "description": "A garbage matte on the plate, corners from 0 to 1 (top left is 0, 0): "
                                            "inpainting repaints inside it, outpainting keeps it.",
                             "items": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
                                       "minItems": 2, "maxItems": 2}, "minItems": 3, "maxItems": 64},
            "mask_prompt": {"type": "string", "title": "Mask prompt", "maxLength": 1024,
                            "description": "Instead of a polygon: name what to repaint (inpainting) or keep "
                                           "(outpainting), e.g. “the actors”."},
            "extend_left": _percent("left"),
            "extend_right": _percent("right"),
            "extend_top": _percent("top"),
            "outpainting_mode": {"type": "string", "title": "Outpainting edge", "enum": ["DEFAULT", "PRECISE"],
                                 "x-enum-labels": ["Blend across the mask's edge", "Keep the mask's edge exactly"],
                                 "default": "DEFAULT"},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    }

    def edit_request(
        self, inputs: list[ToolInput], params: dict[str, Any], work: Path
    ) -> tuple[dict[str, Any], canvas_edit.Canvas]:
        """The INPAINTING or OUTPAINTING body: the plate padded to Nova Canvas's sizes, and its mask (or prompt)."""
        task = params["task"]
        _check_edit(task, inputs, params)
        task_type, field = EDIT_TASKS[task]
        plate = _edit_plate(inputs[0], work)
        canvas = canvas_edit.plan_canvas(plate.shape[1], plate.shape[0], left=params["extend_left"],
                                         right=params["extend_right"], top=params["extend_top"])  # fmt: skip
        edit: dict[str, Any] = {"image": _png_b64(canvas_edit.place_plate(plate, canvas)), "text": params["prompt"]}
        if params.get("negative_prompt"):
            edit["negativeText"] = params["negative_prompt"]
        prompt = (params.get("mask_prompt") or "").strip()
        if prompt:
            edit["maskPrompt"] = prompt
        else:
            extending = any(params[f"extend_{side}"] for side in ("left", "right", "top"))
            mask = canvas_edit.mask_image(canvas, task=task_type, polygon=params.get("mask_polygon"),
                                          extending=extending)  # fmt: skip
            edit["maskImage"] = _png_b64(mask)
        if task_type == "OUTPAINTING":
            edit["outPaintingMode"] = params["outpainting_mode"]
        config = {"numberOfImages": params["number_of_images"], "quality": params["quality"],
                  "cfgScale": params["cfg_scale"], "seed": params["seed"]}  # fmt: skip
        return {"taskType": task_type, field: edit, "imageGenerationConfig": config}, canvas

    def request_body(self, inputs: list[ToolInput], params: dict[str, Any], work: Path) -> dict[str, Any]:
        width, height = (int(n) for n in params["size"].split("x"))
        config = {
            "numberOfImages": params["number_of_images"], "width": width, "height": height,
            "quality": params["quality"], "cfgScale": params["cfg_scale"], "seed": params["seed"],
        }  # fmt: skip
        text = {"text": params["prompt"]}
        if params.get("negative_prompt"):
            text["negativeText"] = params["negative_prompt"]
        if inputs:
            variation = {**text, "images": [_canvas_input(inputs[0], work)], "similarityStrength": params["similarity"]}
            return {"taskType": "IMAGE_VARIATION", "imageVariationParams": variation, "imageGenerationConfig": config}
        if params.get("style"):
            text["style"] = params["style"]
        return {"taskType": "TEXT_IMAGE", "textToImageParams": text, "imageGenerationConfig": config}

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        cfg = self._check_configured(context.settings)
        params = {**self.defaults(), **params}
        canvas = None
        if params["task"] in EDIT_TASKS:
            body, canvas = self.edit_request(inputs, params, context.work_dir)
        else:
            body = self.request_body(inputs, params, context.work_dir)
        task = body["taskType"]
        progress(10, "Amazon Nova Canvas is making the image", log=f"{task} with {cfg.image_model_id} ({cfg.region})")
        response = bedrock.call(
            cfg, "invoke_model", modelId=cfg.image_model_id, body=json.dumps(body),
            contentType="application/json", accept="application/json",
        )  # fmt: skip
        try:
            payload = json.loads(response["body"].read())
        except ValueError as exc:
            raise ToolError("Amazon Nova Canvas answered with something that is not JSON.") from exc
        images = payload.get("images") or []
        if not images:
            reason = payload.get("error") or "it returned no image"
            raise ToolError(f"Amazon Nova Canvas made no image: {reason}")
        progress(90, "Saving the images")
        outputs = []
        for number, encoded in enumerate(images, start=1):
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ToolError("Amazon Nova Canvas returned an image that could not be decoded.") from exc
            if not data.startswith(PNG_SIGNATURE):
                raise ToolError("Amazon Nova Canvas returned an image that is not a PNG.")
            outputs.append(self._output(context.work_dir, number, data, task, canvas, bool(inputs)))
        summary = {
            "model": cfg.image_model_id, "task": task, "prompt": params["prompt"], "size": params["size"],
            "seed": params["seed"], "images": len(outputs),
        }  # fmt: skip
        if canvas is not None:
            summary.update(self._edit_summary(task, canvas, params))
        if payload.get("error"):  # some of the images asked for were withheld (e.g. by the content filters)
            summary["notice"] = str(payload["error"])
        return ToolResult(outputs=outputs, summary=summary)


    @staticmethod
    def _output(
        work: Path, number: int, data: bytes, task: str, canvas: canvas_edit.Canvas | None, has_input: bool
    ) -> ToolOutput:
        if task == "INPAINTING" and canvas is not None:
            data = _crop_png(data, canvas)
            name, role, label = f"inpainted-{number}.png", f"inpainted-{number}", f"Inpainted plate {number}"
        elif task == "OUTPAINTING":
            name, role, label = f"extended-{number}.png", f"outpainted-{number}", f"Set extension {number}"
        else:
            name, role = f"generated-{number}.png", f"image-{number}"
            label = f"{'Variation' if has_input else 'Generated image'} {number}"
        path = work / name
        path.write_bytes(data)
        what = "AI-generated areas" if canvas is not None else "AI-generated"
        return ToolOutput(path, "image", f"{label} (Nova Canvas, {what})", "image/png", path.name, role)

    @staticmethod
    def _edit_summary(task: str, canvas: canvas_edit.Canvas, params: dict[str, Any]) -> dict[str, Any]:
        """Where the plate sits in the result (for lining it up in a comp) and how the mask was made."""
        mask = "prompt" if (params.get("mask_prompt") or "").strip() else "polygon" if params.get("mask_polygon") \
            else "extension"
        cropped = task == "INPAINTING"
        return {
            "size": f"{canvas.plate_width}x{canvas.plate_height}" if cropped else f"{canvas.width}x{canvas.height}",
            "mask": mask,
            "plate": {"x": 0 if cropped else canvas.left, "y": 0 if cropped else canvas.top,
                      "width": canvas.plate_width, "height": canvas.plate_height},
            "extend_percent": {side: params[f"extend_{side}"] for side in ("left", "right", "top")},
        }


# --- Nova Reel --------------------------------------------------------------------------------------------------------
class GenerateVideoTool(_BedrockTool):
    """Text to video (and image to video) with Nova Reel, asynchronously: the worker is free while Bedrock works."""

    slug = "generate-video"
    name = "Generate video"
    description = (
        "Video from a text prompt with Amazon Nova Reel on Amazon Bedrock (1280x720, 24 fps); give an image to use "
        "it as the first frame. Outputs are marked AI-generated."
    )
    output_kinds = ("video",)
    output_roles = ("video",)
    needs_output_bucket = True
    soft_time_limit = 5 * 60  # per call: starting, and each poll (the wait itself holds no worker)
    time_limit = 6 * 60
    parameters = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "title": "Prompt", "minLength": 1, "maxLength": 4000,
                       "description": "Up to 512 characters for a 6-second shot; up to 4,000 for longer videos."},
            "duration_seconds": {"type": "integer", "title": "Duration (seconds)", "minimum": 6, "maximum": 120,
                                 "multipleOf": 6, "default": 6,
                                 "description": "6 s, or 12 to 120 s in steps of 6 (text only; needs Nova Reel "
                                                "1.1)."},
            "seed": {"type": "integer", "title": "Seed", "minimum": 0, "maximum": 2147483646, "default": 0},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    }

    def model_input(self, inputs: list[ToolInput], params: dict[str, Any], model_id: str, work: Path) -> dict[str, Any]:
        duration = params["duration_seconds"]
        video = {"durationSeconds": duration, "fps": 24, "dimension": f"{REEL_SIZE[0]}x{REEL_SIZE[1]}",
                 "seed": params["seed"]}
        if duration == REEL_SINGLE_SHOT_SECONDS:
            if len(params["prompt"]) > REEL_SINGLE_SHOT_PROMPT:
                raise ToolError(f"The prompt has {len(params['prompt'])} characters; a 6-second video takes up to "
                                f"{REEL_SINGLE_SHOT_PROMPT}.")
            text = {"text": params["prompt"]}
            if inputs:
                text["images"] = [_reel_input(inputs[0], work)]
            return {"taskType": "TEXT_VIDEO", "textToVideoParams": text, "videoGenerationConfig": video}
        if inputs:
            raise ToolError("A first-frame image works with 6-second videos only; choose 6 seconds or no image.")
        if model_id.endswith("v1:0"):
            raise ToolError(f"Videos longer than 6 seconds need Nova Reel 1.1; this portal uses {model_id}.")
        return {"taskType": "MULTI_SHOT_AUTOMATED", "multiShotAutomatedParams": {"text": params["prompt"]},
                "videoGenerationConfig": video}

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        cfg = self._check_configured(context.settings)
        params = {**self.defaults(), **params}
        if not context.storage_prefix:
            raise ToolError("Nova Reel needs the studio's storage prefix to write to.")
        model_input = self.model_input(inputs, params, cfg.video_model_id, context.work_dir)
        prefix = f"{context.storage_prefix}bedrock/"
        output_uri = f"s3://{cfg.output_bucket}/{prefix}"
        # The same job asking twice (a retry after a lost answer) gets the same invocation, not a second video.
        token = hashlib.sha256(f"{output_uri}|{json.dumps(model_input, sort_keys=True)}".encode()).hexdigest()
        progress(5, "Sending the request to Amazon Nova Reel",
                 log=f"{model_input['taskType']} with {cfg.video_model_id} ({cfg.region}), output to {output_uri}")
        response = bedrock.call(
            cfg, "start_async_invoke", modelId=cfg.video_model_id, modelInput=model_input,
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": output_uri}}, clientRequestToken=token,
        )  # fmt: skip
        arn = response["invocationArn"]
        progress(8, "Amazon Nova Reel is making the video", log=f"Started {arn}")
        summary = {"model": cfg.video_model_id, "task": model_input["taskType"], "prompt": params["prompt"],
                   "duration_seconds": params["duration_seconds"], "seed": params["seed"], "invocation_arn": arn}
        return ToolResult(summary=summary, pending=self._pending(cfg, summary, {
            "invocation_arn": arn, "bucket": cfg.output_bucket, "prefix": prefix, "started": time.time(), "polls": 0,
        }))

    def _pending(
        self, cfg: bedrock.BedrockConfig, summary: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        return {**state, "summary": summary, "poll_after": cfg.poll_seconds,
                "stage": "Amazon Nova Reel is making the video"}

    def poll(
        self, state: dict[str, Any], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        cfg = self._check_configured(context.settings)
        params = {**self.defaults(), **params}
        summary = dict(state.get("summary") or {})
        answer = bedrock.call(cfg, "get_async_invoke", invocationArn=state["invocation_arn"])
        status = answer.get("status")
        waited = time.time() - float(state.get("started", time.time()))
        if status == "Failed":
            reason = answer.get("failureMessage") or "no reason given"
            raise ToolError(f"Amazon Nova Reel could not make the video: {reason}")
        if status != "Completed":
            if waited > cfg.max_wait_seconds:
                raise ToolError(f"Amazon Nova Reel had not finished after {round(waited / 60)} minutes; "
                                "the run was given up.")
            expected = params["duration_seconds"] * REEL_SECONDS_OF_WORK_PER_SECOND
            progress(min(8 + 85 * waited / expected, 93), "Amazon Nova Reel is making the video",
                     log=f"Still {status or 'in progress'} after {round(waited)} s")
            return ToolResult(summary=summary, pending={**state, "polls": int(state.get("polls", 0)) + 1,
                                                        "poll_after": cfg.poll_seconds})
        progress(95, "Copying the video into your studio's storage")
        uri = ((answer.get("outputDataConfig") or {}).get("s3OutputDataConfig") or {}).get("s3Uri") or ""
        bucket, folder = bedrock.split_s3_uri(uri) if uri else (state["bucket"], state["prefix"])
        if bucket != state["bucket"] or not f"{folder.rstrip('/')}/".startswith(state["prefix"]):
            raise ToolError("Amazon Bedrock reported an output location outside the studio's folder; not read.")
        key = f"{folder.rstrip('/')}/output.mp4" if folder.rstrip("/") != state["prefix"].rstrip("/") else ""
        if not key:  # the answer named only our folder: find the video Bedrock wrote under it
            found = [k for k in bedrock.list_outputs(cfg, bucket, state["prefix"]) if k.endswith("/output.mp4")]
            if not found:
                raise ToolError("Amazon Nova Reel reported the video done, but no output.mp4 was found.")
            key = found[0]
        path = context.work_dir / "generated.mp4"
        bedrock.read_output(cfg, bucket, key, path)
        if path.stat().st_size < 12 or path.read_bytes()[4:8] != b"ftyp":
            raise ToolError("Amazon Nova Reel's output is not an MP4 video.")
        bedrock.remove_outputs(cfg, bucket, state["prefix"])  # the studio's storage keeps the copy, with provenance
        summary.update({"generation_seconds": round(waited), "polls": int(state.get("polls", 0)) + 1})
        return ToolResult(
            outputs=[ToolOutput(path, "video", "Generated video (Nova Reel, AI-generated)", "video/mp4",
                                "generated.mp4", "video", web_ready=True)],
            summary=summary,
        )


TOOLS = [GenerateImageTool, GenerateVideoTool]
