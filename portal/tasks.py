"""The portal's periodic work, run by beat (config/celery.py)."""

from portal.services import notifications
from portal.typed_tasks import shared_task


@shared_task(name="portal.tasks.notifications_send_digest", ignore_result=True)
def notifications_send_digest() -> int:
    """Email each person their day's digest of notifications, at most once a day."""
    return notifications.digests_send()
