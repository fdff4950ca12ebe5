"""Domain events a studio can be told about (job.succeeded, asset.ready, feedback.replied, ...).

Services in any app publish here; integrations (the webhooks app) subscribe in their AppConfig.ready().
The dependency arrows stay one way: `portal` knows no subscriber, and publishers never import one.
Subscribers are called after the surrounding transaction commits, so nothing is announced that then rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "job.queued",
    "job.started",
    "job.succeeded",
    "job.failed",
    "job.canceled",
    "asset.ready",
    "asset.rejected",
    "feedback.replied",
)
#: Events only the portal's own subscribers hear (notifications): never offered to webhook endpoints, so the public
#: list above, and the API schema built from it, stay as they are.
INTERNAL_EVENT_TYPES = (
    "review.note_replied",
    "survey.opened",
    "survey.due_soon",
    "comparison.opened",
    "invite.accepted",
)


@dataclass(frozen=True)
class Event:
    type: str
    organization_id: int
    data: dict[str, Any]
    occurred_at: datetime = field(default_factory=timezone.now)
    #: What the publisher already holds (the job it just wrote, the usage counter it just updated), so the portal's
    #: own subscribers need not read it again. In-process only: webhooks deliver `data`, never this.
    context: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


#: called with each event after commit; what it returns is not used
Subscriber = Callable[[Event], object]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def publish(event_type: str, *, organization_id: int, data: dict[str, Any],
            context: Mapping[str, Any] | None = None) -> None:
    """Announce an event of a studio once the current transaction commits (at once outside a transaction).
    `context`: see `Event.context`."""
    if event_type not in EVENT_TYPES and event_type not in INTERNAL_EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event = Event(type=event_type, organization_id=organization_id, data=data, context=context or {})

    def deliver() -> None:
        for subscriber in list(_subscribers):
            try:
                subscriber(event)
            except Exception:  # a subscriber's failure must never fail the work that published the event
                logger.exception("event subscriber failed", extra={"event": event_type})

    transaction.on_commit(deliver)
