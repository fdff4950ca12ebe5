import unicodedata

from django import template
from django.template.defaultfilters import filesizeformat

from assets.media import exact_frame_rate as media_exact_frame_rate
from assets.media import timecode as media_timecode

register = template.Library()


@register.filter
def timecode(seconds, fps=None):
    """Seconds as HH:MM:SS:FF when the frame rate is known, else HH:MM:SS."""
    if seconds in (None, ""):
        return "—"
    seconds = float(seconds)
    if fps:
        return media_timecode(seconds, float(fps))
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@register.filter
def display_filename(name: str) -> str:
    """A filename fit for display only: no folders, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:255] or "untitled"


@register.filter
def asset_name(asset) -> str:
    """An asset's name as pages show it. A tool output says what it is, so two runs' `poster.jpg` never read alike:
    the upload it stacks under, the tool and version that made it, then its own file name
    ("A002_C007 · dailies 1.0 · poster.jpg"). Reads `lineage_root`: select it with the asset."""
    name = display_filename(getattr(asset, "original_filename", ""))
    if getattr(asset, "origin", "upload") != "output":
        return name
    root = asset.lineage_root if asset.lineage_root_id else None
    stem = display_filename(root.original_filename).rsplit(".", 1)[0] if root and root.original_filename else ""
    return " · ".join(part for part in (stem, asset.derived_by, name) if part)


@register.filter
def human_size(size: int) -> str:
    """Bytes in human units with a plain space ("1.5 GB"), for messages as well as pages."""
    return filesizeformat(size).replace("\xa0", " ")


@register.inclusion_tag("partials/player.html")
def review_player(
    asset, src, poster="", label="", notes_url="", note_add_url="", output_id="", role="", drawing=False, blind=False,
    track="", track_label="",
):
    """The review player for one video or image (static/js/player.js): frame-accurate, with source timecode.

    The frame rate goes out as an exact fraction (23.98 from the probe is 24000/1001) and the start timecode as the
    file carries it, so the player labels frames the same way the tools burn them in (';' for drop-frame)."""
    num, den = media_exact_frame_rate(getattr(asset, "fps", None))
    start = getattr(asset, "timecode_start", "") or "00:00:00:00"
    drop = ";" in start and den == 1001 and num % 30000 == 0
    if not drop:
        start = start.replace(";", ":").replace(".", ":")
    kind = "image" if getattr(asset, "kind", "video") == "image" else "video"
    return {
        "asset": asset,
        "kind": kind,
        "src": src,
        "poster": poster,
        "label": label or getattr(asset, "original_filename", "") or "Media",
        "rate_num": num or 25,
        "rate_den": den,
        "tc_start": start,
        "drop": drop,
        "notes_url": notes_url,
        "note_add_url": note_add_url,
        "output_id": output_id,
        "role": role,
        "drawing": drawing,
        "blind": blind,
        "track": track,  # a WebVTT subtitles track from this origin (a transcription's), shown by default
        "track_label": track_label or "Subtitles",
        "frames": round((getattr(asset, "duration_seconds", 0) or 0) * (num or 25) / den) if kind == "video" else 1,
    }
