"""Panels other apps add to the partner dashboard. The portal imports no other app: they register here.

A provider is `provider(user, organization) -> list[dict]`; each dict is one panel with at least "template" (the
template to include, which receives the dict as `panel`). Providers are called in registration order and should
return [] when they have nothing to show, so an empty dashboard stays calm.
"""

_providers: list = []


def register_dashboard_panel(provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def dashboard_panels(*, user, organization) -> list[dict]:
    return [panel for provider in _providers for panel in provider(user, organization)]
