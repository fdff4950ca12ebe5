from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from portal.events import subscribe
        from webhooks.models import WebhookEndpoint
        from webhooks.services import endpoints_changed, event_received

        subscribe(event_received)
        post_save.connect(endpoints_changed, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_saved")
        post_delete.connect(endpoints_changed, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_deleted")

        from webhooks import lifecycle

        lifecycle.register()  # what offboarding disables (portal/lifecycle.py)
