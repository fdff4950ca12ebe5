"""Webhooks in the Django admin: records to look at (owners manage endpoints on their page; secrets never shown)."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from portal.admin import ReadOnlyAdmin
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "organization", "enabled", "failing_since", "disabled_at", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "organization__name"]
    list_select_related = ["organization"]
    exclude = ["secret", "previous_secret"]


_ATTEMPT_FIELDS = ("number", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt")

if TYPE_CHECKING:  # the admin's classes take type parameters only in django-stubs, not at run time
    _AttemptInlineBase = admin.TabularInline[WebhookAttempt, WebhookDelivery]
else:
    _AttemptInlineBase = admin.TabularInline


class WebhookAttemptInline(_AttemptInlineBase):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = _ATTEMPT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "event_type", "endpoint", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    inlines = [WebhookAttemptInline]
