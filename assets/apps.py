from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        from assets.notifications import storage_checked
        from portal.events import subscribe

        subscribe(storage_checked)
