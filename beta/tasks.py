import os
import socket

from celery import shared_task

from beta.jobs.execute import job_execute, worker_heartbeat_record
from beta.jobs.sweep import jobs_sweep


@shared_task(ignore_result=True)
def worker_heartbeat(queue: str) -> None:
    worker_heartbeat_record(queue=queue, hostname=socket.gethostname())


@shared_task(bind=True, ignore_result=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id: int) -> str:
    """Thin: the service claims the job under a row lock, so a second delivery does nothing."""

    def retry(countdown: int) -> None:
        raise self.retry(countdown=countdown)

    return job_execute(job_id=job_id, hostname=f"{socket.gethostname()}:{os.getpid()}", retry=retry,
                                task_id=self.request.id or "")


@shared_task(ignore_result=True)
def sweep_jobs() -> None:
    jobs_sweep()
