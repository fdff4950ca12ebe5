"""Writes for the beta programme."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from beta.models import WorkerHeartbeat


def worker_heartbeat_record(*, queue: str, hostname: str) -> WorkerHeartbeat:
    """Record that a worker serving `queue` is alive."""
    with transaction.atomic():
        beat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
            queue=queue, defaults={"hostname": hostname, "beat_at": timezone.now(), "beats": 1}
        )
        if not created:
            WorkerHeartbeat.objects.filter(pk=beat.pk).update(
                hostname=hostname, beat_at=timezone.now(), beats=F("beats") + 1
            )
            beat.refresh_from_db()
    return beat


def worker_heartbeat_request(*, queue: str) -> None:
    """Ask a worker on `queue` to record a heartbeat, once the current transaction commits."""
    from beta.tasks import worker_heartbeat

    transaction.on_commit(lambda: worker_heartbeat.apply_async(args=(queue,), queue=queue))
