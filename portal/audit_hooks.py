"""Third-party events routed to the audit service: allauth's MFA signals (its only hook for them)."""

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import signals as mfa_signals

from portal.models import AuditEvent, Membership
from portal.services.audit import audit_record


def _studio(user):
    membership = Membership.objects.filter(user=user).select_related("organization").first()
    return membership.organization if membership else None


def _on_authenticator_added(sender, request, user, authenticator, **kwargs):
    # Setting up a factor proves it (a valid code or a passkey ceremony): the session now counts as having passed
    # MFA, so that the access gate does not sign the person out straight after enrolment.
    if request is not None and getattr(request, "user", None) == user:
        record_authentication(request, user, "mfa", type=authenticator.type, id=authenticator.pk)
    audit_record(
        action=AuditEvent.Action.MFA_ADDED,
        actor=user,
        organization=_studio(user),
        target=authenticator,
        request=request,
        detail={"type": authenticator.type},
    )


def _on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    audit_record(
        action=AuditEvent.Action.MFA_REMOVED,
        actor=user,
        organization=_studio(user),
        target=authenticator,
        request=request,
        detail={"type": authenticator.type},
    )


def connect() -> None:
    mfa_signals.authenticator_added.connect(_on_authenticator_added, dispatch_uid="portal-audit-mfa-added")
    mfa_signals.authenticator_removed.connect(_on_authenticator_removed, dispatch_uid="portal-audit-mfa-removed")
