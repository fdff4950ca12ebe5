from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        # The partner dashboard's getting-started checklist ticks "Upload your first clip" from here.
        from assets.selectors import getting_started_steps
        from portal.dashboard_panels import register_checklist_steps

        register_checklist_steps(getting_started_steps)

        from assets import lifecycle

        lifecycle.register()  # what offboarding deletes (portal/lifecycle.py)

        # People hear of the studio's storage nearing its limit through portal.events.
        from assets.notifications import storage_checked
        from portal.events import subscribe

        subscribe(storage_checked)
