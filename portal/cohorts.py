"""The cohort window: the one helper every feature asks whether a studio may work in the beta now."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone


@dataclass(frozen=True)
class CohortWindow:
    state: str  # "none" (no cohort), "upcoming", "open" or "closed"
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    name: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def read_only(self) -> bool:
        """Beta pages are read-only before the cohort opens and after it closes."""
        return self.state != "open"

    @property
    def label(self) -> str:
        return {"none": "No cohort yet", "upcoming": "Opens soon", "open": "Open", "closed": "Closed"}[self.state]


def cohort_window(organization, now: datetime | None = None) -> CohortWindow:
    cohort = getattr(organization, "cohort", None) if organization is not None else None
    if cohort is None:
        return CohortWindow(state="none")
    now = now or timezone.now()
    if now < cohort.opens_at:
        state = "upcoming"
    elif now >= cohort.closes_at:
        state = "closed"
    else:
        state = "open"
    return CohortWindow(state=state, opens_at=cohort.opens_at, closes_at=cohort.closes_at, name=cohort.name)
