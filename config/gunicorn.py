"""gunicorn settings (`gunicorn -c config/gunicorn.py config.wsgi:application`).

Metrics: with PROMETHEUS_MULTIPROC_DIR set, each gunicorn worker writes its samples to files there and /metrics
sums them. The directory must be empty when the master starts (stale files would add old counts) and a dead
worker's live gauges must be dropped: hence `on_starting` and `child_exit`.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# A sync worker silent this long on one request is killed: covers the slowest request (an XLSX export, 16 s for
# 100,000 rows); longer work belongs in Celery. graceful_timeout: requests in flight finish on a restart.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = "-"
errorlog = "-"
# Under a read-only root filesystem gunicorn's heartbeat files go to memory.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - tmpfs, per pod


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.is_dir():
            for child in path.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
