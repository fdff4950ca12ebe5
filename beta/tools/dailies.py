"""Dailies: a review copy of a clip with burnt-in source timecode and a visible studio watermark.

The proxy is an H.264/AAC MP4 at the height asked for (never upscaled), carrying the source timecode both burnt in and
as a timecode track, so that a cut list made from the proxy (shot detection) points at the camera original. A poster
frame and a contact sheet are made from the proxy, so they carry the watermark too.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beta.tools.base import Progress, Tool, ToolContext, ToolError, ToolInput, ToolOutput, ToolResult
from beta.tools.common import (
    FALLBACK_FPS,
    TIMECODE_SCHEMA,
    ffmpeg_output_ok,
    filter_value,
    one_line,
    probe_video,
    resolve_start_timecode,
    run_ffmpeg_with_progress,
    safe_stem,
    timecode_log,
)
from media.errors import MediaError
from media.ffmpeg import input_args, output_arg
from media.probe import MediaInfo
from media.renditions import h264_aac_args, make_contact_sheet, make_poster, proxy_timeout
from media.timecode import Rate

HEIGHTS = [360, 480, 540, 720, 1080]
WATERMARK_NOTICE = "CONFIDENTIAL · NOT FOR AI TRAINING"
#: Share of the progress bar the encode takes; the stills take the rest.
ENCODE_SHARE = 90

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What the encode will make: the clip's timecode, the proxy's size and the filters that draw on it."""

    fps: float
    start_tc: str
    rate: Rate
    tc_from: str
    height: int
    width: int


def watermark_font() -> Path:
    """The font for burnt-in text: the one the `font-source-sans-pro` package ships, else Debian's DejaVu Sans."""
    candidates = []
    spec = importlib.util.find_spec("font_source_sans_pro")
    if spec is not None and spec.submodule_search_locations:
        candidates += [
            Path(location, "files", "SourceSansPro-Bold.ttf") for location in spec.submodule_search_locations
        ]
    candidates += [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
                   Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]  # fmt: skip
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    logger.error("dailies: no watermark font found (looked for %s)", ", ".join(map(str, candidates)))
    raise ToolError("Dailies are unavailable right now: a font is missing on our side. Please try again later.")


def _even(value: float) -> int:
    return max(2, int(value) - int(value) % 2)


# The tool ------------------------------------------------------------------------------------------------------------


class DailiesTool(Tool):
    """An H.264 review copy with the source timecode and a watermark burnt in, plus a poster and a contact sheet."""

    slug = "dailies"
    name = "Dailies and proxies"
    description = (
        "Makes a review copy of a clip (H.264 MP4) with the source timecode and a visible watermark naming your studio "
        "burnt in, plus a poster frame and a contact sheet."
    )
    version = "1.0.0"
    input_kinds = ("video",)
    output_kinds = ("video", "image")
    output_roles = ("proxy", "poster", "contact_sheet")
    queue = "cpu"
    soft_time_limit = 60 * 60
    time_limit = 65 * 60
    cost_factor = 0.5
    parameters = {
        "type": "object",
        "properties": {
            "height": {
                "type": "integer",
                "title": "Height (lines)",
                "description": "Height of the review copy. A smaller source keeps its own height: we never upscale.",
                "enum": HEIGHTS,
                "default": 720,
            },
            "watermark": {
                "type": "boolean",
                "title": "Watermark",
                "description": f"Burn in your studio's name and “{WATERMARK_NOTICE}”.",
                "default": True,
            },
            "timecode": {
                "type": "boolean",
                "title": "Burn in timecode",
                "default": True,
            },
            "start_timecode": {**TIMECODE_SCHEMA},
            "crf": {
                "type": "integer",
                "title": "Quality (CRF)",
                "description": "Lower is better quality and a larger file; 23 suits review.",
                "minimum": 18,
                "maximum": 30,
                "default": 23,
            },
        },
        "additionalProperties": False,
    }

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        source = inputs[0]
        logs: list[str] = []
        progress(0, "Reading the clip")
        info = probe_video(source.path, what="Dailies")
        plan = self._plan(info, source, params, logs)
        stem = safe_stem(source.filename)
        proxy_path = context.work_dir / f"{stem}_{plan.height}p_dailies.mp4"
        duration = info.duration or source.duration
        progress(1, "Encoding the review copy", log=" ".join(logs))
        self._encode(source.path, proxy_path, self._filters(plan, params, context), plan, params, duration, progress,
                     context)  # fmt: skip
        progress(ENCODE_SHARE, "Making the poster frame")
        made, poster_path, sheet_path = self._stills(proxy_path, stem, context, progress)
        progress(100, "Done")
        return self._result(made, plan, params, duration, proxy_path, poster_path, sheet_path)

    # Steps -----------------------------------------------------------------------------------------------------------

    @staticmethod
    def _plan(info: MediaInfo, source: ToolInput, params: dict[str, Any], logs: list[str]) -> Plan:
        """Settle the timecode (the file's own, else the parameter) and the proxy's size (never upscaled)."""
        fps = info.fps or source.fps or FALLBACK_FPS
        if not info.fps:
            logs.append(f"The clip does not state its frame rate; timecode is counted at {fps:g} fps.")
        start_tc, rate, tc_from = resolve_start_timecode(info.timecode, params["start_timecode"], fps, logs.append)
        logs.append(timecode_log(start_tc, tc_from))
        source_height = info.height or params["height"]
        height = min(params["height"], _even(source_height))
        if params["height"] > source_height:
            logs.append(
                f"The clip is {source_height} lines high: kept at {height}, not upscaled to {params['height']}."
            )
        width = _even(height * (info.width or 16) / (info.height or 9))
        return Plan(fps=fps, start_tc=start_tc, rate=rate, tc_from=tc_from, height=height, width=width)

    def _filters(self, plan: Plan, params: dict[str, Any], context: ToolContext) -> list[str]:
        """Scale, conform the rate, then draw the watermark and the running timecode."""
        filters = [
            f"scale=w='max(2,trunc(oh*dar/2)*2)':h='min({plan.height},trunc(ih/2)*2)'",
            "setsar=1",
            f"fps={plan.rate.ffmpeg}",
        ]
        font = filter_value(str(watermark_font())) if params["watermark"] or params["timecode"] else ""
        if params["watermark"]:
            filters += self._watermark_filters(context, font, plan.width, plan.height)
        if params["timecode"]:
            size = max(12, round(plan.height * 0.05))
            filters.append(
                f"drawtext=fontfile={font}:timecode={filter_value(plan.start_tc)}"
                f":rate={plan.rate.ffmpeg}:tc24hmax=1"
                f":fontsize={size}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw={max(4, size // 4)}"
                f":x=(w-text_w)/2:y=h-text_h-{max(8, round(plan.height * 0.04))}"
            )
        return filters

    @staticmethod
    def _encode(
        src: Path,
        proxy_path: Path,
        filters: list[str],
        plan: Plan,
        params: dict[str, Any],
        duration: float | None,
        progress: Progress,
        context: ToolContext,
    ) -> None:
        """The H.264 encode, written beside its name and moved into place; the watermark's text files go after."""
        tmp = context.work_dir / f".{proxy_path.name}.part"
        args = [
            *input_args(src),
            "-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1", "-map_chapters", "-1",
            "-vf", ",".join(filters),
            *h264_aac_args(crf=params["crf"]),
            "-metadata:s:v:0", f"timecode={plan.start_tc}",
            "-f", "mp4", output_arg(tmp),
        ]  # fmt: skip
        try:
            returncode, errors = run_ffmpeg_with_progress(
                args,
                timeout=proxy_timeout(duration),
                duration=duration,
                on_fraction=lambda f: progress(max(1, math.floor(f * ENCODE_SHARE)), "Encoding the review copy"),
            )
            if not ffmpeg_output_ok(returncode, tmp):
                logger.warning("dailies: ffmpeg exited %s: %s", returncode, one_line(errors[-600:], 600))
                raise ToolError(
                    "We could not make a review copy of this clip. It may be damaged or use a format we do not support."
                )
            tmp.replace(proxy_path)
        finally:
            tmp.unlink(missing_ok=True)
            for text_file in context.work_dir.glob(".watermark-*.txt"):
                text_file.unlink(missing_ok=True)

    @staticmethod
    def _stills(proxy_path: Path, stem: str, context: ToolContext, progress: Progress) -> tuple[MediaInfo, Path, Path]:
        """The poster frame and the contact sheet, made from the proxy (so they carry the watermark too)."""
        poster_path = context.work_dir / f"{stem}_poster.jpg"
        sheet_path = context.work_dir / f"{stem}_contact_sheet.jpg"
        try:
            made = probe_video(proxy_path, what="The review copy")
            make_poster(proxy_path, poster_path, width=1280)
            progress(95, "Making the contact sheet")
            make_contact_sheet(proxy_path, sheet_path, columns=4, rows=3, tile_width=320)
        except MediaError as exc:
            raise ToolError(str(exc)) from exc
        return made, poster_path, sheet_path

    @staticmethod
    def _result(
        made: MediaInfo,
        plan: Plan,
        params: dict[str, Any],
        duration: float | None,
        proxy_path: Path,
        poster_path: Path,
        sheet_path: Path,
    ) -> ToolResult:
        out_height = made.height or plan.height
        label = (f"Review copy ({out_height}p" + (", timecode" if params["timecode"] else "")
                 + (", watermark" if params["watermark"] else "") + ")")  # fmt: skip
        return ToolResult(
            outputs=[
                ToolOutput(proxy_path, "video", label, "video/mp4", proxy_path.name, "proxy", web_ready=True),
                ToolOutput(poster_path, "image", "Poster frame", "image/jpeg", poster_path.name, "poster"),
                ToolOutput(sheet_path, "image", "Contact sheet", "image/jpeg", sheet_path.name, "contact_sheet"),
            ],
            summary={
                "height": out_height,
                "width": made.width,
                "duration": round(made.duration, 3) if made.duration else duration,
                "fps": round(plan.fps, 3),
                "start_timecode": plan.start_tc,
                "timecode_from": plan.tc_from,
                "has_audio": made.has_audio,
                "watermark": params["watermark"],
                "burnt_in_timecode": params["timecode"],
            },
        )

    @staticmethod
    def _watermark_filters(context: ToolContext, font: str, width: int, height: int) -> list[str]:
        """Two centred, semi-transparent lines: the studio's name over the confidentiality notice.

        The text goes through files (`textfile`, `expansion=none`), so nothing in a studio's name is read as ffmpeg
        syntax or as drawtext's %{...} expansions.
        """
        lines = [line for line in (one_line(context.studio_name, 80), WATERMARK_NOTICE) if line]
        filters = []
        gap = max(2, round(height * 0.01))
        for index, text in enumerate(lines):
            text_file = context.work_dir / f".watermark-{index}.txt"
            text_file.write_text(text, encoding="utf-8")
            # About 0.55 em per character in a bold sans: keep each line within 90% of the picture's width.
            size = max(10, min(round(height * (0.075 if index == 0 and len(lines) == 2 else 0.06)),
                               math.floor(width * 0.9 / (0.55 * max(len(text), 1)))))  # fmt: skip
            y = f"h/2-text_h-{gap}" if index == 0 and len(lines) == 2 else f"h/2+{gap}"
            filters.append(
                f"drawtext=fontfile={font}:textfile={filter_value(str(text_file.resolve()))}:expansion=none"
                f":fontsize={size}:fontcolor=white@0.45:borderw={max(1, size // 14)}:bordercolor=black@0.35"
                f":x=(w-text_w)/2:y={y}"
            )
        return filters


TOOLS = [DailiesTool]
