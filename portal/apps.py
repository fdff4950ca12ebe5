from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "People and access"

    def ready(self):
        from portal import audit_hooks

        audit_hooks.connect()
