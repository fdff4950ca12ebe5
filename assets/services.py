"""Writes about assets: uploads, verification, renditions, downloads, deletion and offboarding."""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assets import keys
from assets.errors import AssetError, UploadRefusedError, UploadStateError
from assets.models import Asset, DeletionReceipt, Rendition
from assets.selectors import part_count, storage_used
from assets.storage import StorageError, StoredPart, copy_to_file, get_store, hash_key
from assets.templatetags.asset_tags import display_filename, human_size
from ops import metrics
from portal.cohorts import cohort_window
from portal.errors import PermissionDeniedError
from portal.events import publish
from portal.models import AuditEvent, Membership, Organization, User
from portal.services.audit import audit_record

logger = logging.getLogger(__name__)
Action = AuditEvent.Action
MAX_PARTS = 10_000
MIN_PART_SIZE = 5 * 1024**2
MAX_URL_BATCH = 100
VERIFY_DEFERRED_MESSAGE = "Received; checking will start shortly."


# --- Helpers ----------------------------------------------------------------------------------------------------------

def part_size_for(size: int) -> int:
    """Parts of UPLOAD_PART_SIZE, grown in whole MiB when a file would need more than 10,000 of them."""
    part = max(settings.UPLOAD_PART_SIZE, MIN_PART_SIZE)
    if math.ceil(size / part) > MAX_PARTS:
        part = math.ceil(size / MAX_PARTS / 1024**2) * 1024**2
    return part



def _require_uploader(actor: User, organization: Organization) -> None:
    membership = Membership.objects.filter(user=actor, organization=organization).first()
    if membership is None or membership.role == Membership.Role.VIEWER:
        raise PermissionDeniedError("Viewers cannot upload; ask your studio's owner for the member role.")
    window = cohort_window(organization)
    if not window.is_open:
        if window.state == "upcoming":
            raise UploadRefusedError(f"The beta opens for your studio on {window.opens_at:%d %B %Y}.")
        if window.state == "closed":
            raise UploadRefusedError("Your studio's beta window has closed; the beta is read-only now.")
        raise UploadRefusedError("Your studio is not in a beta cohort yet.")


# --- Upload -----------------------------------------------------------------------------------------------------------
def asset_upload_start(
    *, actor: User, organization: Organization, filename: str, size: int, content_type: str = "", request=None
) -> Asset:
    """Check the limits before any byte is sent, then open a multipart upload under the studio's prefix."""
    from assets.detect import kind_from_filename

    _require_uploader(actor, organization)
    name = display_filename(filename)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise UploadRefusedError("The file is empty.")
    if size > settings.ASSET_MAX_BYTES:
        raise UploadRefusedError(
            f"{name} ({human_size(size)}) is larger than the largest file the beta takes "
            f"({human_size(settings.ASSET_MAX_BYTES)})."
        )
    kind = kind_from_filename(name)
    if kind is None or kind not in settings.ASSET_ALLOWED_KINDS:
        allowed = ", ".join(settings.ASSET_ALLOWED_KINDS)
        raise UploadRefusedError(f"{name} is not a kind of file the beta takes ({allowed}).")
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        used = storage_used(organization)
        if used + size > organization.storage_quota_bytes:
            raise UploadRefusedError(
                f"{name} ({human_size(size)}) would take your studio over its storage quota: "
                f"{human_size(used)} of {human_size(organization.storage_quota_bytes)} used, "
                f"{human_size(max(organization.storage_quota_bytes - used, 0))} free."
            )
        asset = Asset(
            organization=organization,
            uploaded_by=actor,
            kind=kind,
            original_filename=name,
            declared_content_type=(content_type or "")[:120],
            size_bytes=size,
            part_size=part_size_for(size),
        )
        asset.storage_key = keys.original_key(asset)
        asset.upload_id = get_store().multipart_start(
            asset.storage_key, asset.declared_content_type, kms_key_id=organization.kms_key_id
        )
        asset.save()
    return asset


def _uploading(asset: Asset) -> None:
    if asset.status != Asset.Status.UPLOADING:
        raise UploadStateError(f"This upload is {asset.get_status_display().lower()}, not open for parts.")


def asset_upload_part_urls(*, asset: Asset, part_numbers: list[int]) -> dict[int, str]:
    """Presigned (S3) or portal (local) URLs for a batch of parts."""
    from django.urls import reverse

    _uploading(asset)
    count = part_count(asset)
    if not part_numbers or len(part_numbers) > MAX_URL_BATCH:
        raise UploadStateError(f"Ask for 1 to {MAX_URL_BATCH} parts at a time.")
    if any(not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= count for n in part_numbers):
        raise UploadStateError(f"Part numbers run from 1 to {count}.")
    store = get_store()
    if store.mode == "local":
        return {n: reverse("assets:upload-part", kwargs={"asset_id": asset.pk, "part_number": n}) for n in part_numbers}
    return {n: store.multipart_part_url(asset.storage_key, asset.upload_id, n) for n in part_numbers}


def asset_upload_parts(*, asset: Asset) -> list[StoredPart]:
    """The parts already stored: how a client resumes after losing its state."""
    _uploading(asset)
    return get_store().multipart_list_parts(asset.storage_key, asset.upload_id)


def asset_upload_write_part(*, asset: Asset, part_number: int, stream, length: int) -> StoredPart:
    """Local mode only: store one part sent to the portal's chunk endpoint."""
    store = get_store()
    if store.mode != "local":
        raise UploadStateError("Parts go straight to S3 in this deployment.")
    _uploading(asset)
    count = part_count(asset)
    if not 1 <= part_number <= count:
        raise UploadStateError(f"Part numbers run from 1 to {count}.")
    expected = asset.part_size if part_number < count else asset.size_bytes - asset.part_size * (count - 1)
    if length > expected:
        raise UploadStateError(f"Part {part_number} must be at most {expected} bytes.")
    return store.multipart_write_part(asset.upload_id, part_number, stream, length)


def asset_upload_complete(*, actor: User, asset: Asset, request=None) -> Asset:
    """Join the stored parts, then verify in a worker. Missing parts must be sent first.

    Idempotent: completing an upload already completed returns its state (verifying, ready or rejected) and does
    nothing else. The join is committed before verification is queued; when the broker cannot be reached the upload
    stays `verifying` and the verify sweep (`assets_verify_resend`) queues it once the broker is back. The returned
    asset's `verify_queued` says whether verification was queued now (False: the broker was down; None: nothing to do).
    """
    with transaction.atomic():
        asset = Asset.objects.select_for_update().select_related("organization").get(pk=asset.pk)
        if asset.status != Asset.Status.UPLOADING and asset.uploaded_at is not None:
            asset.verify_queued = None
            return asset  # completed before (a retried request): its state, unchanged
        _uploading(asset)
        store = get_store()
        parts = sorted(store.multipart_list_parts(asset.storage_key, asset.upload_id), key=lambda p: p.part_number)
        numbers = [p.part_number for p in parts]
        count = part_count(asset)
        if numbers != list(range(1, count + 1)):
            missing = sorted(set(range(1, count + 1)) - set(numbers))
            raise UploadStateError(f"Part {missing[0] if missing else 1} has not arrived yet; resume the upload.")
        store.multipart_complete(asset.storage_key, asset.upload_id, parts)
        asset.status = Asset.Status.VERIFYING
        asset.uploaded_at = asset.verify_heartbeat_at = timezone.now()
        asset.upload_id = ""
        asset.save(update_fields=["status", "uploaded_at", "verify_heartbeat_at", "upload_id", "updated_at"])
        audit_record(
            action=Action.ASSET_UPLOADED,
            actor=actor,
            organization=asset.organization,
            target=asset,
            request=request,
            detail={"size": asset.size_bytes, "kind": asset.kind},
        )
        asset_id = asset.pk
        asset.verify_queued = None

        def enqueue():
            asset.verify_queued = _enqueue_verify(asset_id)

        transaction.on_commit(enqueue)
    return asset


def _enqueue_verify(asset_id: int) -> bool:
    """Queue the verification; False (logged, not raised) when the broker cannot be reached: the sweep retries."""
    from kombu.exceptions import OperationalError

    from assets.tasks import verify_asset

    try:
        verify_asset.apply_async(args=(asset_id,), queue="cpu")
    except (OperationalError, OSError):
        logger.warning("verification not queued: broker unreachable; the verify sweep will queue it",
                       extra={"asset": asset_id})
        return False
    return True


def assets_verify_resend(*, now=None) -> int:
    """Sweep (the outbox idea): queue verification again for uploads stuck in `verifying` with no sign of life for
    ASSET_VERIFY_LEASE_SECONDS (queued while the broker was down, lost with Redis, or their worker died)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ASSET_VERIFY_LEASE_SECONDS)
    stuck = Asset.objects.filter(status=Asset.Status.VERIFYING).filter(
        Q(verify_heartbeat_at__lt=cutoff) | Q(verify_heartbeat_at__isnull=True)
    )
    queued = 0
    for asset_id in list(stuck.values_list("pk", flat=True)):
        if not _enqueue_verify(asset_id):
            break  # the broker is still down: the next sweep tries again
        Asset.objects.filter(pk=asset_id, status=Asset.Status.VERIFYING).update(verify_heartbeat_at=now)
        queued += 1
    return queued


def asset_upload_abort(*, actor: User, asset: Asset, request=None) -> Asset:
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
        _uploading(asset)
        get_store().multipart_abort(asset.storage_key, asset.upload_id)
        _tombstone(asset, reason="The upload was cancelled.", status=Asset.Status.DELETED)
    return asset


# --- Verification and renditions --------------------------------------------------------------------------------------
def _reject(asset: Asset, reason: str) -> None:
    """Mark rejected with a reason the partner can read, and delete the bytes."""
    store = get_store()
    store.delete_keys([key for key, _size in store.list_keys(keys.asset_prefix(asset))])
    asset.status = Asset.Status.REJECTED
    asset.rejection_reason = reason
    asset.previews = Asset.Previews.NONE
    asset.save(update_fields=["status", "rejection_reason", "previews", "updated_at"])
    metrics.upload_verified(asset)
    audit_record(action=Action.ASSET_REJECTED, organization=asset.organization, target=asset, detail={"reason": reason})
    publish("asset.rejected", organization_id=asset.organization_id, data=_event_data(asset, reason=reason))


def _event_data(asset: Asset, *, reason: str = "") -> dict:
    """What a webhook says about an uploaded file (ids, state and checks; never its contents)."""
    data = {"asset_id": asset.pk, "status": asset.status, "kind": asset.kind, "filename": asset.original_filename,
            "size_bytes": asset.size_bytes, "sha256": asset.sha256}
    return data | ({"reason": reason} if reason else {})


_KIND_WORDS = {
    "video": "a video",
    "image": "an image",
    "audio": "audio",
    "script": "a script",
    "document": "a document",
}


class _VerifyRefused(Exception):
    """The stored upload is not accepted; the message is the reason the partner reads."""


def _check_arrived(asset: Asset, stored: int | None) -> None:
    if stored is None:
        raise _VerifyRefused("The upload did not arrive in storage. Please upload the file again.")
    if stored != asset.size_bytes:
        raise _VerifyRefused(
            f"The upload is incomplete: {human_size(stored)} arrived of "
            f"{human_size(asset.size_bytes)}. Please upload the file again."
        )


def _check_content(asset: Asset, found) -> None:
    """The bytes are a kind the beta takes, and the kind the file's name promised (scripts and documents mix)."""
    if found.kind is None or found.kind not in settings.ASSET_ALLOWED_KINDS:
        raise _VerifyRefused(
            f"The content of {asset.original_filename} is not something the beta takes ({found.label})."
        )
    text_kinds = {"script", "document"}
    if found.kind != asset.kind and not {found.kind, asset.kind} <= text_kinds:
        raise _VerifyRefused(
            f"{asset.original_filename} is named like {_KIND_WORDS[asset.kind]}, but its content is "
            f"something else ({found.label})."
        )


def _probe_media(local: Path, kind: str | None):
    """Duration, size, rate and codecs of a video, sound or image (its pixel count checked); None for others."""
    from assets.media import MediaError, check_image_pixels, probe

    if kind not in ("video", "audio", "image"):
        return None
    try:
        info = probe(local)
        if kind == "image":
            info.width, info.height = check_image_pixels(local, max_pixels=settings.ASSET_MAX_IMAGE_PIXELS, probed=info)
    except MediaError as exc:
        raise _VerifyRefused(str(exc)) from exc
    return info


def _set_verified(asset: Asset, found, sha256: str, info) -> None:
    """The checked facts onto the (unsaved) asset: kind and type by content, hash, media facts; ready."""
    asset.kind = found.kind
    asset.content_type = found.content_type
    asset.content_label = found.label
    asset.sha256 = sha256
    if info is not None:
        _set_media_facts(asset, info)
    asset.status = Asset.Status.READY
    asset.ready_at = timezone.now()
    asset.previews = Asset.Previews.PENDING if found.kind in ("video", "image") else Asset.Previews.NONE


def _save_verified(asset: Asset) -> bool:
    """Save the ready asset and say so, unless another delivery of the verification decided first (False)."""
    with transaction.atomic():
        if not Asset.objects.select_for_update().filter(pk=asset.pk, status=Asset.Status.VERIFYING).exists():
            return False
        asset.save()
        metrics.upload_verified(asset)
        publish("asset.ready", organization_id=asset.organization_id, data=_event_data(asset))
    return True


def asset_verify(*, asset_id: int) -> Asset | None:
    """In a worker: size, type by content, SHA-256 from the stored bytes, media probe; then the previews.

    Safe to run twice (a re-queued verification, a duplicate message): it beats `verify_heartbeat_at` while it reads
    the bytes, so the sweep leaves it alone, and only the first to finish changes the asset's state.
    """
    from assets.detect import detect

    asset = Asset.objects.select_related("organization").filter(pk=asset_id).first()
    if asset is None or asset.status != Asset.Status.VERIFYING:
        return asset  # deleted meanwhile, or already verified by an earlier delivery
    beat = _VerifyBeat(asset.pk)
    beat()
    store = get_store()
    try:
        _check_arrived(asset, store.size(asset.storage_key))
        with tempfile.TemporaryDirectory(prefix="gl-verify-") as tmp:
            local = Path(tmp) / "original"
            digest = hashlib.sha256()

            def read(chunk: bytes) -> None:
                digest.update(chunk)
                beat()

            copy_to_file(store, asset.storage_key, local, on_chunk=read)
            found = detect(local, filename=asset.original_filename)
            _check_content(asset, found)
            _set_verified(asset, found, digest.hexdigest(), _probe_media(local, found.kind))
            if not _save_verified(asset):
                return asset  # another delivery finished first
            if asset.previews == Asset.Previews.PENDING:
                _make_renditions(asset, local)
                asset.refresh_from_db()
    except _VerifyRefused as exc:
        _reject_verifying(asset, str(exc))
    return asset


class _VerifyBeat:
    """Marks a verification alive (at most every 10 s) so the verify sweep does not queue it again meanwhile."""

    def __init__(self, asset_id: int):
        self.asset_id = asset_id
        self.last = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= 10:
            self.last = now
            Asset.objects.filter(pk=self.asset_id, status=Asset.Status.VERIFYING).update(
                verify_heartbeat_at=timezone.now()
            )


def _reject_verifying(asset: Asset, reason: str) -> None:
    """Reject, unless another delivery of the verification has already decided."""
    with transaction.atomic():
        if Asset.objects.select_for_update().filter(pk=asset.pk, status=Asset.Status.VERIFYING).exists():
            _reject(asset, reason)


RENDITIONS = {
    "image": [(Rendition.Kind.THUMBNAIL, "make_thumbnail")],
    "video": [
        (Rendition.Kind.THUMBNAIL, "make_thumbnail"),
        (Rendition.Kind.POSTER, "make_poster"),
        (Rendition.Kind.CONTACT_SHEET, "make_contact_sheet"),
        (Rendition.Kind.PROXY, "make_proxy"),
    ],
}


def _make_renditions(asset: Asset, local: Path, *, web_ready: bool = False) -> None:
    """Previews for the asset page. A web-ready video (a tool's H.264 review copy) is its own proxy."""
    from assets import media

    store = get_store()
    makers = RENDITIONS.get(asset.kind, [])
    if web_ready:
        makers = [(kind, maker) for kind, maker in makers if kind in (Rendition.Kind.THUMBNAIL, Rendition.Kind.POSTER)]
        makers.append((Rendition.Kind.PROXY, None))
    scratch = tempfile.TemporaryDirectory(prefix="gl-renditions-")
    try:
        for kind, maker in makers:
            extension, content_type = ("mp4", "video/mp4") if kind == Rendition.Kind.PROXY else ("jpg", "image/jpeg")
            output = Path(scratch.name) / f"{kind}.{extension}"
            if maker is None:
                shutil.copyfile(local, output)
            else:
                getattr(media, maker)(local, output)
            info = media.probe(output)
            key = keys.rendition_key(asset, kind, extension)
            store.put_file(output, key, content_type, kms_key_id=asset.organization.kms_key_id)
            Rendition.objects.update_or_create(
                asset=asset,
                kind=kind,
                defaults={
                    "storage_key": key,
                    "content_type": content_type,
                    "size_bytes": output.stat().st_size,
                    "width": info.width,
                    "height": info.height,
                },
            )
            output.unlink()
    except media.MediaError:
        logger.exception("previews failed", extra={"asset": asset.pk})
        Asset.objects.filter(pk=asset.pk).update(previews=Asset.Previews.FAILED, updated_at=timezone.now())
        return
    finally:
        scratch.cleanup()
    Asset.objects.filter(pk=asset.pk).update(previews=Asset.Previews.READY, updated_at=timezone.now())


# --- Download ---------------------------------------------------------------------------------------------------------
def _api_key_detail(request) -> dict:
    """Which API key made the request (its public prefix), for the access log; nothing for a browser session."""
    prefix = getattr(getattr(request, "auth", None), "prefix", "")
    return {"api_key": prefix} if prefix else {}


def _staff_detail(actor: User | None) -> dict:
    """Staff reads say so in the row itself, so the studio's access log names them even after the account goes."""
    return {"staff": True} if actor is not None and actor.is_studio_staff else {}


#: One API read of one asset by one key is recorded once per this many seconds: pipelines poll.
API_READ_AUDIT_SECONDS = 300


def asset_api_read_record(*, asset: Asset, request) -> None:
    """Record that a studio's pipeline read an asset's details through the API (deduplicated while it polls)."""
    from django.core.cache import cache

    key = getattr(request, "auth", None)
    marker = f"audit:api-read:{getattr(key, 'pk', 'session')}:{request.user.pk}:{asset.pk}"
    if cache.add(marker, 1, API_READ_AUDIT_SECONDS):
        audit_record(action=Action.ASSET_API_READ, actor=request.user, organization=asset.organization,
                     target=asset, request=request, detail=_api_key_detail(request))


def asset_staff_open_record(*, actor: User, asset: Asset, request, via: str = "") -> None:
    """Staff opened a studio's asset page (e.g. a feedback attachment): the studio sees it in its access log."""
    audit_record(action=Action.ASSET_STAFF_OPENED, actor=actor, organization=asset.organization, target=asset,
                 request=request, detail={"via": via} if via else {})


def asset_download(
    *, actor: User, asset: Asset, rendition: Rendition | None = None, request=None, audit: bool = True
) -> str | None:
    """Audited access to the bytes: a presigned URL (S3, at most 5 minutes) or None (stream it locally).

    `audit=False` for the follow-up range requests of one playback (a player asks for many pieces of one file).
    """
    if asset.status != Asset.Status.READY:
        raise AssetError("Only verified assets can be downloaded.")
    target = rendition or asset
    if audit and rendition is None:
        audit_record(
            action=Action.ASSET_DOWNLOADED,
            actor=actor,
            organization=asset.organization,
            target=asset,
            request=request,
            detail={"size": asset.size_bytes, **_api_key_detail(request), **_staff_detail(actor)},
        )
    elif audit and rendition.kind == Rendition.Kind.PROXY:
        audit_record(
            action=Action.ASSET_VIEWED,
            actor=actor,
            organization=asset.organization,
            target=asset,
            request=request,
            detail={"rendition": rendition.kind, **_staff_detail(actor)},
        )
    filename = (
        asset.original_filename if rendition is None else f"{Path(asset.original_filename).stem}-{rendition.kind}"
    )
    if rendition is not None:
        filename += ".mp4" if rendition.kind == Rendition.Kind.PROXY else ".jpg"
    return get_store().download_url(
        target.storage_key,
        filename=filename,
        content_type=target.content_type or "application/octet-stream",
        inline=rendition is not None,
        expires=settings.AWS_PRESIGNED_EXPIRY_SECONDS,
    )


# --- Deletion ---------------------------------------------------------------------------------------------------------
def _tombstone(asset: Asset, *, reason: str = "", status: str = Asset.Status.DELETED) -> None:
    asset.status = status
    asset.original_filename = ""
    asset.storage_key = ""
    asset.upload_id = ""
    asset.rejection_reason = reason
    asset.deleted_at = timezone.now()
    asset.save()
    if status == Asset.Status.DELETED:  # its outputs stay: they head their own stacks now
        Asset.objects.filter(lineage_root=asset).update(lineage_root=None)


def _purge(asset_qs, prefix: str, store) -> tuple[int, int, int, int, list[str]]:
    """Delete every object under `prefix` and tombstone the assets. Returns counts, bytes and key hashes."""
    for key, upload_id, _initiated in store.multipart_uploads(prefix):
        store.multipart_abort(key, upload_id)
    asset_count = rendition_count = 0
    for asset in asset_qs.exclude(status=Asset.Status.DELETED).select_for_update():
        if asset.status == Asset.Status.UPLOADING and asset.upload_id:
            store.multipart_abort(asset.storage_key, asset.upload_id)
        rendition_count += asset.renditions.count()
        asset.renditions.all().delete()
        _tombstone(asset)
        asset_count += 1
    objects = store.list_keys(prefix)
    store.delete_keys([key for key, _ in objects])
    return (
        asset_count,
        rendition_count,
        len(objects),
        sum(size for _, size in objects),
        sorted(hash_key(key) for key, _ in objects),
    )


def _receipt(*, organization, scope, actor, counts) -> DeletionReceipt:
    asset_count, rendition_count, object_count, bytes_deleted, hashes = counts
    return DeletionReceipt.objects.create(
        organization=organization,
        organization_name=organization.name,
        scope=scope,
        requested_by=actor,
        requested_by_email=actor.email if actor else "",
        asset_count=asset_count,
        rendition_count=rendition_count,
        object_count=object_count,
        bytes_deleted=bytes_deleted,
        object_key_hashes=hashes,
        completed_at=timezone.now(),
    )


def asset_delete(*, actor: User, asset: Asset, request=None) -> DeletionReceipt:
    """Delete an asset's renditions and every stored byte; keep a tombstone row (no filename, no key)."""
    membership = Membership.objects.filter(user=actor, organization_id=asset.organization_id).first()
    if not actor.is_programme_admin and (membership is None or membership.role == Membership.Role.VIEWER):
        raise PermissionDeniedError("Viewers cannot delete assets.")
    with transaction.atomic():
        asset = Asset.objects.select_for_update().select_related("organization").get(pk=asset.pk)
        if asset.status == Asset.Status.DELETED:
            raise AssetError("This asset was already deleted.")
        prefix = keys.asset_prefix(asset)
        counts = _purge(Asset.objects.filter(pk=asset.pk), prefix, get_store())
        receipt = _receipt(
            organization=asset.organization, scope=DeletionReceipt.Scope.ASSET, actor=actor, counts=counts
        )
        audit_record(
            action=Action.ASSET_DELETED,
            actor=actor,
            organization=asset.organization,
            target=asset,
            request=request,
            detail={"objects": counts[2], "bytes": counts[3], "receipt": str(receipt.uuid)},
        )
    return receipt


def _studio_purge_now(*, organization: Organization, scope: str = DeletionReceipt.Scope.RETENTION) -> DeletionReceipt:
    """Purge every asset, output and byte of a studio at once and write a deletion receipt (the retention purge)."""
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        counts = _purge(
            Asset.objects.filter(organization=organization), keys.organization_prefix(organization), get_store()
        )
        receipt = _receipt(organization=organization, scope=scope, actor=None, counts=counts)
        audit_record(
            action=Action.DATA_PURGED,
            actor=None,
            organization=organization,
            target=receipt,
            detail={"assets": counts[0], "objects": counts[2], "bytes": counts[3]},
        )
    return receipt


def studio_assets_release(*, actor: User | None, organization: Organization) -> DeletionReceipt:
    """Offboarding's part (portal/lifecycle.py), in the caller's transaction: tombstone every asset, drop its previews
    and write an open deletion receipt. The bytes are deleted by a worker once the transaction commits
    (`deletion_receipt_complete`), so a rollback never leaves rows that point at deleted objects."""
    asset_count = rendition_count = 0
    live = Asset.objects.filter(organization=organization).exclude(status=Asset.Status.DELETED)
    for asset in live.select_for_update():
        rendition_count += asset.renditions.count()
        asset.renditions.all().delete()
        _tombstone(asset)
        asset_count += 1
    receipt = DeletionReceipt.objects.create(
        organization=organization,
        organization_name=organization.name,
        scope=DeletionReceipt.Scope.STUDIO,
        requested_by=actor,
        requested_by_email=actor.email if actor else "",
        asset_count=asset_count,
        rendition_count=rendition_count,
    )
    from assets.tasks import complete_deletion_receipt

    transaction.on_commit(lambda: complete_deletion_receipt.delay(receipt.pk))
    return receipt


def deletion_receipt_complete(*, receipt_id: int) -> DeletionReceipt | None:
    """In a worker: delete every object (and unfinished upload) under the studio's prefix and complete the receipt.

    A completed receipt, or one whose studio row is gone, is a no-op; a storage failure raises (the task retries).
    """
    receipt = DeletionReceipt.objects.select_related("organization").filter(pk=receipt_id).first()
    if receipt is None or receipt.completed_at is not None or receipt.organization is None:
        return None
    store = get_store()
    prefix = keys.organization_prefix(receipt.organization)
    for key, upload_id, _initiated in store.multipart_uploads(prefix):
        store.multipart_abort(key, upload_id)
    objects = store.list_keys(prefix)
    store.delete_keys([key for key, _ in objects])
    receipt.object_count = len(objects)
    receipt.bytes_deleted = sum(size for _, size in objects)
    receipt.object_key_hashes = sorted(hash_key(key) for key, _ in objects)
    receipt.completed_at = timezone.now()
    receipt.save(update_fields=["object_count", "bytes_deleted", "object_key_hashes", "completed_at", "updated_at"])
    return receipt


def studio_stored(organization: Organization) -> tuple[int, int] | None:
    """Objects and bytes under the studio's prefix: exactly what offboarding deletes (None if storage fails)."""
    try:
        listed = get_store().list_keys(keys.organization_prefix(organization))
    except Exception:
        logger.exception("could not list a studio's stored objects", extra={"organization": organization.pk})
        return None
    return len(listed), sum(size for _key, size in listed)


# --- Scheduled --------------------------------------------------------------------------------------------------------
def uploads_abort_abandoned(*, now=None) -> int:
    """Abort uploads left unfinished for UPLOAD_ABANDON_HOURS: their parts are removed from storage."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.UPLOAD_ABANDON_HOURS)
    aborted = 0
    for asset in Asset.objects.filter(status=Asset.Status.UPLOADING, created_at__lt=cutoff).select_related(
        "organization"
    ):
        with transaction.atomic():
            locked = Asset.objects.select_for_update().get(pk=asset.pk)
            if locked.status != Asset.Status.UPLOADING:
                continue
            get_store().multipart_abort(locked.storage_key, locked.upload_id)
            _tombstone(locked, reason=f"The upload was not finished within {settings.UPLOAD_ABANDON_HOURS} hours.")
            aborted += 1
    # Multipart uploads that have no asset row at all (a crash between S3 and the database) go too.
    store = get_store()
    live = set(Asset.objects.filter(status=Asset.Status.UPLOADING).values_list("upload_id", flat=True))
    for key, upload_id, initiated in store.multipart_uploads("orgs/"):
        if upload_id not in live and initiated < cutoff:
            store.multipart_abort(key, upload_id)
            aborted += 1
    return aborted



def studios_purge_expired(*, now=None) -> list[DeletionReceipt]:
    """Purge the material of studios whose cohort closed more than RETENTION_DAYS_AFTER_CLOSE days ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_DAYS_AFTER_CLOSE)
    receipts = []
    studios = Organization.objects.filter(
        cohort__closes_at__lt=cutoff,
        pk__in=Asset.objects.exclude(status=Asset.Status.DELETED).values("organization"),
    )
    for organization in studios:
        receipts.append(_studio_purge_now(organization=organization))
    return receipts


# --- Outputs made by tools --------------------------------------------------------------------------------------------
def _copy_media_facts(asset: Asset, path: Path) -> None:
    """Duration, size, rate and codecs from a probe of the file; left empty when it cannot be probed."""
    from assets.media import MediaError, probe

    try:
        info = probe(path)
    except MediaError:
        return
    _set_media_facts(asset, info)


def _set_media_facts(asset: Asset, info) -> None:
    asset.duration_seconds = info.duration
    asset.width, asset.height, asset.fps = info.width, info.height, info.fps
    asset.timecode_start = info.timecode or ""
    asset.video_codec, asset.audio_codec = info.video_codec[:60], info.audio_codec[:60]


def asset_create_from_file(
    *,
    organization: Organization,
    created_by: User | None,
    path: Path,
    kind: str,
    filename: str,
    content_type: str,
    sidecar: Path | None = None,
    manifest: Path | None = None,
    make_previews: bool = True,
    web_ready: bool = False,
    asset_uuid: uuid.UUID | None = None,
    link: Callable[[Asset], None] | None = None,
    derived_from: Asset | None = None,
    derived_by: str = "",
) -> Asset:
    """Store a file a tool made as an asset of the studio (verified here: the portal made it), with previews.

    The provenance sidecar, when given, is stored next to the original as `provenance.json`, and the C2PA manifest
    store (the `.c2pa` sidecar) as `manifest.c2pa`.
    With `asset_uuid` (deterministic per job and output) this is create-or-replace: the bytes go to the same keys
    and the same row is updated, so storing again after a dead attempt leaves one asset, not two. `link(asset)` runs
    in the transaction that saves the row (a job links its output there), so no output row exists unlinked.
    `derived_from` (the input it was made from) and `derived_by` ("dailies 1.0") give it its lineage: it stacks
    under the upload at the head of its input's stack.
    """
    from assets.provenance import sha256_file

    asset = Asset.objects.filter(uuid=asset_uuid).first() if asset_uuid else None
    if asset is None:
        asset = Asset(organization=organization, uuid=asset_uuid or uuid.uuid4())
    asset.uploaded_by = created_by
    asset.kind = kind
    asset.original_filename = display_filename(filename)
    asset.declared_content_type = asset.content_type = content_type
    asset.size_bytes = path.stat().st_size
    asset.sha256 = sha256_file(path)
    asset.origin = "output"
    _set_lineage(asset, derived_from, derived_by)
    asset.part_size = 0
    asset.status = Asset.Status.READY
    asset.ready_at = timezone.now()
    asset.previews = Asset.Previews.PENDING if make_previews and kind in ("video", "image") else Asset.Previews.NONE
    asset.storage_key = keys.original_key(asset)
    if kind in ("video", "audio", "image"):
        _copy_media_facts(asset, path)
    store = get_store()
    store.put_file(path, asset.storage_key, content_type, kms_key_id=organization.kms_key_id)
    if sidecar is not None:
        store.put_file(sidecar, keys.provenance_key(asset), "application/json", kms_key_id=organization.kms_key_id)
    if manifest is not None:
        store.put_file(manifest, keys.manifest_key(asset), "application/c2pa", kms_key_id=organization.kms_key_id)
    with transaction.atomic():
        asset.save()
        if link is not None:
            link(asset)
    if asset.previews == Asset.Previews.PENDING:
        _make_renditions(asset, path, web_ready=web_ready)
        asset.refresh_from_db()
    return asset


def _set_lineage(asset: Asset, derived_from: Asset | None, derived_by: str) -> None:
    if derived_from is not None and derived_from.organization_id != asset.organization_id:
        raise AssetError("An output can only derive from its own studio's files.")
    asset.derived_from = derived_from
    asset.lineage_root_id = (derived_from.lineage_root_id or derived_from.pk) if derived_from is not None else None
    asset.derived_by = derived_by[:80]


def asset_manifest_read(*, asset: Asset) -> bytes | None:
    """A tool output's C2PA manifest store (its `.c2pa` sidecar), or None when it has none (not an output, or one
    stored before outputs had `.c2pa` sidecars). Small (a few KB): read whole."""
    if asset.origin != "output" or asset.status != Asset.Status.READY:
        return None
    try:
        with get_store().open(keys.manifest_key(asset)) as handle:
            return handle.read()
    except (OSError, StorageError):
        return None


def outputs_purge(*, queryset) -> int:
    """Delete the tool outputs of `queryset` with their bytes (a tombstone row stays), each under its row lock with
    the queryset's conditions checked again. The caller (beta's sweep) says which outputs are orphans."""
    removed = 0
    for asset_id in list(queryset.exclude(status=Asset.Status.DELETED).values_list("pk", flat=True)):
        with transaction.atomic():
            # `of`: lock the asset row only (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join).
            locked = queryset.select_for_update(of=("self",)).filter(pk=asset_id).first()
            if locked is None or locked.status == Asset.Status.DELETED:
                continue
            _purge(Asset.objects.filter(pk=locked.pk), keys.asset_prefix(locked), get_store())
            removed += 1
    return removed
