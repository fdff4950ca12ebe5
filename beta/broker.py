"""What the Redis broker holds: the ids of tasks waiting in queues or delivered but not yet acknowledged.

The sweeper compares these with the jobs the database says were sent, to find jobs the broker lost.
Only the queues themselves are trusted for running jobs: kombu's `unacked` hash keeps the messages of a worker that
lost its connection (and persists them across a Redis restart) until the visibility timeout, hours later, so a task id
there says nothing about whether any worker still has it. A running job's own heartbeat says that (see `jobs_sweep`).
"""

import json
from urllib.parse import parse_qs, urlsplit

import redis
from django.conf import settings

PRIORITY_SEPARATOR = "\x06\x16"


def _client() -> redis.Redis:
    url = settings.CELERY_BROKER_URL
    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        db = int(parse_qs(parts.query).get("virtual_host", ["0"])[0] or 0)
        return redis.Redis(unix_socket_path=parts.path, db=db)
    return redis.Redis.from_url(url)


def _task_id(raw: bytes) -> str | None:
    try:
        message = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if isinstance(message, list):  # the unacked hash stores [message, exchange, routing key]
        message = message[0] if message else {}
    return (message.get("headers") or {}).get("id") if isinstance(message, dict) else None


def task_ids_in_broker(queues=None, *, unacked: bool = True) -> set[str]:
    """Task ids waiting in the queues, and (with `unacked`) those delivered to a worker and not yet acknowledged."""
    queues = queues or settings.CELERY_QUEUE_NAMES
    found: set[str] = set()
    with _client() as client:
        keys = []
        for queue in queues:
            keys.append(queue)
            keys += [k.decode() for k in client.scan_iter(match=f"{queue}{PRIORITY_SEPARATOR}*")]
        for key in keys:
            for raw in client.lrange(key, 0, -1):
                if task_id := _task_id(raw):
                    found.add(task_id)
        for raw in client.hvals("unacked") if unacked else ():
            if task_id := _task_id(raw):
                found.add(task_id)
    return found


def queue_lengths(queues=None) -> dict[str, int]:
    """Messages waiting in each queue (priority sub-lists included), for metrics and autoscaling checks."""
    queues = queues or settings.CELERY_QUEUE_NAMES
    lengths: dict[str, int] = {}
    with _client() as client:
        for queue in queues:
            keys = [queue, *client.scan_iter(match=f"{queue}{PRIORITY_SEPARATOR}*")]
            lengths[queue] = sum(client.llen(key) for key in keys)
    return lengths
