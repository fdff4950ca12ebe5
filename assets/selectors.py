"""Reads about assets."""

from django.db.models import Prefetch, Q, QuerySet

from assets.models import Asset, Rendition


def library(*, user, kind: str = "", status: str = "", q: str = "") -> QuerySet[Asset]:
    assets = (
        Asset.objects.for_user(user)
        .live()
        .select_related("organization", "uploaded_by")
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
    return assets.order_by("-created_at", "-id")


def unfinished_uploads(*, user) -> QuerySet[Asset]:
    return Asset.objects.for_user(user).filter(status=Asset.Status.UPLOADING, uploaded_by=user).order_by("-created_at")


# Tools that used an asset are told to the data-use statement by the programme (beta), which registers a provider.
_usage_providers = []


def register_usage_provider(provider) -> None:
    """`provider(asset) -> list[dict(tool, when, run_url)]`; the beta app registers one for its jobs."""
    _usage_providers.append(provider)


def asset_usage(asset: Asset) -> list[dict]:
    return [use for provider in _usage_providers for use in provider(asset)]
