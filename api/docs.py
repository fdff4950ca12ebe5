"""The OpenAPI schema and its docs are for the beta's partners and staff, not the public: the API's shape is part
of what partners agreed to keep confidential. A signed-in partner or staff member (session) or a valid API key."""

from collections.abc import Sequence

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder

from api.authentication import ApiKeyAuthentication, SessionAuthentication
from api.permissions import PartnerOrStaff


class _DocsAccess:
    # Typed as APIView declares them, so the views that mix this in agree with their DRF base.
    authentication_classes: Sequence[type[BaseAuthentication]] = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes: Sequence[type[BasePermission] | OperandHolder | SingleOperandHolder] = [PartnerOrStaff]


class SchemaView(_DocsAccess, SpectacularAPIView):
    """The schema itself: a 401 problem to an anonymous program."""


class _DocsPage(_DocsAccess):
    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and not (
            self.request.headers.get("Authorization")
        ):
            return redirect_to_login(self.request.get_full_path())  # a person in a browser: sign in first
        return super().handle_exception(exc)


class SwaggerView(_DocsPage, SpectacularSwaggerSplitView):
    pass


class RedocView(_DocsPage, SpectacularRedocView):
    pass
