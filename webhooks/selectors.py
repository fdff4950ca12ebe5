"""Reads for webhooks: a studio's endpoints and their delivery log."""

from django.db.models import Prefetch

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints_for_user(user):
    return WebhookEndpoint.objects.for_user(user).select_related("organization", "created_by")


def deliveries_for_endpoint(endpoint: WebhookEndpoint, *, limit: int = 50):
    """The endpoint's latest deliveries, each with its attempts (two queries whatever the count)."""
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")))
        .order_by("-created_at", "-id")[:limit]
    )
