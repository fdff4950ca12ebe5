from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Pipeline API"

    def ready(self):
        from api import lifecycle, schema  # noqa: F401 - schema registers the OpenAPI extension for API-key auth

        lifecycle.register()  # what offboarding revokes (portal/lifecycle.py)
