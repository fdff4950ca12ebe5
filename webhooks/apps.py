from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portal.events import subscribe
        from webhooks.services import event_received

        subscribe(event_received)

        from webhooks import lifecycle

        lifecycle.register()  # what offboarding disables (portal/lifecycle.py)
