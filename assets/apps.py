from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self):
        from assets import lifecycle

        lifecycle.register()  # what offboarding deletes (portal/lifecycle.py)
