"""What a tool is. A tool sees only local input files, validated parameters and a progress callback.

It knows nothing of Django requests, studios' tenancy or Celery, so it can be tested alone and run on any worker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


class ToolError(Exception):
    """The tool could not do the job. The message is shown to the partner: say what was wrong."""

    transient = False


class TransientToolError(ToolError):
    """A failure worth retrying (a throttled API, a busy service). Retried with backoff up to a maximum."""

    transient = True


class JobCanceled(Exception):
    """Raised by the progress callback once the job has been canceled; tools should let it propagate."""


#: IPTC digital source types (their last path part) of media a trained model made, alone or in a composite.
_TRAINED_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})


@dataclass(frozen=True)
class ToolInput:
    path: Path  # a local copy of the asset, readable
    kind: str  # video, image, audio, script, document
    filename: str  # the partner's original name, for labels only (never a path)
    sha256: str
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    #: the IPTC digital source type of the input when the portal made it (an output of a tool, as the provenance
    #: table records it: e.g. trainedAlgorithmicMedia for a generate-image output); "" for the partner's own media
    digital_source_type: str = ""

    @property
    def ai_generated(self) -> bool:
        """The input is (or contains) media a trained model made, by the portal's own record."""
        return self.digital_source_type.rsplit("/", 1)[-1] in _TRAINED_SOURCE_TYPES


@dataclass(frozen=True)
class ToolContext:
    work_dir: Path  # a private temporary folder for outputs; removed after the job
    studio_name: str  # for visible watermarks
    job_label: str = ""  # e.g. "job 42", for file names
    #: a storage key prefix of the studio's own ("orgs/<uuid>/jobs/42/"), for a service that writes results there
    storage_prefix: str = ""
    #: the deployment's settings a tool reads (UPSCALE_MAX_PIXELS, BEDROCK_*...), by their settings names; the job
    #: pipeline passes `beta.tool_settings.ToolSettings()`. Tools never import Django's settings themselves.
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: render_template(name, context) -> HTML, for a tool whose report is a portal template (script breakdown)
    render_template: Callable[[str, dict[str, Any]], str] | None = None


@dataclass
class ToolOutput:
    path: Path  # a file inside work_dir
    kind: str  # video, image, audio, script, document (what the portal stores it as)
    label: str  # what it is, for the partner: "Proxy (720p, timecode and watermark)"
    content_type: str
    filename: str = ""  # the download name; defaults to the file's name
    role: str = ""  # a short key the job page uses to place it: "proxy", "poster", "edl", "shot-0001"...
    web_ready: bool = False  # an H.264 MP4 a browser plays as it is: the portal makes no second proxy of it


@dataclass
class ToolResult:
    outputs: list[ToolOutput] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # JSON shown on the job page (e.g. the shot list)
    #: set when an external service is still working: the pipeline parks the job (no worker waits) and calls
    #: `Tool.poll(pending, ...)` after `pending["poll_after"]` seconds. JSON only; empty outputs meanwhile.
    pending: dict[str, Any] | None = None


#: progress(percent 0-100, stage message, optional log line). Raises JobCanceled once the job is canceled.
Progress = Callable[..., None]


class Tool:
    slug: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str]
    input_kinds: ClassVar[tuple[str, ...]]
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int] = 1
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}, "additionalProperties": False}
    output_kinds: ClassVar[tuple[str, ...]] = ()
    #: the roles of the outputs it can make (fnmatch patterns for numbered ones: "shot-*"); each has a row in
    #: `beta.output_provenance.OUTPUT_PROVENANCE` saying what the output is in C2PA terms
    output_roles: ClassVar[tuple[str, ...]] = ()
    queue: ClassVar[str] = "cpu"  # cpu, gpu or external
    soft_time_limit: ClassVar[int] = 30 * 60  # seconds
    time_limit: ClassVar[int] = 35 * 60
    #: run on the asset's web proxy when it has one (lighter to decode, same cuts and timecode)
    prefers_proxy: ClassVar[bool] = False
    #: estimated compute minutes per minute of input media, for the monthly compute quota check
    cost_factor: ClassVar[float] = 1.0

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        raise NotImplementedError

    def poll(
        self, state: dict[str, Any], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        """Ask again about work a previous `run` or `poll` left pending (`ToolResult.pending`)."""
        raise NotImplementedError

    def configuration_problem(self, settings: Mapping[str, Any] | None = None) -> str:
        """Why the tool cannot run on this deployment (e.g. a cloud service not configured); "" when it can.

        `settings` defaults to the catalogue's (`beta.tools.tool_settings()`)."""
        return ""

    def missing_settings(self, settings: Mapping[str, Any] | None = None) -> list[str]:
        """The deployment settings to set before the tool can run here (by name); empty when none are missing."""
        return []

    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.parameters.get("properties", {}).items() if "default" in v}
