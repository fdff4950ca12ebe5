from celery import shared_task

from ops import metrics


@shared_task(ignore_result=True)
def sample_storage() -> None:
    metrics.storage_sample()
