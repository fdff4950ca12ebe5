from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def bell_poll_seconds() -> int:
    """How often the header bell asks for its count (NOTIFICATIONS_POLL_SECONDS, at least 1)."""
    return max(int(settings.NOTIFICATIONS_POLL_SECONDS), 1)
