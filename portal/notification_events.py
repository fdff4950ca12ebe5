"""The portal's own events that become notifications (portal.events subscriber, connected in PortalConfig.ready)."""

from __future__ import annotations

from django.urls import reverse

from portal.events import Event
from portal.models import Membership, User
from portal.services.notifications import notify, studio_members


def invite_accepted(event: Event) -> None:
    """Tell the studio's owners that someone joined through an invite (not the newcomer, even if an owner)."""
    if event.type != "invite.accepted":
        return
    newcomer = User.objects.filter(pk=int(event.data.get("user_id") or 0)).first()
    if newcomer is None:
        return
    owners = [p for p in studio_members(event.organization_id, roles=[Membership.Role.OWNER]) if p.pk != newcomer.pk]
    role = Membership.Role(event.data.get("role", Membership.Role.MEMBER)).label.lower()
    notify(
        recipients=owners, kind="invite.accepted", organization_id=event.organization_id,
        title=f"{newcomer.get_short_name() or newcomer.email} joined your studio",
        body=f"{newcomer.email} accepted your invite and joined as {role}.",
        url=reverse("portal:team"), dedupe_key=f"invite.accepted:{event.data.get('invite_id')}",
    )
