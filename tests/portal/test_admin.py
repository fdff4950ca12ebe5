"""The Django admin: every model's list loads, and the actions go through the services (and are audited)."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from portal.models import AgreementAcceptance, AuditEvent, Cohort, Invite
from portal.services.audit import audit_record
from tests.factories import (
    AdminFactory,
    AgreementVersionFactory,
    CohortFactory,
    InviteFactory,
    MembershipFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
MODELS = [
    "user",
    "organization",
    "membership",
    "cohort",
    "invite",
    "agreementversion",
    "agreementacceptance",
    "auditevent",
]


@pytest.fixture
def superuser(client):
    user = AdminFactory(is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def some_of_everything(superuser):
    membership = MembershipFactory()
    invite = InviteFactory(organization=membership.organization)
    version = AgreementVersionFactory(published_at=None)
    AgreementAcceptance.objects.create(user=membership.user, version=version, ip_address="127.0.0.1")
    audit_record(action=Action.INVITE_CREATED, actor=superuser, organization=membership.organization, target=invite)
    return {"invite": invite, "version": version}


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("model", MODELS)
def test_each_changelist_loads_for_a_superuser(client, some_of_everything, model):
    response = client.get(reverse(f"admin:portal_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", ["invite", "agreementacceptance", "auditevent"])
def test_records_open_read_only(client, some_of_everything, model):
    obj = client.get(reverse(f"admin:portal_{model}_changelist")).context["cl"].result_list[0]

    response = client.get(reverse(f"admin:portal_{model}_change", args=[obj.pk]))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.get(reverse(f"admin:portal_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:portal_{model}_delete", args=[obj.pk])).status_code == 403


def test_the_invite_admin_never_shows_the_token_hash_and_points_to_the_portal(client, some_of_everything):
    invite = some_of_everything["invite"]
    changelist = client.get(reverse("admin:portal_invite_changelist")).content.decode()
    detail = client.get(reverse("admin:portal_invite_change", args=[invite.pk])).content.decode()

    assert reverse("portal:staff-invites") in changelist
    assert "Invite people on the portal" in changelist
    for body in (changelist, detail):
        assert invite.token_hash not in body
        assert "token hash" not in body.lower()
        assert "token_hash" not in body


def test_the_invite_admin_filters_by_status(client, superuser):
    pending = InviteFactory()
    revoked = InviteFactory(revoked_at=timezone.now())

    response = client.get(reverse("admin:portal_invite_changelist"), {"status": "revoked"})

    assert [i.pk for i in response.context["cl"].result_list] == [revoked.pk]
    assert pending.email not in response.content.decode()


def test_resend_action_sends_new_links_and_audits(client, superuser, mailoutbox, django_capture_on_commit_callbacks):
    expired = InviteFactory(expires_at=timezone.now() - timedelta(days=1))
    pending = InviteFactory()
    accepted = InviteFactory(accepted_at=timezone.now())
    old_hash = pending.token_hash

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:portal_invite_changelist"),
            {
                "action": "resend_selected",
                ACTION_CHECKBOX_NAME: [expired.pk, pending.pk, accepted.pk],
            },
            follow=True,
        )

    assert response.status_code == 200
    messages = _messages(response)
    assert "Resent 2 invites." in messages
    assert any(m.startswith(f"{accepted.email}: ") and "cannot be resent" in m for m in messages)
    pending.refresh_from_db()
    expired.refresh_from_db()
    assert pending.token_hash != old_hash
    assert expired.status == Invite.Status.PENDING
    assert sorted(m.to[0] for m in mailoutbox) == sorted([expired.email, pending.email])
    events = AuditEvent.objects.filter(action=Action.INVITE_RESENT)
    assert events.count() == 2
    assert {e.actor for e in events} == {superuser}


def test_revoke_action_revokes_and_audits(client, superuser):
    pending = InviteFactory()
    accepted = InviteFactory(accepted_at=timezone.now())

    response = client.post(
        reverse("admin:portal_invite_changelist"),
        {
            "action": "revoke_selected",
            ACTION_CHECKBOX_NAME: [pending.pk, accepted.pk],
        },
        follow=True,
    )

    messages = _messages(response)
    assert "Revoked 1 invite." in messages
    assert any(accepted.email in m and "already accepted" in m for m in messages)
    pending.refresh_from_db()
    accepted.refresh_from_db()
    assert pending.revoked_at is not None
    assert accepted.revoked_at is None
    event = AuditEvent.objects.get(action=Action.INVITE_REVOKED)
    assert (event.actor, event.target_id) == (superuser, str(pending.pk))


def test_publish_action_sets_published_at_and_audits(client, superuser):
    draft = AgreementVersionFactory(version="2.0", published_at=None)

    response = client.post(
        reverse("admin:portal_agreementversion_changelist"),
        {
            "action": "publish_selected",
            ACTION_CHECKBOX_NAME: [draft.pk],
        },
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None
    event = AuditEvent.objects.get(action=Action.AGREEMENT_PUBLISHED)
    assert (event.actor, event.detail) == (superuser, {"version": "2.0"})


def test_publish_action_needs_exactly_one_version(client, superuser):
    drafts = AgreementVersionFactory.create_batch(2, published_at=None)

    response = client.post(
        reverse("admin:portal_agreementversion_changelist"),
        {
            "action": "publish_selected",
            ACTION_CHECKBOX_NAME: [d.pk for d in drafts],
        },
        follow=True,
    )

    assert "Select exactly one version to publish." in _messages(response)
    assert not AuditEvent.objects.exists()


def test_a_cohort_added_in_the_admin_is_audited(client, superuser):
    response = client.post(
        reverse("admin:portal_cohort_add"),
        {
            "name": "Admin wave",
            "description": "",
            "opens_at_0": "2030-01-01",
            "opens_at_1": "09:00:00",
            "closes_at_0": "2030-02-01",
            "closes_at_1": "09:00:00",
        },
    )

    assert response.status_code == 302
    cohort = Cohort.objects.get(name="Admin wave")
    event = AuditEvent.objects.get(action=Action.COHORT_CREATED)
    assert (event.actor, event.target_id) == (superuser, str(cohort.pk))


def test_a_cohort_that_closes_before_it_opens_is_refused_in_the_admin(client, superuser):
    cohort = CohortFactory()
    response = client.post(
        reverse("admin:portal_cohort_change", args=[cohort.pk]),
        {
            "name": cohort.name,
            "description": "",
            "opens_at_0": "2030-02-01",
            "opens_at_1": "09:00:00",
            "closes_at_0": "2030-01-01",
            "closes_at_1": "09:00:00",
        },
    )

    assert response.status_code == 200
    assert "The cohort must close after it opens." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_studio_admin_still_works(client, superuser):
    studio = OrganizationFactory()
    assert client.get(reverse("admin:portal_organization_change", args=[studio.pk])).status_code == 200
