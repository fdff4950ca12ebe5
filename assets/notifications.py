"""Storage quota notifications: when a file is stored, the studio's owners hear if it passed 80% or all of its
storage (a portal.events subscriber, connected in AssetsConfig.ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from assets.selectors import storage_used
from assets.templatetags.asset_tags import human_size
from portal.events import Event
from portal.models import Organization
from portal.services.notifications import quota_check


def storage_checked(event: Event) -> None:
    if event.type != "asset.ready":
        return
    organization = Organization.objects.filter(pk=event.organization_id).first()
    if organization is None:
        return
    used, limit = storage_used(organization), organization.storage_quota_bytes
    quota_check(
        organization_id=organization.pk, quota="storage", label="storage", used=used, limit=limit,
        month=f"{timezone.now():%Y-%m}", url=reverse("assets:library"),
        amounts=f"{human_size(used)} of {human_size(limit)}",
    )
