from django.apps import AppConfig


class BetaConfig(AppConfig):
    name = "beta"
    verbose_name = "Beta programme"

    def ready(self):
        from assets.selectors import register_usage_provider
        from beta.selectors import asset_usage

        register_usage_provider(asset_usage)
