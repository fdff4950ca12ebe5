"""What offboarding closes in webhooks (portal/lifecycle.py): endpoints disabled, pending deliveries dropped."""

from typing import Any

from django.utils import timezone

from portal.lifecycle import StudioCloser, register_studio_closer
from webhooks.models import WebhookDelivery, WebhookEndpoint


def inventory(organization: Any) -> dict[str, int]:
    return {"webhooks": WebhookEndpoint.objects.filter(organization=organization, enabled=True).count()}


def offboard(*, organization: Any, actor: Any) -> dict[str, int]:
    now = timezone.now()
    disabled = WebhookEndpoint.objects.filter(organization=organization, enabled=True).update(
        enabled=False, disabled_at=now, disabled_reason=f"{organization.name} left the beta.", updated_at=now
    )
    WebhookDelivery.objects.filter(
        endpoint__organization=organization, status=WebhookDelivery.Status.PENDING
    ).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    return {"webhooks": disabled}


def register() -> None:
    register_studio_closer(StudioCloser(name="webhooks", inventory=inventory, offboard=offboard))
