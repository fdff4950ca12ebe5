from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from celery import signals

        from ops import worker_metrics

        # A Celery worker serves its own /metrics (its pods are scraped apart from the web's), when configured.
        signals.worker_init.connect(worker_metrics.start_server, weak=False)
