import socket

from celery import shared_task

from beta import services


@shared_task(ignore_result=True)
def worker_heartbeat(queue: str) -> None:
    services.worker_heartbeat_record(queue=queue, hostname=socket.gethostname())
