"""Writes for webhooks: studio owners' endpoints, the deliveries events create, and each delivery attempt.

Retries (Standard Webhooks style): attempt 1 at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 6 h 30 min:
8 attempts over about 24 hours (RETRY_DELAYS). Short waits ride on Celery's countdown; longer ones are picked up by
the `deliver_due` sweeper (beat), so no message sits in Redis for hours. An endpoint whose every attempt has failed
for WEBHOOKS_DISABLE_AFTER_HOURS is disabled and its studio's owners are emailed.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ops import metrics
from portal.errors import PermissionDeniedError
from portal.events import EVENT_TYPES, Event
from portal.lifecycle import closed_message
from portal.models import Membership, Organization, User
from portal.services.audit import audit_record
from webhooks import safety, signing
from webhooks.errors import EndpointValidationError, UnsafeTargetError, WebhookError
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status

#: seconds to wait before attempts 2..8 (attempt 1 is immediate): 24 h 5 min 5 s in all
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 6 * 3600 + 30 * 60)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: waits up to this long are sent as a Celery countdown; longer ones are left to the sweeper
COUNTDOWN_MAX_SECONDS = 60
#: a claimed attempt whose worker died is tried again after this long: well past an attempt's total deadline
#: (WEBHOOKS_TIMEOUT_SECONDS), so a live attempt is never joined by a second one on another connection
CLAIM_LEASE_MIN = timedelta(minutes=2)


def claim_lease() -> timedelta:
    return max(CLAIM_LEASE_MIN, timedelta(seconds=3 * settings.WEBHOOKS_TIMEOUT_SECONDS + 30))
MAX_ENDPOINTS_PER_STUDIO = 10
TEST_EVENT_TYPE = "webhook.test"
EDITABLE_FIELDS = ("url", "events", "description", "enabled")


# --- Permissions and validation ---------------------------------------------------------------------------------------
def _require_owner(user: User, organization: Organization | int) -> None:
    organization_id = organization if isinstance(organization, int) else organization.pk
    if user is None or not user.is_authenticated or user.is_studio_staff or not Membership.objects.filter(
        user=user, organization_id=organization_id, role=Membership.Role.OWNER
    ).exists():
        raise PermissionDeniedError("Only the studio's owners can manage webhooks.")


def validate_url(url: str) -> str:
    """The URL, stripped, if webhooks may be sent to it; EndpointValidationError with a field error otherwise."""
    url = (url or "").strip()
    if len(url) > 2000:
        raise EndpointValidationError("Check the URL.", field_errors={"url": ["Keep the URL under 2,000 characters."]})
    try:
        safety.check_target(url)
    except UnsafeTargetError as exc:
        raise EndpointValidationError(str(exc), field_errors={"url": [str(exc)]}) from exc
    return url


def validate_events(events: object) -> list[str]:
    """The subscribed event types, de-duplicated, in the catalogue's order."""
    if isinstance(events, str) or not isinstance(events, list | tuple) or not events:
        raise EndpointValidationError(
            "Choose at least one event.", field_errors={"events": ["Choose at least one event."]}
        )
    unknown = [str(e) for e in events if e not in EVENT_TYPES]
    if unknown:
        message = f"Unknown event type: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}."
        raise EndpointValidationError(message, field_errors={"events": [message]})
    return [e for e in EVENT_TYPES if e in events]


def _clean_description(description: object) -> str:
    description = str(description or "").strip()
    if len(description) > 200:
        raise EndpointValidationError(
            "Shorten the description.", field_errors={"description": ["Keep the description under 200 characters."]}
        )
    return description


def _audit(
    action: str, *, user: User, endpoint: WebhookEndpoint, request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        action=action, actor=user, organization=endpoint.organization, target=endpoint, request=request,
        detail={"url": endpoint.url, **(detail or {})},
    )


# --- Endpoints --------------------------------------------------------------------------------------------------------
def endpoint_create(
    *, user: User, organization: Organization, url: str, events: list[str], description: str = "",
    request: HttpRequest | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for the studio. Returns it and its signing secret, which is shown this once."""
    _require_owner(user, organization)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    checks: tuple[tuple[str, Callable[[Any], object], object], ...] = (
        ("url", validate_url, url),
        ("events", validate_events, events),
        ("description", _clean_description, description),
    )
    for field, check, value in checks:
        try:
            clean[field] = check(value)
        except EndpointValidationError as exc:
            errors.update(exc.field_errors)
    if errors:
        raise EndpointValidationError("Check the endpoint's details.", field_errors=errors)
    secret = signing.secret_generate()
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS_PER_STUDIO:
            raise WebhookError(f"A studio can have at most {MAX_ENDPOINTS_PER_STUDIO} webhook endpoints.")
        endpoint = WebhookEndpoint.objects.create(organization=organization, created_by=user, secret=secret, **clean)
        _audit("webhook.created", user=user, endpoint=endpoint, request=request, detail={"events": clean["events"]})
    return endpoint, secret


def endpoint_update(
    *, user: User, endpoint: WebhookEndpoint, request: HttpRequest | None = None, **fields: object
) -> WebhookEndpoint:
    """Change an endpoint's url, events, description or enabled. Enabling again clears its failure record."""
    _require_owner(user, endpoint.organization_id)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise WebhookError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    checks: dict[str, Callable[[Any], object]] = {
        "url": validate_url, "events": validate_events, "description": _clean_description, "enabled": bool,
    }
    for field, value in fields.items():
        try:
            clean[field] = checks[field](value)
        except EndpointValidationError as exc:
            errors.update(exc.field_errors)
    if errors:
        raise EndpointValidationError("Check the endpoint's details.", field_errors=errors)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().select_related("organization").get(pk=endpoint.pk)
        changed = {f: v for f, v in clean.items() if getattr(endpoint, f) != v}
        if not changed:
            return endpoint
        for field, value in changed.items():
            setattr(endpoint, field, value)
        if changed.get("enabled") is True:
            endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
        elif changed.get("enabled") is False:
            endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), f"Disabled by {user.email}."
        endpoint.save()
        _audit("webhook.updated", user=user, endpoint=endpoint, request=request, detail={"changed": sorted(changed)})
    return endpoint


def endpoint_delete(*, user: User, endpoint: WebhookEndpoint, request: HttpRequest | None = None) -> None:
    """Remove an endpoint with its delivery log; pending deliveries are dropped."""
    _require_owner(user, endpoint.organization_id)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().select_related("organization").get(pk=endpoint.pk)
        _audit("webhook.deleted", user=user, endpoint=endpoint, request=request)
        endpoint.delete()


def endpoint_rotate_secret(*, user: User, endpoint: WebhookEndpoint, request: HttpRequest | None = None) -> str:
    """A new signing secret, shown this once. The old one stays valid (both signatures are sent) for a grace period,
    so a receiver can switch without dropping messages."""
    _require_owner(user, endpoint.organization_id)
    secret = signing.secret_generate()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().select_related("organization").get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(
            hours=settings.WEBHOOKS_SECRET_ROTATION_GRACE_HOURS
        )
        endpoint.secret = secret
        endpoint.save()
        _audit("webhook.secret_rotated", user=user, endpoint=endpoint, request=request)
    return secret


def endpoint_send_test(
    *, user: User, endpoint: WebhookEndpoint, request: HttpRequest | None = None
) -> WebhookDelivery:
    """Send a `webhook.test` message now (retried like any other), to check the receiver and its signature check."""
    _require_owner(user, endpoint.organization_id)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().select_related("organization").get(pk=endpoint.pk)
        if not endpoint.organization.is_active_in_beta:  # the webhook door of portal/lifecycle.py
            raise WebhookError(closed_message(endpoint.organization))
        if not endpoint.enabled:
            raise WebhookError("Enable the endpoint before sending it a test.")
        data = {"endpoint_id": endpoint.pk, "message": "A test from Greenlight: your endpoint receives webhooks."}
        delivery = _delivery_create(endpoint, TEST_EVENT_TYPE, timezone.now(), data)
        _audit("webhook.tested", user=user, endpoint=endpoint, request=request, detail={"id": delivery.message_id})
    return delivery


# --- Events to deliveries ---------------------------------------------------------------------------------------------
#: per kind of event: the id in its data, its portal page and its API resource
_LINKS = {
    "job": ("job_id", "beta:job-detail", "api:job-detail"),
    "asset": ("asset_id", "assets:detail", "api:asset-detail"),
    "feedback": ("report_id", "beta:feedback-detail", "api:feedback-detail"),
}


def _links(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Where the object of an event can be seen: the portal page and, where the API has it, its API URL."""
    key, page, api = _LINKS.get(event_type.split(".", 1)[0], (None, None, None))
    links = {}
    if key in data:
        for name, url_name in (("html", page), ("api", api)):
            with contextlib.suppress(NoReverseMatch):
                links[name] = settings.SITE_URL + reverse(url_name, args=[data[key]])
    return links


def _delivery_create(
    endpoint: WebhookEndpoint, event_type: str, occurred_at: datetime, data: dict[str, Any]
) -> WebhookDelivery:
    data = dict(data)
    if "links" not in data:
        data["links"] = _links(event_type, data)
    payload = {"type": event_type, "timestamp": occurred_at.isoformat().replace("+00:00", "Z"), "data": data}
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=event_type, message_id=signing.message_id_generate(), payload=payload,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(delivery.pk))
    return delivery


HAS_ENDPOINTS_CACHE_KEY = "webhooks:has-endpoints:{organization_id}"
HAS_ENDPOINTS_CACHE_SECONDS = 600  # a backstop only: adding or removing an endpoint deletes the entry (signals)


def studio_has_endpoints(organization_id: int) -> bool:
    """Whether the studio has any webhook endpoint (enabled or not), cached: most studios have none, and every job
    publishes several events."""
    key = HAS_ENDPOINTS_CACHE_KEY.format(organization_id=organization_id)
    flag = cache.get(key)
    if flag is None:
        flag = WebhookEndpoint.objects.filter(organization_id=organization_id).exists()
        cache.set(key, flag, HAS_ENDPOINTS_CACHE_SECONDS)
    return bool(flag)


def endpoints_changed(sender: type[WebhookEndpoint], instance: WebhookEndpoint, **kwargs: Any) -> None:
    """post_save and post_delete of an endpoint: drop the studio's cached flag, now and again after commit (so a
    reader that cached it before the commit cannot keep the old answer)."""
    key = HAS_ENDPOINTS_CACHE_KEY.format(organization_id=instance.organization_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def event_received(event: Event) -> list[WebhookDelivery]:
    """portal.events subscriber: one delivery per enabled endpoint of the studio subscribed to the event."""
    if not studio_has_endpoints(event.organization_id):  # most studios: no query beyond the cached flag
        return []
    organization = Organization.objects.filter(pk=event.organization_id).first()
    if organization is None or not organization.is_active_in_beta:  # the webhook door of portal/lifecycle.py
        return []
    endpoints = WebhookEndpoint.objects.filter(organization_id=event.organization_id).subscribed_to(event.type)
    if not endpoints:
        return []
    with transaction.atomic():
        return [_delivery_create(endpoint, event.type, event.occurred_at, event.data) for endpoint in endpoints]


def _enqueue(delivery_id: int, countdown: float = 0, *, expires: float | None = None) -> None:
    from webhooks.tasks import deliver

    deliver.apply_async(
        args=(delivery_id,), queue=settings.WEBHOOKS_QUEUE, countdown=countdown or None, expires=expires
    )


# --- Delivery ---------------------------------------------------------------------------------------------------------
def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    secrets_ = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def _claim(delivery_id: int, now: datetime) -> tuple[WebhookDelivery, int, dict[str, Any]] | None:
    with transaction.atomic():
        # Lock the delivery row only (`of`): locking the joined endpoint too would take the two rows in the opposite
        # order to the finishing step below (endpoint, then delivery) and let two attempts deadlock.
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint")
            .filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status != Status.PENDING:
            return None
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return None  # not due: a duplicate message, or another worker holds the lease
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return None
        if not Organization.objects.get(pk=endpoint.organization_id).is_active_in_beta:
            # Held, not failed: the studio is suspended (portal/lifecycle.py); the sweeper tries again after lifting.
            delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOKS_SWEEP_SECONDS)
            delivery.save(update_fields=["next_attempt_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + claim_lease()
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        headers = signing.headers(_signing_secrets(endpoint, now), delivery.message_id, int(now.timestamp()),
                                  body_of(delivery))
    return delivery, delivery.attempts, headers


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookAttempt | None:
    """Make the next attempt of a due delivery and log it; schedule the one after, or finish the delivery.

    Returns the attempt, or None when there was nothing to do (delivered, given up, not due, endpoint disabled).
    `now` is the attempt's time (tests move it forward instead of waiting hours).
    """
    now = now or timezone.now()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return None
    delivery: WebhookDelivery | None  # re-read under a lock below, and gone if the endpoint was deleted meanwhile
    delivery, number, headers = claimed
    result = safety.post(delivery.endpoint.url, body_of(delivery), headers)  # outside any transaction
    excerpt = result.body.decode("utf-8", "replace")[: WebhookAttempt.RESPONSE_EXCERPT_CHARS]
    error = result.error or ("" if result.ok else f"The endpoint answered HTTP {result.status_code}.")
    disabled = None
    with transaction.atomic():
        # Endpoint first, then delivery: the order every writer here takes, so two attempts cannot deadlock.
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if delivery is None or endpoint is None:
            return None  # the endpoint was deleted while the request was out
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=number, attempted_at=now, status_code=result.status_code,
            duration_ms=result.duration_ms, response_excerpt=excerpt, error=error[:300],
        )
        countdown = None
        if result.ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = Status.SUCCEEDED, now, None
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since", "updated_at"])
        else:
            disabled = _record_failure(endpoint, now)
            if number >= MAX_ATTEMPTS or disabled is not None:
                delivery.status, delivery.next_attempt_at = Status.FAILED, None
            else:
                delay = RETRY_DELAYS[number - 1]
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                if delay <= COUNTDOWN_MAX_SECONDS:
                    countdown = delay
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
        metrics.webhook_attempted(delivery=delivery, attempt=attempt, now=now)
        if countdown is not None and delivery.status == Status.PENDING:
            transaction.on_commit(lambda: _enqueue(delivery.pk, countdown))
    if disabled is not None:
        _email_disabled(disabled)
    return attempt


def _record_failure(endpoint: WebhookEndpoint, now: datetime) -> WebhookEndpoint | None:
    """Note a failed attempt; disable the endpoint when it has failed without a break for long enough."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since", "updated_at"])
        return None
    if not endpoint.enabled or now - endpoint.failing_since < timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS):
        return None
    hours = settings.WEBHOOKS_DISABLE_AFTER_HOURS
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = f"Every delivery attempt failed for {hours} hours."
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING).update(
        status=Status.FAILED, next_attempt_at=None
    )
    audit_record(
        action="webhook.disabled", organization=endpoint.organization, target=endpoint,
        detail={"url": endpoint.url, "reason": endpoint.disabled_reason},
    )
    return endpoint


def _email_disabled(endpoint: WebhookEndpoint) -> None:
    owners = list(
        Membership.objects.filter(
            organization_id=endpoint.organization_id, role=Membership.Role.OWNER, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not owners:
        return
    page = settings.SITE_URL + reverse("webhooks:endpoint-detail", args=[endpoint.pk])
    body = (
        f"We stopped sending webhooks to {endpoint.url}: {endpoint.disabled_reason}\n\n"
        f"The delivery log shows each attempt and the answer we got. When the endpoint works again, enable it here: "
        f"{page}\n\n— {settings.PORTAL_NAME}"
    )
    send_mail("Webhook endpoint disabled", body, None, owners, fail_silently=True)


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Sweeper: send every pending delivery whose next attempt is due (long waits, lost messages, dead workers)."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in ids:
        # Expiring with the next sweep: when the queue is backed up, each sweep adds at most one message per delivery.
        _enqueue(delivery_id, expires=settings.WEBHOOKS_SWEEP_SECONDS)
    return len(ids)


def deliveries_purge(*, now: datetime | None = None) -> int:
    """Retention: forget finished deliveries (and their attempts) older than WEBHOOKS_LOG_RETENTION_DAYS.

    Pending deliveries are kept whatever their age: they are still being tried.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOKS_LOG_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=Status.PENDING).delete()
    return deleted
