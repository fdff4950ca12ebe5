"""Dailies: a review copy of a clip with burnt-in source timecode and a visible studio watermark, and on request an
editorial deliverable (ProRes 422 HQ, ProRes 422 Proxy or DNxHR HQ in a QuickTime .mov).

The proxy is an H.264/AAC MP4 at the height asked for (never upscaled), carrying the source timecode both burnt in and
as a timecode track, so that a cut list made from the proxy (shot detection) points at the camera original. A poster
frame and a contact sheet are made from the proxy, so they carry the watermark too.

A deliverable is what an editor ingests and cuts with, so it is clean: the source's picture size and frame rate, no
watermark and no burnt-in timecode (the watermark and timecode settings apply to the review copy only), the source
timecode in a timecode track and the reel name (the file's own, else the parameter) in that track's source reference,
sound as 24-bit PCM. It is made in the same ffmpeg run as the review copy (one decode, the picture split in two), and
the review copy is still made as before, watermark included, for the job page and for sharing. A format whose encoder
this ffmpeg build lacks is refused before any work.
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
from media.ffmpeg import encoders, input_args, output_arg
from media.probe import MediaInfo
from media.renditions import h264_aac_args, make_contact_sheet, make_poster, proxy_timeout
from media.timecode import Rate

HEIGHTS = [360, 480, 540, 720, 1080]
WATERMARK_NOTICE = "CONFIDENTIAL · NOT FOR AI TRAINING"
#: Share of the progress bar the encode takes; the stills take the rest.
ENCODE_SHARE = 90
#: A deliverable (a second, heavier encode in the same run; ProRes 422 HQ is the slowest) may take this many times
#: a proxy's time (docs/benchmarks.md: about 7 s per second of 1080p on two shared cores).
DELIVERABLE_TIMEOUT_FACTOR = 6
REEL_NAME_PATTERN = "^[A-Za-z0-9_.-]{0,32}$"


@dataclass(frozen=True)
class Deliverable:
    """An editorial format: the ffmpeg encoder and its settings, and the profile FFmpeg reports when reading it."""

    label: str
    encoder: str
    video_args: tuple[str, ...]
    pix_fmt: str
    profile: str


DELIVERABLES = {
    "prores_422_hq": Deliverable("ProRes 422 HQ", "prores_ks", ("-profile:v", "3", "-vendor", "apl0"),
                                 "yuv422p10le", "HQ"),
    "prores_proxy": Deliverable("ProRes 422 Proxy", "prores_ks", ("-profile:v", "0", "-vendor", "apl0"),
                                "yuv422p10le", "Proxy"),
    "dnxhr_hq": Deliverable("DNxHR HQ", "dnxhd", ("-profile:v", "dnxhr_hq"), "yuv422p", "DNXHR HQ"),
}  # fmt: skip
FORMATS = ["h264", *DELIVERABLES]
FORMAT_LABELS = ["H.264 review copy only", *(f"{d.label} (.mov) and the review copy" for d in DELIVERABLES.values())]

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
        "burnt in, plus a poster frame and a contact sheet. Choose ProRes 422 HQ, ProRes 422 Proxy or DNxHR HQ to "
        "also get an editorial deliverable (.mov at the clip's own size and frame rate, with its source timecode and "
        "reel name): a deliverable is clean, with no watermark or timecode burnt in; those settings apply to the "
        "review copy only."
    )
    version = "1.0.0"
    input_kinds = ("video",)
    output_kinds = ("video", "image")
    output_roles = ("proxy", "poster", "contact_sheet", "deliverable")
    queue = "cpu"
    soft_time_limit = 60 * 60
    time_limit = 65 * 60
    cost_factor = 0.5
    parameters = {
        "type": "object",
        "properties": {
            "format": {
                "type": "string",
                "title": "Format",
                "description": "H.264 makes the review copy only; the others add a clean editorial deliverable "
                "(no burn-in) in that format.",
                "enum": FORMATS,
                "x-enum-labels": FORMAT_LABELS,
                "default": "h264",
            },
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
            "reel_name": {
                "type": "string",
                "title": "Reel name",
                "description": "Written into a deliverable when the clip carries no reel name of its own (letters, "
                "digits, dot, dash and underscore; up to 32).",
                "pattern": REEL_NAME_PATTERN,
                "maxLength": 32,
                "default": "",
            },
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
        deliverable = deliverable_for(params["format"])
        source = inputs[0]
        logs: list[str] = []
        progress(0, "Reading the clip")
        info = probe_video(source.path, what="Dailies")
        plan = self._plan(info, source, params, logs)
        stem = safe_stem(source.filename)
        proxy_path = context.work_dir / f"{stem}_{plan.height}p_dailies.mp4"
        targets = [proxy_path]
        reel = info.reel_name or params["reel_name"]
        if deliverable is not None:
            targets.append(context.work_dir / f"{stem}_{params['format']}.mov")
            logs.append(f"Reel name {reel} from the file." if info.reel_name else
                        f"Reel name {reel}." if reel else "No reel name: the clip has none and none was given.")
        duration = info.duration or source.duration
        stage = "Encoding the review copy" + (f" and the {deliverable.label} deliverable" if deliverable else "")
        progress(1, stage, log=" ".join(logs))
        args = self._encode_args(source.path, targets, plan, params, context, deliverable, reel)
        timeout = proxy_timeout(duration) * (DELIVERABLE_TIMEOUT_FACTOR if deliverable else 1)
        self._encode(args, targets, duration, timeout, progress, stage, context)
        progress(ENCODE_SHARE, "Making the poster frame")
        made, poster_path, sheet_path = self._stills(proxy_path, stem, context, progress)
        progress(100, "Done")
        result = self._result(made, plan, params, duration, proxy_path, poster_path, sheet_path)
        if deliverable is not None:
            self._add_deliverable(result, targets[1], deliverable, params["format"], reel)
        return result

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
        """Scale, then draw the watermark and the running timecode (the rate is conformed before, for both copies)."""
        filters = [
            f"scale=w='max(2,trunc(oh*dar/2)*2)':h='min({plan.height},trunc(ih/2)*2)'",
            "setsar=1",
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

    def _encode_args(
        self,
        src: Path,
        targets: list[Path],
        plan: Plan,
        params: dict[str, Any],
        context: ToolContext,
        deliverable: Deliverable | None,
        reel: str,
    ) -> list[str]:
        """One ffmpeg run: the review copy, and the deliverable from the same decoded picture (split in two)."""
        review = ",".join(self._filters(plan, params, context))
        clean = ["-map_metadata", "-1", "-map_chapters", "-1"]
        if deliverable is None:
            return [
                *input_args(src), "-map", "0:V:0", "-map", "0:a:0?", *clean,
                "-vf", f"fps={plan.rate.ffmpeg},{review}",
                *h264_aac_args(crf=params["crf"]), "-metadata:s:v:0", f"timecode={plan.start_tc}",
                "-f", "mp4", output_arg(_part(targets[0])),
            ]  # fmt: skip
        graph = (f"[0:V:0]fps={plan.rate.ffmpeg},split=2[to_review][to_deliver];[to_review]{review}[review];"
                 f"[to_deliver]scale=w='trunc(iw/2)*2':h='trunc(ih/2)*2',format={deliverable.pix_fmt}[deliver]")
        return [
            *input_args(src), "-filter_complex", graph,
            "-map", "[review]", "-map", "0:a:0?", *clean, *h264_aac_args(crf=params["crf"]),
            "-metadata:s:v:0", f"timecode={plan.start_tc}", "-f", "mp4", output_arg(_part(targets[0])),
            "-map", "[deliver]", "-map", "0:a:0?", *clean,
            "-c:v", deliverable.encoder, *deliverable.video_args, "-pix_fmt", deliverable.pix_fmt, "-threads", "2",
            "-c:a", "pcm_s24le", "-metadata:s:v:0", f"timecode={plan.start_tc}",
            *(["-metadata:s:v:0", f"reel_name={reel}"] if reel else []),
            "-f", "mov", output_arg(_part(targets[1])),
        ]  # fmt: skip

    @staticmethod
    def _encode(
        args: list[str],
        targets: list[Path],
        duration: float | None,
        timeout: float,
        progress: Progress,
        stage: str,
        context: ToolContext,
    ) -> None:
        """Run the encode, writing each file beside its name and moving it into place; the watermark's text files
        go after."""
        try:
            returncode, errors = run_ffmpeg_with_progress(
                args,
                timeout=timeout,
                duration=duration,
                on_fraction=lambda f: progress(max(1, math.floor(f * ENCODE_SHARE)), stage),
            )
            if not all(ffmpeg_output_ok(returncode, _part(target)) for target in targets):
                logger.warning("dailies: ffmpeg exited %s: %s", returncode, one_line(errors[-600:], 600))
                raise ToolError(
                    "We could not make a review copy of this clip. It may be damaged or use a format we do not support."
                )
            for target in targets:
                _part(target).replace(target)
        finally:
            for target in targets:
                _part(target).unlink(missing_ok=True)
            for text_file in context.work_dir.glob(".watermark-*.txt"):
                text_file.unlink(missing_ok=True)

    @staticmethod
    def _add_deliverable(result: ToolResult, path: Path, deliverable: Deliverable, fmt: str, reel: str) -> None:
        """The deliverable among the outputs (not web-ready: the portal makes its own preview), and in the summary."""
        try:
            info = probe_video(path, what="The deliverable")
        except ToolError:
            info = None
        size = f"{info.width}x{info.height}" if info and info.width else ""
        label = f"{deliverable.label} deliverable ({size}, source timecode, no burn-in)" if size else (
            f"{deliverable.label} deliverable (source timecode, no burn-in)")
        result.outputs.append(ToolOutput(path, "video", label, "video/quicktime", path.name, "deliverable"))
        result.summary["format"] = fmt
        result.summary["deliverable"] = {
            "format": deliverable.label, "codec": info.video_codec if info else "",
            "profile": info.video_profile if info else "",
            "width": info.width if info else None, "height": info.height if info else None, "reel_name": reel,
            "burn_in": False,
        }  # fmt: skip

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


def _part(target: Path) -> Path:
    return target.with_name(f".{target.name}.part")


def deliverable_for(fmt: str) -> Deliverable | None:
    """The deliverable a format asks for (None for the H.264 review copy alone); ToolError when this ffmpeg build
    lacks its encoder, before any work is done."""
    deliverable = DELIVERABLES.get(fmt)
    if fmt != "h264" and deliverable is None:
        raise ToolError(f"“{fmt}” is not a format dailies can make; choose one of {', '.join(FORMATS)}.")
    if deliverable is None:
        return None
    try:
        available = encoders()
    except MediaError as exc:
        raise ToolError(str(exc)) from exc
    if deliverable.encoder not in available:
        logger.error("dailies: ffmpeg has no %s encoder for %s", deliverable.encoder, fmt)
        raise ToolError(
            f"{deliverable.label} is not available on this portal: its video processing cannot encode it "
            f"(the {deliverable.encoder} encoder is missing). Choose another format, or ask us for help."
        )
    return deliverable


TOOLS = [DailiesTool]
