"""Webhook endpoints of a studio, the messages sent to them and every attempt to deliver one."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.models import Organization, TimeStamped
from portal.tenancy import TenantQuerySet


class WebhookEndpointQuerySet(TenantQuerySet["WebhookEndpoint"]):
    def subscribed_to(self, event_type: str) -> list[WebhookEndpoint]:
        # events is a JSON list; filtering in Python keeps this portable across SQLite and PostgreSQL
        return [endpoint for endpoint in self.filter(enabled=True) if event_type in (endpoint.events or [])]


class WebhookEndpoint(TimeStamped):
    """A studio's HTTPS URL that is told about the events it subscribes to, signed per Standard Webhooks."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    #: subscribed event types, a subset of portal.events.EVENT_TYPES
    events = models.JSONField(default=list)
    #: "whsec_" + base64 of 32 random bytes; needed in clear to sign, so it is shown to owners only once
    secret = models.CharField(max_length=100)
    #: the secret before the last rotation, still used to sign (alongside) until previous_secret_expires_at
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: first failed delivery of an unbroken run of failures; cleared by any success
    failing_since = models.DateTimeField(null=True, blank=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "enabled"], name="webhooks_ep_org_enabled")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to tell two apart, never enough to use."""
        return f"{self.secret[:10]}…" if self.secret else ""


class WebhookDeliveryQuerySet(TenantQuerySet["WebhookDelivery"]):
    organization_lookup = "endpoint__organization"


class WebhookDelivery(models.Model):
    """One message (one event) for one endpoint, attempted until it succeeds or the schedule runs out."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    #: the Standard Webhooks `webhook-id`: "msg_" + random; receivers use it to drop duplicates
    message_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_dl_ep_created"),
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_dl_status_next"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "succeeded", "failed"]), name="webhooks_delivery_status_valid"
            ),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class WebhookAttemptQuerySet(TenantQuerySet["WebhookAttempt"]):
    organization_lookup = "delivery__endpoint__organization"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what was answered, how fast, or why it failed."""

    #: the stored part of the receiver's answer, in characters
    RESPONSE_EXCERPT_CHARS = 1024

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    objects = WebhookAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
