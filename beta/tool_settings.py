"""What the tools in `beta/tools` may read of the deployment's settings, handed to them as a plain mapping.

Tools import no Django: the catalogue (`beta.tools.configure`) and each job's ToolContext get a `ToolSettings`, which
reads the named settings when asked (so a changed setting is seen at once, as Django's own settings are).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

#: The settings a tool may read. Add a name here when a tool needs another.
TOOL_SETTING_NAMES = (
    "ENABLE_DIAGNOSTIC_TOOLS",
    "UPSCALE_MAX_PIXELS",
    "TEMP_COMP_MAX_PIXELS",
    "TEMP_COMP_MAX_SECONDS",
    "BEDROCK_ENABLED",
    "BEDROCK_REGION",
    "BEDROCK_ENDPOINT_URL",
    "BEDROCK_AWS_ACCESS_KEY_ID",
    "BEDROCK_AWS_SECRET_ACCESS_KEY",
    "BEDROCK_IMAGE_MODEL_ID",
    "BEDROCK_VIDEO_MODEL_ID",
    "BEDROCK_OUTPUT_BUCKET",
    "BEDROCK_S3_ENDPOINT_URL",
    "BEDROCK_POLL_SECONDS",
    "BEDROCK_MAX_WAIT_SECONDS",
    "BEDROCK_STUB_FILE",
    "SUBTITLE_MAX_LINE_CHARS",
    "SUBTITLE_MAX_LINES",
    "SUBTITLE_MIN_SECONDS",
    "SUBTITLE_MAX_SECONDS",
    "SUBTITLE_MIN_GAP_FRAMES",
    "SUBTITLE_MAX_CHARS_PER_SECOND",
    "SUBTITLE_PAUSE_SECONDS",
    "BREAKDOWN_KEYWORDS",
)


class ToolSettings(Mapping[str, Any]):
    """A read-only view of TOOL_SETTING_NAMES in Django's settings (a name not set there is absent)."""

    def __getitem__(self, name: str) -> Any:
        if name not in TOOL_SETTING_NAMES or not hasattr(settings, name):
            raise KeyError(name)
        return getattr(settings, name)

    def __iter__(self) -> Iterator[str]:
        return (name for name in TOOL_SETTING_NAMES if hasattr(settings, name))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def render_template(name: str, context: dict) -> str:
    """A portal template rendered for a tool's report (the tool gets this function, not Django)."""
    return render_to_string(name, context)
