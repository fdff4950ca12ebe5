from django.apps import AppConfig


class BetaConfig(AppConfig):
    name = "beta"
    verbose_name = "Beta programme"
