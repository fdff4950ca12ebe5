"""An audit event is written for each audited action, through portal.services.audit.audit_record."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from portal.models import AuditEvent
from portal.services import agreements, invites, memberships
from tests.factories import AdminFactory, InviteFactory, MembershipFactory, OwnerFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_invite_lifecycle_is_audited():
    admin, owner = AdminFactory(), OwnerFactory()
    invite, _ = invites.invite_create(actor=admin, email="ana@example.test", organization=owner.organization)
    invite, _token = invites.invite_resend(actor=admin, invite=invite)
    invites.invite_revoke(actor=owner.user, invite=invite)
    other = InviteFactory(organization=owner.organization)
    from portal.models import User

    user = User()
    user.set_password("a-long-enough-passphrase")
    invites.invite_accept(token=other.token, user=user)
    assert actions() == ["invite.created", "invite.resent", "invite.revoked", "invite.accepted"]
    created = AuditEvent.objects.get(action="invite.created")
    assert created.actor == admin
    assert created.organization == owner.organization
    assert created.target_type == "portal.invite"
    assert created.target_id == str(invite.pk)
    assert created.detail == {"email": "ana@example.test", "role": "member"}


def test_role_change_and_removal_are_audited():
    owner = OwnerFactory()
    member = MembershipFactory(organization=owner.organization)
    memberships.membership_change_role(actor=owner.user, membership=member, role="viewer")
    memberships.membership_remove(actor=owner.user, membership=member)
    assert actions() == ["membership.role_changed", "membership.removed"]
    assert AuditEvent.objects.get(action="membership.role_changed").detail["to"] == "viewer"


def test_agreement_acceptance_is_audited_once():
    from tests.factories import AgreementVersionFactory

    member, version = MembershipFactory(), AgreementVersionFactory()
    agreements.agreement_accept(user=member.user, version=version)
    agreements.agreement_accept(user=member.user, version=version)
    assert actions() == ["agreement.accepted"]


def test_mfa_added_and_removed_are_audited(client, django_capture_on_commit_callbacks):
    from tests.test_totp import fresh_totp_code_for

    user = UserFactory()
    MembershipFactory(user=user)
    client.force_login(user)
    # allauth asks for reauthentication before MFA changes; the password satisfies it.
    client.post(reverse("account_reauthenticate"), {"password": "correct-horse-battery"})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks(execute=True):  # allauth signals MFA changes after commit
        response = client.post(reverse("mfa_activate_totp"), {"code": fresh_totp_code_for(secret)})
    assert response.status_code == 302, response.content.decode()[:1500]
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    client.post(reverse("mfa_deactivate_totp"), {"code": fresh_totp_code_for(secret)})
    assert actions().count("mfa.added") == 2  # the TOTP authenticator and its recovery codes
    assert "mfa.removed" in actions()
    assert AuditEvent.objects.filter(action="mfa.added", detail__type="totp", actor=user).exists()


def test_staff_logins_are_audited_without_a_studio(client):
    from tests.portal.test_access_gate import totp_code

    reviewer = StaffFactory()
    client.post(reverse("account_login"), {"login": reviewer.email, "password": "correct-horse-battery"})
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    event = AuditEvent.objects.get(action="login.succeeded")
    assert event.actor == reviewer
    assert event.organization is None
