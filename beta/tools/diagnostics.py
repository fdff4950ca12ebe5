"""Diagnostic tools for the job pipeline's own tests: they succeed, fail, fail for a while, take their time or crash.

Registered only when the deployment turns them on (`ENABLE_DIAGNOSTIC_TOOLS`; the registry in `beta.tools` decides).
`flaky` keeps its attempt counts in files under `GREENLIGHT_DIAGNOSTICS_DIR` (else the system's temporary folder), so
that the count survives a retry on another worker process.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from beta.tools.base import (
    Progress,
    Tool,
    ToolContext,
    ToolError,
    ToolInput,
    ToolOutput,
    ToolResult,
    TransientToolError,
)

ALL_KINDS = ("video", "image", "audio", "script", "document")
DIAGNOSTICS_DIR_ENV = "GREENLIGHT_DIAGNOSTICS_DIR"
STEP_SECONDS = 0.1


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _ok_output(inputs: list[ToolInput], context: ToolContext, note: str = "") -> ToolResult:
    sha256 = file_sha256(inputs[0].path)
    path = context.work_dir / "ok.txt"
    path.write_text(f"ok {sha256}\n{note}".rstrip() + "\n", encoding="utf-8")
    return ToolResult(
        outputs=[ToolOutput(path, "document", "Diagnostic result", "text/plain", "ok.txt", "result")],
        summary={"sha256": sha256, "matches_input": sha256 == inputs[0].sha256},
    )


class _Diagnostic(Tool):
    input_kinds = ALL_KINDS
    output_kinds = ("document",)
    output_roles = ("result",)
    queue = "cpu"
    soft_time_limit = 60
    time_limit = 90
    cost_factor = 0.0


class NoopTool(_Diagnostic):
    """Succeeds at once with a small text file holding the input's SHA-256."""

    slug = "noop"
    name = "Diagnostics: no-op"
    description = "Succeeds at once; returns ok.txt with the input's SHA-256."
    version = "1.0.0"

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        progress(0, "Starting")
        result = _ok_output(inputs, context)
        progress(100, "Done")
        return result


class PingTool(_Diagnostic):
    """Does nothing and stores nothing: a job of it costs only what the pipeline itself costs (submit, dispatch,
    claim, finish), which is what the pipeline benchmark measures. Takes no file (or one, which it does not read)."""

    slug = "ping"
    name = "Diagnostics: ping"
    description = "Does nothing and stores no output; measures the job pipeline's own overhead."
    version = "1.0.0"
    min_inputs = 0
    max_inputs = 1

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        return ToolResult(summary={"pong": True})


class FailTool(_Diagnostic):
    """Fails with the message it is given, as a tool does when the partner's input is unusable."""

    slug = "fail"
    name = "Diagnostics: fail"
    description = "Fails with the given message."
    version = "1.0.0"
    parameters = {
        "type": "object",
        "properties": {
            "message": {"type": "string", "minLength": 1, "maxLength": 500, "default": "This diagnostic tool failed."}
        },
        "additionalProperties": False,
    }

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        progress(0, "Starting")
        raise ToolError(params["message"])


class FlakyTool(_Diagnostic):
    """Fails with a transient error the first `fail_times` attempts for an input and key, then succeeds."""

    slug = "flaky"
    name = "Diagnostics: flaky"
    description = "Fails with a retryable error the first N times, then succeeds."
    version = "1.0.0"
    parameters = {
        "type": "object",
        "properties": {
            "fail_times": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
            "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,64}$", "default": ""},
        },
        "additionalProperties": False,
    }

    @staticmethod
    def counter_path(sha256: str, key: str) -> Path:
        folder = Path(os.environ.get(DIAGNOSTICS_DIR_ENV) or tempfile.gettempdir())
        # Hash the pair: the key comes from parameters, so it never becomes part of a path as it stands.
        name = hashlib.sha256(f"{sha256}\0{key}".encode()).hexdigest()[:32]
        return folder / f"greenlight-flaky-{name}.count"

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        progress(0, "Starting")
        path = self.counter_path(inputs[0].sha256, params["key"])
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="ascii") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # two workers retrying at once still count each attempt
            handle.seek(0)
            attempt = int(handle.read().strip() or 0) + 1
            handle.seek(0)
            handle.truncate()
            handle.write(str(attempt))
        if attempt <= params["fail_times"]:
            raise TransientToolError(f"Diagnostic transient failure {attempt} of {params['fail_times']}.")
        result = _ok_output(inputs, context, note=f"attempt {attempt}")
        result.summary["attempt"] = attempt
        progress(100, "Done")
        return result


class SlowTool(_Diagnostic):
    """Takes `seconds`, reporting progress every tenth of a second, so a cancel stops it promptly."""

    slug = "slow"
    name = "Diagnostics: slow"
    description = "Sleeps for the given number of seconds, reporting progress as it goes."
    version = "1.0.0"
    soft_time_limit = 150
    time_limit = 180
    parameters = {
        "type": "object",
        "properties": {"seconds": {"type": "number", "minimum": 0.1, "maximum": 120, "default": 5}},
        "additionalProperties": False,
    }

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        params = {**self.defaults(), **params}
        seconds = float(params["seconds"])
        started = time.monotonic()
        progress(0, "Sleeping")
        while (elapsed := time.monotonic() - started) < seconds:
            time.sleep(min(STEP_SECONDS, seconds - elapsed))
            done = min(time.monotonic() - started, seconds)
            progress(min(99, int(done / seconds * 100)), f"Slept {done:.1f} of {seconds:g} s")
        result = _ok_output(inputs, context, note=f"slept {seconds:g} s")
        progress(100, "Done")
        return result


class CrashTool(_Diagnostic):
    """Kills its own worker process (SIGKILL), as an out-of-memory kill would."""

    slug = "crash"
    name = "Diagnostics: crash"
    description = "Kills the worker process running it."
    version = "1.0.0"

    def run(
        self, inputs: list[ToolInput], params: dict[str, Any], progress: Progress, context: ToolContext
    ) -> ToolResult:
        progress(0, "Crashing")
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable: the process was killed")  # pragma: no cover


TOOLS = [NoopTool, PingTool, FailTool, FlakyTool, SlowTool, CrashTool]
