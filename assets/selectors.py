"""Reads about assets."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.urls import reverse

from assets.models import Asset, Rendition
from portal.cohorts import cohort_window
from portal.dashboard_panels import Step
from portal.models import AuditEvent, Organization

#: The library's views: every file in one list, stacks (uploads with their outputs beneath), uploads only, outputs only.
LIBRARY_VIEWS = {"all": "All files", "stacked": "Stacks", "originals": "Originals only",
                 "outputs": "Outputs only"}


def library(
    *, user, kind: str = "", status: str = "", q: str = "", view: str = "all", stack: Asset | None = None
) -> QuerySet[Asset]:
    """The studio's live assets, newest first. `view="stacked"` gives the heads of stacks only (uploads, and outputs
    made from no file), read in order from their own partial index; `stack` the outputs stacked under one upload."""
    assets = (
        Asset.objects.for_user(user)
        .live()
        .select_related("organization", "uploaded_by", "lineage_root")
        .prefetch_related(
            Prefetch(
                "renditions", queryset=Rendition.objects.filter(kind=Rendition.Kind.THUMBNAIL), to_attr="thumbnails"
            )
        )
    )
    if kind in Asset.Kind.values:
        assets = assets.filter(kind=kind)
    if status in Asset.Status.values:
        assets = assets.filter(status=status)
    if q:
        assets = assets.filter(Q(original_filename__icontains=q))
    if stack is not None:
        assets = assets.filter(lineage_root=stack)
    elif view == "stacked":
        assets = assets.filter(lineage_root__isnull=True)
    elif view == "originals":
        assets = assets.filter(origin="upload")
    elif view == "outputs":
        assets = assets.filter(origin="output")
    return assets.order_by("-created_at", "-id")


# Which run made an output is the programme's to say (beta registers a provider, as for usage).
_origin_providers: list[Callable[[Asset], dict[str, Any] | None]] = []


def register_origin_provider(provider: Callable[[Asset], dict[str, Any] | None]) -> None:
    """`provider(output) -> dict(label, url, inputs=[Asset]) | None`: the run that made it, for the asset page."""
    _origin_providers.append(provider)


def asset_origin(asset: Asset) -> dict[str, Any] | None:
    if asset.origin != "output":
        return None
    return next((found for provider in _origin_providers if (found := provider(asset))), None)


# The runs that made the outputs of a stack are the programme's (beta), which registers a provider.
_stack_providers: list[Callable[[list[int]], dict[int, list[dict[str, Any]]]]] = []


def register_stack_provider(provider: Callable[[list[int]], dict[int, list[dict[str, Any]]]]) -> None:
    """`provider(head_ids) -> {head id: [dict(label, url, files)]}`, newest run first, in one query for a page."""
    _stack_providers.append(provider)


@dataclass(frozen=True)
class Stack:
    versions: list[dict[str, Any]]
    files: int

    @property
    def summary(self) -> str:
        """ "3 versions · dailies 1.0, dailies 0.9, upscale 1.0" """
        count = len(self.versions)
        return f"{count} version{'s' if count != 1 else ''} · " + ", ".join(v["label"] for v in self.versions)


def library_stacks(assets) -> dict[int, Stack]:
    """The stacks under one page of assets (the versions tools made of each), keyed by asset id: one query."""
    ids = [asset.pk for asset in assets if asset.lineage_root_id is None]
    versions: dict[int, list[dict[str, Any]]] = {}
    for provider in _stack_providers if ids else []:
        for head, found in provider(ids).items():
            versions.setdefault(head, []).extend(found)
    return {head: Stack(versions=found, files=sum(v["files"] for v in found)) for head, found in versions.items()}


def unfinished_uploads(*, user) -> QuerySet[Asset]:
    return Asset.objects.for_user(user).filter(status=Asset.Status.UPLOADING, uploaded_by=user).order_by("-created_at")


# Tools that used an asset are told to the data-use statement by the programme (beta), which registers a provider.
_usage_providers: list[Callable[[Asset], list[dict[str, Any]]]] = []


def register_usage_provider(provider: Callable[[Asset], list[dict[str, Any]]]) -> None:
    """`provider(asset) -> list[dict(tool, when, run_url)]`; the beta app registers one for its jobs."""
    _usage_providers.append(provider)


def asset_usage(asset: Asset) -> list[dict]:
    return [use for provider in _usage_providers for use in provider(asset)]


# --- Access log -------------------------------------------------------------------------------------------------------
#: Reads of a studio's material, as the audit trail records them: what a studio's access log lists.
ACCESS_ACTIONS = (
    AuditEvent.Action.ASSET_VIEWED,
    AuditEvent.Action.ASSET_DOWNLOADED,
    AuditEvent.Action.ASSET_TOOL_READ,
    AuditEvent.Action.ASSET_API_READ,
    AuditEvent.Action.ASSET_STAFF_OPENED,
)


def access_log(*, organization: Organization, asset: Asset | None = None) -> QuerySet[AuditEvent]:
    """Every read of this studio's files (or of one file), newest first. Only this studio's events, ever."""
    events = AuditEvent.objects.filter(
        organization=organization, action__in=ACCESS_ACTIONS, target_type=Asset._meta.label_lower
    )
    if asset is not None:
        events = events.filter(target_id=str(asset.pk))
    return events.select_related("actor").order_by("-at", "-id")


@dataclass(frozen=True)
class AccessEntry:
    event: AuditEvent
    who: str
    by_staff: bool
    asset: Asset | None
    where: str


def access_entries(events, *, organization: Organization) -> list[AccessEntry]:
    """One page of access-log events, with who (staff named as such), the file and where from: one query more."""
    events = list(events)
    ids = {int(e.target_id) for e in events if e.target_id.isdigit()}
    assets = {a.pk: a for a in Asset.objects.filter(organization=organization, pk__in=ids)
              .only("id", "original_filename", "status", "kind", "organization_id")}
    return [_entry(event, assets.get(int(event.target_id)) if event.target_id.isdigit() else None)
            for event in events]


def _entry(event: AuditEvent, asset: Asset | None) -> AccessEntry:
    actor = event.actor
    by_staff = bool((actor is not None and actor.is_studio_staff) or event.detail.get("staff")
                    or event.action == AuditEvent.Action.ASSET_STAFF_OPENED)
    name = (actor.full_name or actor.email) if actor is not None else (event.actor_email or "Someone (account removed)")
    who = f"AI Studio staff: {name}" if by_staff else name
    if event.action == AuditEvent.Action.ASSET_TOOL_READ:
        where = "AI Studio worker (tool run)"
    elif event.detail.get("api_key"):
        where = f"API key {event.detail['api_key']}" + (f" from {event.ip_address}" if event.ip_address else "")
    else:
        where = event.ip_address or "—"
    return AccessEntry(event=event, who=who, by_staff=by_staff, asset=asset, where=where)


def _counted_against_quota() -> QuerySet[Asset]:
    """The assets whose bytes count against a studio's quota: everything not deleted or rejected, uploads included."""
    return Asset.objects.exclude(status__in=[Asset.Status.DELETED, Asset.Status.REJECTED])


def storage_used(organization: Organization) -> int:
    """Bytes that count against the studio's quota."""
    used = _counted_against_quota().filter(organization=organization).aggregate(total=Sum("size_bytes"))["total"]
    return used or 0


def storage_used_by_studio(organization_ids: list[int]) -> dict[int, int]:
    """`storage_used` of many studios in one query (a studio with nothing stored is absent)."""
    rows = (
        _counted_against_quota().filter(organization_id__in=organization_ids).order_by()
        .values("organization_id").annotate(total=Sum("size_bytes"))
    )
    return {row["organization_id"]: row["total"] or 0 for row in rows}


def part_count(asset: Asset) -> int:
    return max(1, math.ceil(asset.size_bytes / asset.part_size))


def retention_deadline(organization: Organization):
    window = cohort_window(organization)
    if window.closes_at is None:
        return None
    return window.closes_at + timedelta(days=settings.RETENTION_DAYS_AFTER_CLOSE)


def has_uploaded(organization: Organization) -> bool:
    """Whether the studio has footage of its own (uploaded, verifying or ready; tool outputs do not count)."""
    return Asset.objects.filter(
        organization=organization, origin="upload", status__in=[Asset.Status.VERIFYING, Asset.Status.READY]
    ).exists()


def getting_started_steps(user, organization: Organization) -> list[Step]:
    """The dashboard checklist's upload step (registered in assets/apps.py)."""
    return [Step(key="upload", order=30, label="Upload your first clip", done=has_uploaded(organization),
                 url=reverse("assets:upload"), action="Upload footage")]
