"""The audit trail: one function writes every audited action."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model

from portal import audit_chain
from portal.client_ip import client_ip
from portal.models import AuditEvent, Organization, User


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    organization: Organization | None = None,
    target: Model | None = None,
    request=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Write one line of the audit trail. Every audited action in the portal goes through here."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        audit_chain.lock_chain_head(connection)
        event = AuditEvent.objects.create(
            action=action,
            actor=actor,
            actor_email=actor.email if actor else "",
            organization=organization,
            organization_name=organization.name if organization else "",
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            ip_address=client_ip(request),
            # As the database gives it back (tuples become lists, keys strings), so the hash verifies later.
            detail=json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder)),
        )
        # The id is known only after the insert; under the lock no other row can have come in between.
        previous = AuditEvent.objects.filter(id__lt=event.id).order_by("-id").values_list("row_hash", flat=True)
        event.prev_hash = previous.first() or audit_chain.GENESIS
        event.row_hash = audit_chain.row_hash(event)
        AuditEvent.objects.filter(id=event.id).update(prev_hash=event.prev_hash, row_hash=event.row_hash)
    return event
