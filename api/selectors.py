"""Reads of the API app."""

from django.db.models import QuerySet

from api.models import ApiKey


def api_keys_for_user(user) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_user(user).select_related("created_by", "revoked_by").order_by("-created_at", "-id")
