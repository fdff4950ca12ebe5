"""What offboarding closes in the API (portal/lifecycle.py): the studio's API keys are revoked."""

from django.utils import timezone

from api.models import ApiKey
from portal.lifecycle import StudioCloser, register_studio_closer


def _live_keys(organization):
    return ApiKey.objects.filter(organization=organization, revoked_at__isnull=True)


def inventory(organization) -> dict[str, int]:
    return {"api_keys": _live_keys(organization).count()}


def offboard(*, organization, actor) -> dict[str, int]:
    return {"api_keys": _live_keys(organization).update(revoked_at=timezone.now(), revoked_by=actor)}


def register() -> None:
    register_studio_closer(StudioCloser(name="api", inventory=inventory, offboard=offboard))
