from celery import shared_task
from django.conf import settings

from webhooks import services


# The attempt's own deadline ends it; the hard limit is only a backstop, well inside the claim lease.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=2 * settings.WEBHOOKS_TIMEOUT_SECONDS + 20,
             time_limit=2 * settings.WEBHOOKS_TIMEOUT_SECONDS + 30)
def deliver(delivery_id: int) -> None:
    """Thin: the service claims the attempt under a row lock, so a duplicate message does nothing."""
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def deliver_due() -> None:
    services.deliveries_due()


@shared_task(ignore_result=True)
def purge_deliveries() -> None:
    services.deliveries_purge()
