from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self):
        # The partner dashboard's getting-started checklist ticks "Upload your first clip" from here.
        from assets.selectors import getting_started_steps
        from portal.dashboard_panels import register_checklist_steps

        register_checklist_steps(getting_started_steps)

        from assets import lifecycle

        lifecycle.register()  # what offboarding deletes (portal/lifecycle.py)
