from django import template

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
