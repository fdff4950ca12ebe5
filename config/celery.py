"""The Celery application. Configuration lives in Django settings under CELERY_*."""

import logging
import os

from celery import Celery, signals
from celery.schedules import crontab
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("greenlight.worker")
app = Celery("greenlight")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _declare_queues() -> None:
    from django.conf import settings

    exchange = Exchange("greenlight", type="direct")
    app.conf.task_queues = [Queue(name, exchange, routing_key=name) for name in settings.CELERY_QUEUE_NAMES]
    app.conf.task_default_exchange = "greenlight"
    app.conf.task_default_routing_key = "default"
    app.conf.beat_schedule = {
        f"worker-heartbeat-{name}": {
            "task": "beta.tasks.worker_heartbeat",
            "schedule": float(settings.WORKER_HEARTBEAT_SECONDS),
            "args": (name,),
            "options": {"queue": name, "expires": float(settings.WORKER_HEARTBEAT_SECONDS)},
        }
        for name in settings.CELERY_QUEUE_NAMES
    }
    app.conf.beat_schedule |= {
        "abort-abandoned-uploads": {"task": "assets.tasks.abort_abandoned_uploads", "schedule": 60 * 60.0},
        "purge-expired-studios": {"task": "assets.tasks.purge_expired_studios", "schedule": 6 * 60 * 60.0},
        "resend-stuck-verifications": {
            "task": "assets.tasks.resend_stuck_verifications", "schedule": float(settings.ASSET_VERIFY_SWEEP_SECONDS),
        },
        "sweep-jobs": {"task": "beta.tasks.sweep_jobs", "schedule": float(settings.JOB_SWEEP_SECONDS)},
        "notifications-daily-digest": {
            "task": "portal.tasks.notifications_send_digest",
            "schedule": crontab(hour=settings.NOTIFICATIONS_DIGEST_HOUR, minute=0),
        },
        "surveys-notify-due-soon": {"task": "beta.surveys.tasks.surveys_notify_due_soon", "schedule": 15 * 60.0},
        "surveys-notify-opened": {"task": "beta.surveys.tasks.surveys_notify_opened", "schedule": 5 * 60.0},
        "webhooks-deliver-due": {
            "task": "webhooks.tasks.deliver_due", "schedule": float(settings.WEBHOOKS_SWEEP_SECONDS),
            "options": {"queue": settings.WEBHOOKS_QUEUE, "expires": float(settings.WEBHOOKS_SWEEP_SECONDS)},
        },
        "webhooks-purge-deliveries": {"task": "webhooks.tasks.purge_deliveries", "schedule": 24 * 60 * 60.0},
        "metrics-sample-storage": {
            "task": "ops.tasks.sample_storage", "schedule": float(settings.METRICS_STORAGE_SAMPLE_SECONDS),
        },
    }


def _log_connection(sender, connection, **kwargs) -> None:
    # One line per new connection: a worker process should log one, then another only each CONN_MAX_AGE.
    logger.info("Database connection opened (%s, process %d)", connection.alias, os.getpid())


def _keep_connections_across_tasks(**kwargs) -> None:
    """Honour CONN_MAX_AGE in workers. Celery's Django fixup closes every database connection before and after each
    task, so each task opened a new PostgreSQL session (43 jobs, 43 sessions). Instead, close only what
    `close_old_connections()` would at the end of a request: connections past CONN_MAX_AGE, or broken ones.
    The fixup still closes everything on fork (`worker_process_init`), so no connection is shared between
    processes; with CONN_MAX_AGE=0 each task still gets a fresh connection, as before."""
    from django.db import close_old_connections
    from django.db.backends.signals import connection_created

    connection_created.connect(_log_connection, weak=False)
    for fixup in getattr(app, "_fixups", ()):
        worker_fixup = getattr(fixup, "worker_fixup", None)
        if worker_fixup is not None:
            worker_fixup.close_database = lambda **_: close_old_connections()


app.on_after_configure.connect(lambda sender, **kwargs: _declare_queues(), weak=False)
signals.worker_init.connect(_keep_connections_across_tasks, weak=False)
app.autodiscover_tasks()
