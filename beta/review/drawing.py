"""Drawings on a paused frame: vector JSON in normalised coordinates (0..1 across and down the picture).

    {"v": 1, "shapes": [{"tool": "arrow", "color": "#ff3b30", "points": [[0.2, 0.3], [0.5, 0.5]]},
                        {"tool": "text", "color": "#ffffff", "points": [[0.1, 0.1]], "text": "soft edge"}]}

`clean_drawing` checks what a browser sends (schema and size, with a sentence for each problem); `burn_in` draws the
same shapes onto a picture with Pillow, with the geometry static/js/player.js uses on screen.
"""

from __future__ import annotations

import json
import math
import re

from PIL import Image, ImageDraw, ImageFont

TOOLS = ("pen", "arrow", "rect", "ellipse", "text")
MAX_BYTES = 64 * 1024
MAX_SHAPES = 50
MAX_POINTS = 500
MAX_TEXT = 200
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class DrawingError(ValueError):
    """The drawing is not one this portal can keep; the message says why."""


def _point(value, where: str) -> list[float]:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise DrawingError(f"{where}: a point is a pair [x, y].")
    out = []
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise DrawingError(f"{where}: coordinates are numbers between 0 and 1.")
        if not 0 <= number <= 1:
            raise DrawingError(f"{where}: coordinates are between 0 and 1 (across and down the picture).")
        out.append(round(float(number), 4))
    return out


def _shape(raw, index: int) -> dict:
    where = f"Shape {index + 1}"
    if not isinstance(raw, dict):
        raise DrawingError(f"{where} is not an object.")
    unknown = set(raw) - {"tool", "color", "points", "text"}
    if unknown:
        raise DrawingError(f"{where} has unknown fields: {', '.join(sorted(map(str, unknown)))[:80]}.")
    tool = raw.get("tool")
    if tool not in TOOLS:
        raise DrawingError(f"{where}: the tool must be one of {', '.join(TOOLS)}.")
    color = raw.get("color", "#ff3b30")
    if not isinstance(color, str) or not _COLOR.match(color):
        raise DrawingError(f"{where}: the colour must be #rrggbb.")
    points = raw.get("points")
    if not isinstance(points, list) or not points:
        raise DrawingError(f"{where} has no points.")
    if len(points) > MAX_POINTS:
        raise DrawingError(f"{where} has more than {MAX_POINTS} points.")
    needed = {"pen": 2, "arrow": 2, "rect": 2, "ellipse": 2, "text": 1}[tool]
    if len(points) < needed or (tool in ("arrow", "rect", "ellipse") and len(points) != 2):
        raise DrawingError(f"{where}: a {tool} needs {'2' if needed == 2 else '1'} point{'s' if needed == 2 else ''}.")
    shape = {"tool": tool, "color": color.lower(), "points": [_point(p, where) for p in points]}
    if tool == "text":
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DrawingError(f"{where}: a text shape needs its text.")
        if len(text) > MAX_TEXT:
            raise DrawingError(f"{where}: keep text under {MAX_TEXT} characters.")
        shape["text"] = " ".join(text.split())
    elif "text" in raw:
        raise DrawingError(f"{where}: only a text shape has text.")
    return shape


def clean_drawing(value) -> dict | None:
    """The drawing, validated and normalised; None for no drawing. Raises DrawingError with a sentence."""
    if value in (None, "", {}):
        return None
    if isinstance(value, str | bytes):
        if len(value) > MAX_BYTES:
            raise DrawingError(f"The drawing is too large (over {MAX_BYTES // 1024} KB). Use fewer strokes.")
        try:
            value = json.loads(value)
        except ValueError:
            raise DrawingError("The drawing could not be read (it is not JSON).") from None
    if not isinstance(value, dict):
        raise DrawingError("A drawing is an object with a list of shapes.")
    if len(json.dumps(value)) > MAX_BYTES:
        raise DrawingError(f"The drawing is too large (over {MAX_BYTES // 1024} KB). Use fewer strokes.")
    if set(value) - {"v", "shapes"}:
        raise DrawingError("A drawing has only a version and its shapes.")
    if value.get("v", 1) != 1:
        raise DrawingError("This drawing version is not supported.")
    shapes = value.get("shapes")
    if not isinstance(shapes, list):
        raise DrawingError("A drawing has a list of shapes.")
    if len(shapes) > MAX_SHAPES:
        raise DrawingError(f"A drawing has at most {MAX_SHAPES} shapes.")
    cleaned = [_shape(raw, i) for i, raw in enumerate(shapes)]
    return {"v": 1, "shapes": cleaned} if cleaned else None


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def burn_in(image: Image.Image, drawing: dict | None) -> Image.Image:
    """A copy of `image` with the drawing's shapes drawn on it (the player's geometry)."""
    out = image.convert("RGB")
    if not drawing:
        return out
    width, height = out.size
    draw = ImageDraw.Draw(out)
    line = max(2, round(height * 0.006))
    for shape in drawing.get("shapes", []):
        pts = [(x * width, y * height) for x, y in shape["points"]]
        color = shape.get("color", "#ff3b30")
        a, b = pts[0], pts[-1]
        tool = shape["tool"]
        if tool == "pen":
            draw.line(pts, fill=color, width=line, joint="curve")
        elif tool == "arrow":
            draw.line([a, b], fill=color, width=line)
            angle, head = math.atan2(b[1] - a[1], b[0] - a[0]), max(10, height * 0.04)
            draw.polygon([b, (b[0] - head * math.cos(angle - 0.45), b[1] - head * math.sin(angle - 0.45)),
                          (b[0] - head * math.cos(angle + 0.45), b[1] - head * math.sin(angle + 0.45))], fill=color)
        elif tool in ("rect", "ellipse"):
            box = [min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])]
            (draw.rectangle if tool == "rect" else draw.ellipse)(box, outline=color, width=line)
        elif tool == "text":
            draw.text(a, shape.get("text", ""), fill=color, font=_font(max(12, round(height * 0.05))))
    return out
