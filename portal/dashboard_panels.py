"""Panels and getting-started steps other apps add to the partner dashboard. The portal imports no other app: they
register here (beta/apps.py, assets/apps.py).

A panel provider is `provider(user, organization) -> list[dict]`; each dict is one panel with at least "template" (the
template to include, which receives the dict as `panel`). Providers are called in registration order and should
return [] when they have nothing to show, so an empty dashboard stays calm. A panel with "wide": True spans the row.

A step provider is `provider(user, organization) -> list[Step]`: the getting-started checklist's items, each ticked
from the studio's real data (one cheap query a step). The checklist lists them by `order`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

_providers: list = []
_step_providers: list = []


@dataclass(frozen=True)
class Step:
    key: str  # "agreement", "team", "upload", "run", "feedback": the dashboard picks its primary action by key
    order: int
    label: str
    done: bool
    url: str
    action: str  # what the link says while the step is to do ("Upload footage")


def register_dashboard_panel(provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def dashboard_panels(*, user, organization) -> list[dict]:
    return [panel for provider in _providers for panel in provider(user, organization)]


def register_checklist_steps(provider) -> None:
    if provider not in _step_providers:
        _step_providers.append(provider)


def checklist_steps(*, user, organization, own: Sequence[Step] = ()) -> list[Step]:
    """The portal's own steps and every registered app's, in order."""
    steps = [*own, *(step for provider in _step_providers for step in provider(user, organization))]
    return sorted(steps, key=lambda step: step.order)
