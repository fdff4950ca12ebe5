"""The tool catalogue: one module per tool, registered here by slug.

No Django here or in any tool: the beta app hands the catalogue the settings tools read (`configure`, called from
`BetaConfig.ready` with `beta.tool_settings.ToolSettings()`), and the job pipeline passes them in each ToolContext.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import MappingProxyType
from typing import Any

from beta.tools.base import Tool

TOOL_MODULES = [
    "beta.tools.dailies",
    "beta.tools.shot_detect",
    "beta.tools.transcribe",
    "beta.tools.generate",
    "beta.tools.script_breakdown",
    "beta.tools.upscale",
    "beta.tools.temp_comp",
]
#: Diagnostic tools for the pipeline's own tests (no-op, failing, crashing, slow); on only when configured.
TEST_TOOL_MODULES = ["beta.tools.diagnostics"]

_registry: dict[str, Tool] | None = None
_settings: Mapping[str, Any] = MappingProxyType({})


def configure(*, settings: Mapping[str, Any]) -> None:
    """Give the catalogue the deployment's settings (a mapping by settings name); forgets the loaded registry."""
    global _settings, _registry
    _settings = settings
    _registry = None


def tool_settings() -> Mapping[str, Any]:
    """The settings the catalogue was configured with (empty until `configure`)."""
    return _settings


def _load() -> dict[str, Tool]:
    modules = TOOL_MODULES + (TEST_TOOL_MODULES if _settings.get("ENABLE_DIAGNOSTIC_TOOLS") else [])
    registry = {}
    for name in modules:
        module = import_module(name)
        for tool_class in module.TOOLS:
            tool = tool_class()
            registry[tool.slug] = tool
    return registry


def registry() -> dict[str, Tool]:
    global _registry
    if _registry is None:
        _registry = _load()
    return _registry


def get_tool(slug: str) -> Tool | None:
    return registry().get(slug)


def all_tools() -> list[Tool]:
    return sorted(registry().values(), key=lambda t: t.name)
