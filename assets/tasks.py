from celery import shared_task
from django.conf import settings

from assets import services
from assets.storage import StorageError


@shared_task(
    ignore_result=True,
    time_limit=settings.CELERY_LONGEST_TASK_SECONDS,
    soft_time_limit=settings.CELERY_LONGEST_TASK_SECONDS - 60,
)
def verify_asset(asset_id: int) -> None:
    services.asset_verify(asset_id=asset_id)


@shared_task(ignore_result=True)
def abort_abandoned_uploads() -> None:
    services.uploads_abort_abandoned()


@shared_task(ignore_result=True)
def purge_expired_studios() -> None:
    services.studios_purge_expired()


@shared_task(ignore_result=True)
def resend_stuck_verifications() -> None:
    services.assets_verify_resend()


@shared_task(
    ignore_result=True,
    autoretry_for=(StorageError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=10,
)
def complete_deletion_receipt(receipt_id: int) -> None:
    """Offboarding's byte deletion, after its transaction committed (assets.services.studio_assets_release)."""
    services.deletion_receipt_complete(receipt_id=receipt_id)
