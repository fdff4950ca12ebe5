"""Reads for webhooks: a studio's endpoints and their delivery log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEndpointQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.models import User


def endpoints_for_user(user: User | AnonymousUser | None) -> WebhookEndpointQuerySet:
    return WebhookEndpoint.objects.for_user(user).select_related("organization", "created_by")


def deliveries_for_endpoint(endpoint: WebhookEndpoint, *, limit: int = 50) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, each with its attempts (two queries whatever the count)."""
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")))
        .order_by("-created_at", "-id")[:limit]
    )
