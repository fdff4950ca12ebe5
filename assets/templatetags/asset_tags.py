import unicodedata

from django import template
from django.template.defaultfilters import filesizeformat

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
def human_size(size: int) -> str:
    """Bytes in human units with a plain space ("1.5 GB"), for messages as well as pages."""
    return filesizeformat(size).replace("\xa0", " ")
