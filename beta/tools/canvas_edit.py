"""Preparing a plate for Nova Canvas inpainting and outpainting: the canvas's size, the padding and the mask.

Nova Canvas takes pictures whose sides are 320 to 4,096 pixels and multiples of 16, at most 4,194,304 pixels, with an
aspect ratio between 1:4 and 4:1 (Amazon Nova user guide, "Image generation and editing"). A plate rarely fits that
as it is (1080 is not a multiple of 16), so it is padded, never stretched: the padding goes on the sides being
extended (else right and bottom), and the model paints it. A plate too large is scaled down to fit first.

The mask is an RGB PNG of pure black and white (the service refuses anything else). Black is the masked area: an
INPAINTING request repaints inside it, an OUTPAINTING request keeps it and repaints the rest. So a garbage-matte
polygon (normalised x, y corners on the plate) is drawn black, and for a set extension the plate is black and the
padding white.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from beta.tools.base import ToolError

MIN_SIDE = 320
MAX_SIDE = 4096
MAX_PIXELS = 4_194_304
SIDE_STEP = 16
MAX_ASPECT = 4.0
#: A polygon enclosing less than this share of the plate is a slip of the pen, not a mask.
MIN_POLYGON_AREA = 0.001

Image = npt.NDArray[Any]  # uint8 pixels (OpenCV's functions are typed loosely)


@dataclass(frozen=True)
class Canvas:
    """Where the plate (scaled to `plate_width` x `plate_height`) sits on the canvas sent to Nova Canvas."""

    width: int
    height: int
    plate_width: int
    plate_height: int
    left: int
    top: int

    @property
    def right(self) -> int:
        return self.width - self.left - self.plate_width

    @property
    def bottom(self) -> int:
        return self.height - self.top - self.plate_height


def _up(value: int) -> int:
    return -(-value // SIDE_STEP) * SIDE_STEP


def plan_canvas(width: int, height: int, *, left: float = 0, right: float = 0, top: float = 0) -> Canvas:
    """The canvas for a `width` x `height` plate extended by `left`/`right`/`top` per cent of its size.

    ToolError (said for the partner) when the result cannot be a Nova Canvas input."""
    if min(width, height) < MIN_SIDE:
        raise ToolError(f"The plate is {width}x{height} pixels; Nova Canvas needs at least {MIN_SIDE} pixels on each "
                        "side.")
    wide, high = width * (1 + (left + right) / 100), height * (1 + top / 100)
    if max(wide / high, high / wide) > MAX_ASPECT:
        raise ToolError(
            f"Extended that way the picture would be {max(wide / high, high / wide):.1f} times as wide as high (or "
            f"high as wide); Nova Canvas takes at most {MAX_ASPECT:g}:1. Extend it less."
        )
    scale = min(1.0, MAX_SIDE / wide, MAX_SIDE / high, math.sqrt(MAX_PIXELS / (wide * high)))
    while True:
        canvas = _canvas_at(scale, width, height, left, right, top)
        if max(canvas.width, canvas.height) <= MAX_SIDE and canvas.width * canvas.height <= MAX_PIXELS:
            break
        scale *= 0.99
    if min(canvas.plate_width, canvas.plate_height) < MIN_SIDE // 2:
        raise ToolError("Extended that much the plate would have to shrink too far to fit Nova Canvas. Extend it less.")
    return canvas


def _canvas_at(scale: float, width: int, height: int, left: float, right: float, top: float) -> Canvas:
    plate_w, plate_h = max(1, round(width * scale)), max(1, round(height * scale))
    pad_l, pad_r, pad_t = round(plate_w * left / 100), round(plate_w * right / 100), round(plate_h * top / 100)
    full_w, full_h = _up(max(plate_w + pad_l + pad_r, MIN_SIDE)), _up(max(plate_h + pad_t, MIN_SIDE))
    extra_w = full_w - (plate_w + pad_l + pad_r)
    if left and right:
        pad_l += extra_w // 2
    elif left:
        pad_l += extra_w
    extra_h = full_h - (plate_h + pad_t)
    if top:
        pad_t += extra_h
    return Canvas(width=full_w, height=full_h, plate_width=plate_w, plate_height=plate_h, left=pad_l, top=pad_t)


def polygon_area(points: Sequence[Sequence[float]]) -> float:
    """The area a polygon of normalised corners encloses, as a share of the plate (the shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2


def check_polygon(points: Sequence[Sequence[float]]) -> None:
    if polygon_area(points) < MIN_POLYGON_AREA:
        raise ToolError("The mask polygon encloses (almost) no area: draw at least three corners around the area.")


def place_plate(plate: Image, canvas: Canvas) -> Image:
    """The plate scaled to its place and padded out to the canvas (edges repeated, for the model to continue)."""
    import cv2

    if (plate.shape[1], plate.shape[0]) != (canvas.plate_width, canvas.plate_height):
        plate = cv2.resize(plate, (canvas.plate_width, canvas.plate_height), interpolation=cv2.INTER_AREA)
    padded: Image = cv2.copyMakeBorder(plate, canvas.top, canvas.bottom, canvas.left, canvas.right,
                                       cv2.BORDER_REPLICATE)  # fmt: skip
    return padded


def mask_image(canvas: Canvas, *, task: str, polygon: Sequence[Sequence[float]] | None, extending: bool) -> Image:
    """The black-and-white mask (3 channels) for INPAINTING or OUTPAINTING; ToolError if it leaves nothing to do
    (the few rows or columns that round the canvas up to a multiple of 16 do not count)."""
    import cv2

    if task == "INPAINTING":  # repaint inside the polygon; keep the rest
        mask = np.full((canvas.height, canvas.width), 255, np.uint8)
        cv2.fillPoly(mask, [_corners(polygon or [], canvas)], 0, lineType=cv2.LINE_8)
        plate = _plate_area(mask, canvas)
        if not (plate == 0).any():
            raise ToolError("The mask polygon covers no pixel of the plate: there is nothing to repaint.")
        if (plate == 0).all():
            raise ToolError("The mask polygon covers the whole plate: nothing of it would be kept. Use text to image.")
    else:  # keep the polygon (else the whole plate); repaint the rest, the extension included
        mask = np.full((canvas.height, canvas.width), 255, np.uint8)
        if polygon:
            cv2.fillPoly(mask, [_corners(polygon, canvas)], 0, lineType=cv2.LINE_8)
        else:
            mask[canvas.top:canvas.top + canvas.plate_height, canvas.left:canvas.left + canvas.plate_width] = 0
        if not extending and not (_plate_area(mask, canvas) == 255).any():
            raise ToolError("Nothing is left to repaint: extend the frame, or draw a polygon smaller than the plate.")
    rgb: Image = cv2.cvtColor(mask, cv2.COLOR_GRAY2RGB)
    return rgb


def _plate_area(mask: Image, canvas: Canvas) -> Image:
    area: Image = mask[canvas.top:canvas.top + canvas.plate_height, canvas.left:canvas.left + canvas.plate_width]
    return area


def _corners(polygon: Sequence[Sequence[float]], canvas: Canvas) -> npt.NDArray[np.int32]:
    """Normalised plate corners in canvas pixels."""
    corners = [[round(canvas.left + x * canvas.plate_width), round(canvas.top + y * canvas.plate_height)]
               for x, y in polygon]  # fmt: skip
    return np.array(corners, dtype=np.int32)
