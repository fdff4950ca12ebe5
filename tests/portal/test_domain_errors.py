"""A service's PermissionDeniedError is answered once, by DomainErrorMiddleware: a page gets the site's 403 (under
/api/ a problem), whichever view raised it; other errors pass through untouched."""

import json

import pytest
from django.test import RequestFactory

from portal.errors import InviteError, PermissionDeniedError
from portal.middleware import DomainErrorMiddleware

pytestmark = pytest.mark.django_db


def _middleware():
    return DomainErrorMiddleware(lambda request: None)


def test_a_domain_permission_error_on_a_page_is_the_sites_403():
    request = RequestFactory().get("/team/")
    response = _middleware().process_exception(request, PermissionDeniedError("Only owners can do this."))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_under_the_api_the_same_error_is_a_forbidden_problem():
    request = RequestFactory().get("/api/v1/anything/")
    response = _middleware().process_exception(request, PermissionDeniedError("Only owners can do this."))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["type"] == "/api/v1/problems/forbidden"
    assert body["detail"] == "Only owners can do this."


def test_other_errors_are_left_to_the_view_or_djangos_handling():
    request = RequestFactory().get("/team/")
    assert _middleware().process_exception(request, InviteError("nope")) is None
    assert _middleware().process_exception(request, ValueError("bug")) is None

