"""The one problem+json builder (RFC 9457): the catalogue of problem types and the body of each. The API's
exception handler (api/problems.py), the site-wide error handlers (config/errors.py) and the access gate
(portal/middleware.py) all answer through it, so a problem reads the same wherever it comes from."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"

#: slug -> (status, title, what it means): the catalogue of problem types, served at /api/v1/problems/
TYPES = {
    "validation-error": (400, "The request is not valid", "One or more fields are wrong; see `errors`."),
    "malformed-request": (400, "The request could not be read", "The body is not valid JSON, or not an object."),
    "request-refused": (400, "The request was refused", "A rule of the beta refused it; `detail` says which."),
    "not-authenticated": (401, "Authentication is needed", "Send `Authorization: Bearer <API key>`."),
    "invalid-api-key": (401, "The API key is not accepted", "The key is unknown, revoked or expired."),
    "forbidden": (403, "Not allowed", "Your role does not allow this (e.g. viewers cannot run tools)."),
    "insufficient-scope": (403, "The API key's scope does not allow this", "A read key cannot change anything."),
    "quota-exceeded": (403, "Quota exceeded", "The studio's monthly quota or storage quota is used up."),
    "not-found": (404, "Not found", "No such object in your studio (another studio's objects are not found)."),
    "method-not-allowed": (405, "Method not allowed", "This URL does not take that HTTP method."),
    "not-acceptable": (406, "Not acceptable", "The API answers JSON only."),
    "conflict": (409, "Conflict with the current state", "E.g. canceling a finished job, completing a closed upload."),
    "idempotency-key-reused": (409, "Idempotency-Key reused with a different request",
                               "The same key must come with the same body; use a new key for a new job."),
    "request-too-large": (413, "The request body is too large", "JSON bodies are limited; send bytes as parts."),
    "unsupported-media-type": (415, "Unsupported media type", "Send JSON (`Content-Type: application/json`)."),
    "rate-limited": (429, "Too many requests", "Wait for the seconds in `Retry-After`, then try again."),
    "server-error": (500, "Something went wrong on our side", "The team has been told; try again later."),
}


def type_uri(slug: str) -> str:
    return f"{TYPE_BASE}{slug}"


def problem(slug: str, detail: str = "", *, status_code: int | None = None, errors=None, **extra) -> dict:
    code, title, _meaning = TYPES[slug]
    body = {"type": type_uri(slug), "title": title, "status": status_code or code, "detail": detail or title}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def json_problem(body: dict) -> JsonResponse:
    """A problem body as a plain Django response (outside DRF's views)."""
    return JsonResponse(body, status=body["status"], content_type=CONTENT_TYPE)


def too_large_detail() -> str:
    return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
