"""A Celery worker's own metrics endpoint.

Jobs, retries, webhook attempts and verified uploads are counted in the worker processes that do them. With
prefork, those are many processes: prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) lets each
write its samples to a file, and the worker's main process serves the sum on METRICS_WORKER_PORT.
"""

import logging
import os

from django.conf import settings

logger = logging.getLogger(__name__)


def start_server(**_kwargs) -> None:
    port = settings.METRICS_WORKER_PORT
    if not port:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    start_http_server(port, addr=settings.METRICS_WORKER_ADDR, **({"registry": registry} if registry else {}))
    logger.info("Worker metrics on %s:%d", settings.METRICS_WORKER_ADDR, port)
