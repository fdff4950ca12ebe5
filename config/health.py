"""Liveness and readiness endpoints for load balancers and orchestrators."""

import logging
import time
import uuid

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is up and answering; checks nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def _check_storage() -> None:
    # A write, a read and a delete under a key of our own: proves credentials, bucket and permissions.
    name = f"_health/{uuid.uuid4().hex}"
    saved = default_storage.save(name, ContentFile(b"ok"))
    try:
        with default_storage.open(saved) as fh:
            if fh.read() != b"ok":
                raise RuntimeError("storage read back different bytes")
    finally:
        default_storage.delete(saved)


CHECKS = {"database": _check_database, "redis": _check_redis, "storage": _check_storage}


@never_cache
@require_GET
def readyz(request):
    """Each dependency checked; 503 when any is down."""
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check failed", extra={"check": name, "error": str(exc)})
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(r["ok"] for r in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
