"""What offboarding deletes in assets (portal/lifecycle.py): every asset and output, their previews and bytes.

The rows are tombstoned in the offboarding transaction; a worker deletes the bytes after commit and completes the
deletion receipt, which the staff studio page offers for download (audited by `assets:receipt`).
"""

from django.db.models import Sum
from django.urls import reverse

from assets import services
from assets.models import Asset, DeletionReceipt
from portal.lifecycle import StudioCloser, register_studio_closer


def inventory(organization) -> dict[str, int | None]:
    live = Asset.objects.filter(organization=organization).exclude(status=Asset.Status.DELETED)
    stored = services.studio_stored(organization)
    if stored is None:  # storage did not answer: what the database knows, and the object count unknown
        total = live.aggregate(total=Sum("size_bytes"))["total"]
        return {"assets": live.count(), "stored_objects": None, "bytes": total}
    return {"assets": live.count(), "stored_objects": stored[0], "bytes": stored[1]}


def offboard(*, organization, actor) -> dict[str, object]:
    receipt = services.studio_assets_release(actor=actor, organization=organization)
    return {"assets": receipt.asset_count, "receipt": str(receipt.uuid)}


def documents(organization) -> list[tuple[str, str]]:
    receipts = DeletionReceipt.objects.filter(organization=organization, scope=DeletionReceipt.Scope.STUDIO)
    return [
        (
            "Deletion receipt (JSON)" if receipt.completed_at else "Deletion receipt (JSON; bytes still being deleted)",
            reverse("assets:receipt", args=[receipt.pk]),
        )
        for receipt in receipts
    ]


def register() -> None:
    register_studio_closer(
        StudioCloser(name="assets", inventory=inventory, offboard=offboard, documents=documents)
    )
