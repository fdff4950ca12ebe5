"""Every API error is `application/problem+json` (RFC 9457): a stable `type`, a `title`, the `status`, a `detail`
for people, and for validation an `errors` list naming each failing field.

Domain errors of the services map here once (PROBLEMS), so every view answers the same error the same way.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.errors import ApiKeyError, IdempotencyConflictError
from assets.errors import AssetError, UploadRefusedError, UploadStateError
from beta.errors import JobError, JobParameterError, QuotaError
from portal.errors import PermissionDeniedError, PortalError

logger = logging.getLogger(__name__)
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


def _flatten(detail, path: tuple = ()) -> list[dict]:
    """DRF's nested validation detail as a list of {field, pointer, detail}."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _flatten(value, (*path, str(key)))]
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [_error_item(path, str(item)) for item in detail]
        return [item for i, value in enumerate(detail) for item in _flatten(value, (*path, str(i)))]
    return [_error_item(path, str(detail))]


def _error_item(path: tuple, message: str) -> dict:
    path = tuple(p for p in path if p != "non_field_errors")
    return {"field": ".".join(path), "pointer": "#/" + "/".join(path), "detail": message}


def _response(body: dict, headers: dict | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=CONTENT_TYPE)


def domain_problem(exc: PortalError, *, state_conflict: bool = False) -> dict:
    """The problem for a service's domain error. `state_conflict`: a JobError/AssetError means the object's state
    forbids the action (cancel a finished job), not that the request was wrong."""
    message = str(exc)
    if isinstance(exc, IdempotencyConflictError):
        return problem("idempotency-key-reused", message)
    if isinstance(exc, PermissionDeniedError):
        return problem("forbidden", message)
    if isinstance(exc, QuotaError):
        return problem("quota-exceeded", message)
    if isinstance(exc, JobParameterError):
        field = f"parameters.{exc.field}" if exc.field else "parameters"
        detail = message.removeprefix(f"{exc.field}: ") if exc.field else message
        return problem("validation-error", message, errors=[_error_item(tuple(field.split(".")), detail)])
    if isinstance(exc, UploadRefusedError):
        if "quota" in message:
            return problem("quota-exceeded", message)
        return problem("request-refused", message)
    if isinstance(exc, UploadStateError):
        return problem("conflict", message)
    if isinstance(exc, ApiKeyError):
        return problem("request-refused", message)
    if isinstance(exc, (JobError, AssetError)):
        return problem("conflict" if state_conflict else "request-refused", message)
    return problem("request-refused", message)


class DomainError(exceptions.APIException):
    """Raised by views to answer a service's domain error as a problem."""

    def __init__(self, exc: PortalError | None = None, *, state_conflict: bool = False, body: dict | None = None):
        self.body = body if body is not None else domain_problem(exc, state_conflict=state_conflict)
        super().__init__(self.body["detail"])
        self.status_code = self.body["status"]

    @classmethod
    def from_body(cls, body: dict) -> DomainError:
        return cls(body=body)


def validation_problem(field_errors: dict[str, list[str]], detail: str = "") -> dict:
    """A validation problem from a service's {field: [messages]}."""
    errors = _flatten(field_errors)
    return problem("validation-error", detail or _summary(errors), errors=errors)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."


def exception_handler(exc, context):
    """DRF's exception handler, answering problem+json."""
    headers = {}
    if isinstance(exc, DomainError):
        return _response(exc.body)
    if isinstance(exc, PortalError):
        return _response(domain_problem(exc))
    if isinstance(exc, Http404):
        return _response(problem("not-found", "Nothing here, or nothing of your studio's."))
    if isinstance(exc, (PermissionDenied,)):
        return _response(problem("forbidden", str(exc) or "You are not allowed to do this."))
    if isinstance(exc, RequestDataTooBig):
        return _response(problem("request-too-large", _too_large_detail()))
    if isinstance(exc, RequestTooLarge):
        return _response(problem("request-too-large", str(exc.detail)))
    if isinstance(exc, exceptions.Throttled):
        wait = max(int(exc.wait or 1), 1)
        headers["Retry-After"] = str(wait)
        body = problem("rate-limited", f"Too many requests; try again in {wait} s.")
        return _response(body, headers)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return _response(problem("validation-error", _summary(errors), errors=errors))
    if isinstance(exc, exceptions.ParseError):
        return _response(problem("malformed-request", str(exc.detail)))
    if isinstance(exc, exceptions.AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        return _response(problem("invalid-api-key", str(exc.detail)), headers)
    if isinstance(exc, exceptions.NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return _response(problem("not-authenticated", str(exc.detail)), headers)
    if isinstance(exc, exceptions.PermissionDenied):
        slug = getattr(exc, "problem_slug", "forbidden")
        return _response(problem(slug, str(exc.detail)))
    if isinstance(exc, exceptions.NotFound):
        return _response(problem("not-found", str(exc.detail)))
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _response(problem("method-not-allowed", str(exc.detail)))
    if isinstance(exc, exceptions.NotAcceptable):
        return _response(problem("not-acceptable", str(exc.detail)))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _response(problem("unsupported-media-type", str(exc.detail)))
    if isinstance(exc, exceptions.APIException):
        return _response(problem("request-refused", str(exc.detail), status_code=exc.status_code))
    return None  # a bug: Django's 500 handling (logging, then handler500 below) takes it


def _summary(errors: list[dict]) -> str:
    if not errors:
        return "The request is not valid."
    first = errors[0]
    return f"{first['field']}: {first['detail']}" if first["field"] else first["detail"]


def _too_large_detail() -> str:
    return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."


# --- Django's handlers, for what happens outside DRF views under /api/ ---------------------------------------------
def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _json_problem(body: dict) -> JsonResponse:
    return JsonResponse(body, status=body["status"], content_type=CONTENT_TYPE)


def handler404(request, exception=None):
    if _is_api(request):
        return _json_problem(problem("not-found", "There is no such API endpoint."))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return _json_problem(problem("server-error"))
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return _json_problem(problem("request-too-large", _too_large_detail()))
        return _json_problem(problem("malformed-request", "The request could not be read."))
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return _json_problem(problem("forbidden", str(exception or "") or "You are not allowed to do this."))
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any /api/v1/ path that names no endpoint."""
    return _json_problem(problem("not-found", "There is no such API endpoint."))
