"""The site-wide error handlers (config/urls.py names them): under /api/ they answer application/problem+json from
the one builder (portal/problems.py); elsewhere Django's own pages (templates/400.html ... 500.html)."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from portal.problems import json_problem, problem, too_large_detail


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _is_api(request):
        return json_problem(problem("not-found", "There is no such API endpoint."))
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return json_problem(problem("server-error"))
    return defaults.server_error(request)


def handler400(request, exception=None):
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return json_problem(problem("request-too-large", too_large_detail()))
        return json_problem(problem("malformed-request", "The request could not be read."))
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return json_problem(problem("forbidden", str(exception or "") or "You are not allowed to do this."))
    return defaults.permission_denied(request, exception)
