"""Scopes: a key with the `read` scope can read; changing anything needs `write`. A session has both: what a person
may do is then decided by the services (viewers cannot upload or run tools, only owners manage keys)."""

from rest_framework import exceptions, permissions

from api.models import ApiKey
from portal.models import Membership


class InsufficientScope(exceptions.PermissionDenied):
    problem_slug = "insufficient-scope"


class ScopedAccess(permissions.BasePermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        needed = ApiKey.Scope.READ if request.method in permissions.SAFE_METHODS else ApiKey.Scope.WRITE
        if needed not in (key.scopes or []):
            raise InsufficientScope(f"This API key has the {', '.join(key.scopes) or 'no'} scope; this needs {needed}.")
        return True


class PartnerOrStaff(permissions.BasePermission):
    """A studio's API key (any scope), a studio's member, or studio staff."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.auth is not None or user.is_studio_staff:
            return True
        return Membership.objects.filter(user=user).exists()
