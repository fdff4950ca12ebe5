"""Amazon Bedrock for the generative tools: the one place that makes boto3 clients for it, and maps its errors.

The studio's content (prompts, input images) goes only to the configured Bedrock runtime endpoint
(`BEDROCK_ENDPOINT_URL`, else the regional AWS endpoint of `BEDROCK_REGION`); Nova Reel's videos are read back
from the configured output bucket (`BEDROCK_OUTPUT_BUCKET`, under the studio's own prefix). Nothing else is called.

Errors: throttling and service trouble are `TransientToolError` (the pipeline retries them with backoff; the SDK's
own retries are off so the two do not multiply); a refused request (validation, content filters) is a `ToolError`
carrying the service's message for the partner; missing model access or credentials say so plainly.

Offline tests: `BEDROCK_STUB_FILE` (tests only) names a JSON file of canned responses. The client is then wrapped in
botocore's `Stubber`, which checks each request against the operation's real input shape and each canned response
against its output shape; the calls are appended to the file so a test can read what was sent. The file is shared
by every worker process (a locked queue), and may also carry `config` (the settings below) for the worker.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import io
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from beta.tools.base import ToolError, TransientToolError

#: What boto3 raises for a failed call (anything else, e.g. Celery's soft time limit, passes through untouched).
AWS_ERRORS = (BotoCoreError, ClientError, Boto3Error)

#: Bedrock error codes worth retrying: the service was busy or not ready, not the request wrong.
TRANSIENT_CODES = frozenset({
    "ThrottlingException",
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelNotReadyException",
    "ModelTimeoutException",
    "TooManyRequestsException",
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
})
ACCESS_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
                          "InvalidSignatureException", "ExpiredTokenException", "InvalidAccessKeyId"})


@dataclass(frozen=True)
class BedrockConfig:
    enabled: bool
    region: str
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    image_model_id: str
    video_model_id: str
    output_bucket: str
    s3_endpoint_url: str | None
    poll_seconds: int
    max_wait_seconds: int
    stub_file: str = ""  # tests only: the shared file of canned answers (see the module's docstring)


def config(settings: Mapping[str, Any]) -> BedrockConfig:
    """Bedrock's configuration from the deployment's BEDROCK_* settings (the tool's `context.settings`).

    In stub mode, a test's stub file may override them for the worker.
    """
    cfg = BedrockConfig(
        enabled=bool(settings.get("BEDROCK_ENABLED", False)),
        region=settings.get("BEDROCK_REGION", ""),
        endpoint_url=settings.get("BEDROCK_ENDPOINT_URL"),
        access_key_id=settings.get("BEDROCK_AWS_ACCESS_KEY_ID"),
        secret_access_key=settings.get("BEDROCK_AWS_SECRET_ACCESS_KEY"),
        image_model_id=settings.get("BEDROCK_IMAGE_MODEL_ID", ""),
        video_model_id=settings.get("BEDROCK_VIDEO_MODEL_ID", ""),
        output_bucket=settings.get("BEDROCK_OUTPUT_BUCKET", ""),
        s3_endpoint_url=settings.get("BEDROCK_S3_ENDPOINT_URL"),
        poll_seconds=settings.get("BEDROCK_POLL_SECONDS", 30),
        max_wait_seconds=settings.get("BEDROCK_MAX_WAIT_SECONDS", 2 * 60 * 60),
        stub_file=settings.get("BEDROCK_STUB_FILE", "") or "",
    )
    if cfg.stub_file:
        overrides = _stub_read(cfg.stub_file).get("config") or {}
        known = {f.name for f in fields(BedrockConfig)} - {"stub_file"}
        cfg = replace(cfg, **{k: v for k, v in overrides.items() if k in known})
    return cfg


def configuration_problem(cfg: BedrockConfig, *, needs_output_bucket: bool = False) -> str:
    """Why the generative tools cannot run here ("" when they can), for staff and for a refused submission."""
    if not cfg.enabled:
        return "Not configured: Amazon Bedrock is not enabled on this portal."
    if not cfg.region:
        return "Not configured: no AWS region is set for Amazon Bedrock."
    if needs_output_bucket and not cfg.output_bucket:
        return "Not configured: no S3 output bucket is set for Amazon Nova Reel."
    return ""


def missing_settings(cfg: BedrockConfig, *, needs_output_bucket: bool = False) -> list[str]:
    """The settings to set before the generative tools can run here (empty when none), for the staff console.

    Credentials are not listed: without BEDROCK_AWS_* keys boto3 uses the host's own (an instance or pod role)."""
    missing = []
    if not cfg.enabled:
        missing.append("BEDROCK_ENABLED")
    if not cfg.region:
        missing.append("BEDROCK_REGION")
    if needs_output_bucket and not cfg.output_bucket:
        missing.append("BEDROCK_OUTPUT_BUCKET")
    return missing


# --- Clients ----------------------------------------------------------------------------------------------------------
def runtime_client(cfg: BedrockConfig) -> Any:
    """The bedrock-runtime client for the configured region and endpoint (one per configuration and process)."""
    return _client("bedrock-runtime", cfg)


def output_bucket_client(cfg: BedrockConfig) -> Any:
    """An S3 client for the bucket Nova Reel writes to (same credentials and region as Bedrock)."""
    return _client("s3", cfg)


@cache
def _client(service: str, cfg: BedrockConfig) -> Any:
    import boto3
    from botocore.config import Config

    stubbed = bool(cfg.stub_file) and service == "bedrock-runtime"
    options = {
        "region_name": cfg.region or None,
        "endpoint_url": (cfg.endpoint_url if service == "bedrock-runtime" else cfg.s3_endpoint_url) or None,
        "aws_access_key_id": "stub" if stubbed else cfg.access_key_id,
        "aws_secret_access_key": "stub" if stubbed else cfg.secret_access_key,
        "config": Config(
            retries={"total_max_attempts": 1},  # the job pipeline retries transient errors, with backoff
            connect_timeout=10,
            read_timeout=300,  # Nova Canvas may take a minute or two per request
            signature_version="s3v4" if service == "s3" else None,
            s3={"addressing_style": "path"} if service == "s3" and cfg.s3_endpoint_url else None,
        ),
    }
    client = boto3.client(service, **options)
    if stubbed:
        from botocore.stub import Stubber

        client.greenlight_stubber = Stubber(client)
        client.greenlight_stubber.activate()
    return client


def clear_clients() -> None:
    """Forget the cached clients (after the configuration changed)."""
    _client.cache_clear()


# --- Calls ------------------------------------------------------------------------------------------------------------
def call(cfg: BedrockConfig, operation: str, **params: Any) -> dict[str, Any]:
    """Call a bedrock-runtime operation (its boto3 name), mapping its errors to ToolError / TransientToolError."""
    client = runtime_client(cfg)
    if cfg.stub_file:
        _stub_next(cfg.stub_file, client, operation, params)
    try:
        response: dict[str, Any] = getattr(client, operation)(**params)
        return response
    except AWS_ERRORS as exc:
        raise _tool_error(exc, service="Amazon Bedrock") from exc


def read_output(cfg: BedrockConfig, bucket: str, key: str, destination: Path) -> None:
    """Copy one object of the output bucket to a local file."""
    try:
        output_bucket_client(cfg).download_file(bucket, key, str(destination))
    except AWS_ERRORS as exc:
        raise _tool_error(exc, service="the output bucket") from exc


def remove_outputs(cfg: BedrockConfig, bucket: str, prefix: str) -> int:
    """Delete what Bedrock wrote under `prefix` once it is copied (best effort: a failure leaves it for offboarding)."""
    client = output_bucket_client(cfg)
    removed = 0
    with contextlib.suppress(*AWS_ERRORS):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            batch = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if batch:
                client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                removed += len(batch)
    return removed


def list_outputs(cfg: BedrockConfig, bucket: str, prefix: str) -> list[str]:
    try:
        pages = output_bucket_client(cfg).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]
    except AWS_ERRORS as exc:
        raise _tool_error(exc, service="the output bucket") from exc


def split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise ToolError(f"Amazon Bedrock answered with an output location that is not in S3 ({uri}).")
    return parts.netloc, parts.path.lstrip("/")


def _tool_error(exc: Exception, *, service: str) -> ToolError:
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message") or "").strip() or "no reason given"
        if code in TRANSIENT_CODES:
            return TransientToolError(f"{service} is busy ({code}): {message}")
        if code in ACCESS_CODES:
            return ToolError(
                f"Model access is not configured: {service} refused this portal's credentials ({message}). "
                "The AI Studio team needs to grant access to the model in this AWS account and region."
            )
        if code == "ResourceNotFoundException":
            return ToolError(f"Model access is not configured: the model is not available here ({message}).")
        if code == "ValidationException":
            return ToolError(f"Amazon Bedrock refused the request: {message}")
        if code == "ServiceQuotaExceededException":
            return ToolError(f"The studio's Amazon Bedrock quota is used up for now: {message}")
        return ToolError(f"{service} could not do this ({code or 'error'}): {message}")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)):
        return TransientToolError(f"{service} could not be reached: {exc}")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ToolError("Model access is not configured: no AWS credentials are set for Amazon Bedrock.")
    return ToolError(f"{service} could not do this: {exc}")


# --- Stub mode (tests only) -------------------------------------------------------------------------------------------
TIMESTAMP_FIELDS = ("submitTime", "lastModifiedTime", "endTime")


@contextlib.contextmanager
def _stub_file(stub_file: str, write: bool) -> Iterator[tuple[Any, Any]]:
    path = Path(stub_file)
    if not path.exists():
        yield None, None
        return
    with path.open("r+" if write else "r", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        try:
            yield handle, json.loads(handle.read() or "{}")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stub_read(stub_file: str) -> dict[str, Any]:
    with _stub_file(stub_file, write=False) as (_, data):
        return data or {}


def _stub_next(stub_file: str, client: Any, operation: str, params: dict[str, Any]) -> None:
    """Take the next canned answer from the shared file into the client's Stubber, and record the call."""
    with _stub_file(stub_file, write=True) as (handle, data):
        if handle is None or not data.get("responses"):
            raise ToolError(f"Bedrock stub: no canned response left for {operation}.")
        entry = data["responses"].pop(0)
        recorded = dict(params)
        if isinstance(recorded.get("body"), (bytes, str)):
            recorded["body"] = json.loads(recorded["body"])
        data.setdefault("calls", []).append({"operation": operation, "params": recorded, "pid": os.getpid()})
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(data))
    stubber = client.greenlight_stubber
    if entry.get("operation") != operation:
        raise ToolError(f"Bedrock stub: expected a call to {entry.get('operation')}, got {operation}.")
    if "error" in entry:
        error = entry["error"]
        stubber.add_client_error(operation, service_error_code=error["code"], service_message=error.get("message", ""),
                                 http_status_code=int(error.get("status", 400)))
        return
    stubber.add_response(operation, stub_response(operation, entry.get("response") or {}))


def stub_response(operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """A JSON-friendly canned response made into what botocore returns (a streaming body, datetimes)."""
    from botocore.response import StreamingBody

    response = dict(response)
    if operation == "invoke_model" and "body_json" in response:
        raw = json.dumps(response.pop("body_json")).encode()
        response["body"] = StreamingBody(io.BytesIO(raw), len(raw))
        response.setdefault("contentType", "application/json")
    for name in TIMESTAMP_FIELDS:
        if isinstance(response.get(name), str):
            response[name] = dt.datetime.fromisoformat(response[name])
    return response


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
