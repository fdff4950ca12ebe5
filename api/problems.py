"""Every API error is `application/problem+json` (RFC 9457): a stable `type`, a `title`, the `status`, a `detail`
for people, and for validation an `errors` list naming each failing field.

Domain errors of the services map here once (PROBLEMS), so every view answers the same error the same way.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.errors import ApiKeyError, IdempotencyConflictError
from assets.errors import AssetError, UploadRefusedError, UploadStateError
from beta.errors import JobError, JobParameterError, QuotaError
from portal.errors import PermissionDeniedError, PortalError
from portal.problems import CONTENT_TYPE, TYPE_BASE, TYPES, json_problem, problem, too_large_detail, type_uri

logger = logging.getLogger(__name__)
__all__ = ["CONTENT_TYPE", "TYPES", "TYPE_BASE", "DomainError", "exception_handler", "problem", "type_uri"]


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
        return _response(problem("request-too-large", too_large_detail()))
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



@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any /api/v1/ path that names no endpoint."""
    return json_problem(problem("not-found", "There is no such API endpoint."))
