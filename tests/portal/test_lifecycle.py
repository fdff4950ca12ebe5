"""Suspension and offboarding (portal/lifecycle.py): every door closes at once, from the staff studio page.

The doors: invite acceptance (GET and POST, and the sign-up that follows), invite resend, sign-in and existing
sessions, API keys, webhook test sends and deliveries, job submission.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from api.models import ApiKey
from assets.models import Asset, DeletionReceipt
from beta.errors import JobError
from beta.jobs.submit import job_submit
from beta.models import Job
from portal import lifecycle
from portal.errors import InviteError, PortalError
from portal.events import Event
from portal.models import AuditEvent, Invite, Membership, User
from portal.services import agreements, invites
from tests.api.conftest import api_client, assert_problem
from tests.factories import (
    PASSWORD,
    AdminFactory,
    AgreementVersionFactory,
    ApiKeyFactory,
    AssetFactory,
    FeedbackReportFactory,
    InviteFactory,
    JobFactory,
    MembershipFactory,
    OwnerFactory,
    StaffFactory,
    WebhookEndpointFactory,
)
from webhooks import services as webhook_services
from webhooks.errors import WebhookError
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


class Studio:
    """A studio in an open cohort with an owner who accepted the agreement, a pending invite, an API key, a webhook
    endpoint and a ready video."""

    def __init__(self):
        agreement = AgreementVersionFactory()
        self.owner = OwnerFactory()
        self.organization = self.owner.organization
        agreements.agreement_accept(user=self.owner.user, version=agreement)
        self.invite = InviteFactory(organization=self.organization)
        self.key = ApiKeyFactory(organization=self.organization, created_by=self.owner.user)
        self.endpoint = WebhookEndpointFactory(organization=self.organization)
        self.video = AssetFactory(organization=self.organization, sha256="ab" * 32, duration_seconds=30)


@pytest.fixture
def studio():
    return Studio()


@pytest.fixture
def admin():
    return AdminFactory()


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _submit(studio):
    return job_submit(actor=studio.owner.user, tool_slug="noop", asset_ids=[studio.video.pk])


def _refused_message(studio) -> str:
    return lifecycle.closed_message(studio.organization)


# --- The doors, checked one by one -----------------------------------------------------------------------------------
def assert_every_door_is_closed(studio, admin, message: str) -> None:
    # The invite link (GET shows, POST starts sign-up): both refuse, and the sign-up page stays closed.
    client = Client()
    for response in (
        client.get(reverse("portal:invite", args=[studio.invite.token])),
        client.post(reverse("portal:invite", args=[studio.invite.token])),
    ):
        assert response.status_code in (403, 410)
        assert "can't be used" in response.content.decode()
    assert "portal_invite_token" not in client.session
    with pytest.raises(InviteError):
        invites.invite_accept(token=studio.invite.token, user=User(email="x@studio.test"))
    assert not User.objects.filter(email__iexact=studio.invite.email).exists()
    # Resending the invite, and new invites.
    with pytest.raises(PortalError):
        invites.invite_resend(actor=admin, invite=studio.invite)
    with pytest.raises(PortalError):
        invites.invite_create(actor=admin, email="new@studio.test", organization=studio.organization)
    # Sign-in with the right password is refused with the reason.
    response = Client().post(reverse("account_login"), {"login": studio.owner.user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert escape(message) in response.content.decode()
    # The API key: 403 problem+json naming the reason.
    body = assert_problem(api_client(studio.key.raw_key).get(reverse("api:me")), 403, "forbidden")
    assert body["detail"] == message
    # Webhooks: no test send, and no delivery for a new event.
    with pytest.raises(WebhookError, match="beta"):
        webhook_services.endpoint_send_test(user=studio.owner.user, endpoint=studio.endpoint)
    event = Event(type="job.succeeded", organization_id=studio.organization.pk, data={"job_id": 1})
    assert webhook_services.event_received(event) == []
    # Jobs: submission refused with the reason, nothing created.
    jobs_before = Job.objects.count()
    with pytest.raises(JobError, match="beta"):
        _submit(studio)
    assert Job.objects.count() == jobs_before


# --- Suspension -------------------------------------------------------------------------------------------------------
def test_suspension_closes_every_door_and_lifting_opens_them_again(studio, admin, django_capture_on_commit_callbacks):
    session = _signed_in(studio.owner.user)
    assert session.get(reverse("portal:dashboard")).status_code == 200

    lifecycle.studio_suspend(actor=admin, organization=studio.organization, reason="Unpaid NDA renewal")

    studio.organization.refresh_from_db()
    message = _refused_message(studio)
    assert "suspended" in message
    assert studio.organization.name in message
    assert_every_door_is_closed(studio, admin, message)
    # A session begun before the suspension sees why, and nothing else (and is signed out).
    response = session.get(reverse("assets:library"))
    assert response.status_code == 403
    assert escape(message) in response.content.decode()
    assert session.get(reverse("portal:dashboard")).status_code == 302  # to the sign-in page
    # Nothing was revoked or deleted.
    assert ApiKey.objects.get(pk=studio.key.pk).revoked_at is None
    studio.endpoint.refresh_from_db()
    assert studio.endpoint.enabled
    assert Asset.objects.get(pk=studio.video.pk).status == "ready"
    assert Invite.objects.get(pk=studio.invite.pk).status == "pending"
    assert AuditEvent.objects.filter(action="studio.suspended", detail__reason="Unpaid NDA renewal").exists()

    lifecycle.studio_suspension_lift(actor=admin, organization=studio.organization)

    assert AuditEvent.objects.filter(action="studio.suspension_lifted").exists()
    assert Client().get(reverse("portal:invite", args=[studio.invite.token])).status_code == 200
    response = Client().post(reverse("account_login"), {"login": studio.owner.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert api_client(studio.key.raw_key).get(reverse("api:me")).status_code == 200
    with django_capture_on_commit_callbacks():
        assert webhook_services.endpoint_send_test(user=studio.owner.user, endpoint=studio.endpoint)
        assert _submit(studio).status == "queued"
        invite, _token = invites.invite_resend(actor=admin, invite=studio.invite)
    assert invite.sent_count == 2


def test_a_delivery_pending_when_the_studio_is_suspended_is_held_not_sent(studio, admin):
    delivery = WebhookDelivery.objects.create(
        endpoint=studio.endpoint, event_type="job.succeeded", message_id="msg_held", payload={},
        next_attempt_at=timezone.now(),
    )
    lifecycle.studio_suspend(actor=admin, organization=studio.organization, reason="Security review")

    assert webhook_services.delivery_attempt(delivery_id=delivery.pk) is None

    delivery.refresh_from_db()
    assert delivery.status == "pending"  # held for after the suspension is lifted
    assert delivery.attempts == 0
    assert delivery.next_attempt_at > timezone.now()


def test_suspension_needs_a_reason_and_an_admin(studio, admin):
    with pytest.raises(PortalError, match="why"):
        lifecycle.studio_suspend(actor=admin, organization=studio.organization, reason="  ")
    with pytest.raises(PortalError, match="programme admins"):
        lifecycle.studio_suspend(actor=StaffFactory(), organization=studio.organization, reason="x")
    studio.organization.refresh_from_db()
    assert studio.organization.is_active_in_beta


# --- Offboarding ------------------------------------------------------------------------------------------------------
def test_offboarding_closes_every_door_in_one_step(studio, admin, django_capture_on_commit_callbacks):
    session = _signed_in(studio.owner.user)
    teammate = MembershipFactory(organization=studio.organization)
    queued = JobFactory(organization=studio.organization, status="queued", error="")
    running = JobFactory(organization=studio.organization, status="running", error="")
    FeedbackReportFactory(organization=studio.organization)

    with django_capture_on_commit_callbacks() as callbacks:
        done = lifecycle.studio_offboard(actor=admin, organization=studio.organization)

    assert len(callbacks) >= 1  # the byte deletion is enqueued after commit (a worker does it: see the worker test)
    assert done["pending_invites"] == 1
    assert done["members"] == Membership.objects.filter(organization=studio.organization).count() >= 2
    assert done["api_keys"] == 1
    assert done["webhooks"] == 1
    assert done["active_jobs"] == 2
    assert done["assets"] == 1
    studio.organization.refresh_from_db()
    message = _refused_message(studio)
    assert message.startswith(f"{studio.organization.name} has left the beta; contact ")
    assert_every_door_is_closed(studio, admin, message)
    assert not User.objects.filter(memberships__organization=studio.organization, is_active=True).exists()
    assert not User.objects.get(pk=teammate.user.pk).is_active
    assert ApiKey.objects.get(pk=studio.key.pk).revoked_at is not None
    assert Invite.objects.get(pk=studio.invite.pk).status == "revoked"
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == "canceled"
    assert running.cancel_requested  # stops at its next progress report, as job_cancel does
    assert Asset.objects.get(pk=studio.video.pk).status == "deleted"
    receipt = DeletionReceipt.objects.get(organization=studio.organization, scope="studio")
    assert receipt.asset_count == 1
    event = AuditEvent.objects.get(action="studio.offboarded")
    assert event.actor == admin
    assert event.detail["receipt"] == str(receipt.uuid)
    # Nothing of the studio is readable by its people any more.
    for url in (reverse("portal:dashboard"), reverse("assets:library"), reverse("beta:job-list")):
        assert session.get(url).status_code == 302
    assert api_client(studio.key.raw_key).get(reverse("api:job-list")).status_code == 403
    # Offboarding twice is refused.
    with pytest.raises(PortalError, match="already been offboarded"):
        lifecycle.studio_offboard(actor=admin, organization=studio.organization)


def test_the_offboard_studio_command_closes_the_invite_door_too(studio, admin):
    from django.core.management import call_command

    call_command("offboard_studio", studio.organization.slug, "--by", admin.email)

    response = Client().post(reverse("portal:invite", args=[studio.invite.token]))
    assert response.status_code == 410
    assert "portal_invite_token" not in Client().session


# --- The staff pages --------------------------------------------------------------------------------------------------
def test_an_admin_offboards_from_the_studio_page_after_seeing_what_goes(studio, admin):
    client = _signed_in(admin)
    page = client.get(reverse("portal:staff-studio", args=[studio.organization.pk])).content.decode()
    offboard_url = reverse("portal:staff-studio-offboard", args=[studio.organization.pk])
    assert offboard_url in page
    assert reverse("portal:staff-studio-suspend", args=[studio.organization.pk]) in page

    response = client.get(offboard_url)
    assert response.status_code == 200
    counts = {row["key"]: row["count"] for row in response.context["inventory"]}
    assert counts["assets"] == 1
    assert counts["members"] == 1
    assert counts["jobs"] == 0
    assert counts["feedback"] == 0
    assert "bytes" in counts
    # A wrong name changes nothing.
    response = client.post(offboard_url, {"confirm_name": "studio"})
    assert response.status_code == 400
    studio.organization.refresh_from_db()
    assert studio.organization.offboarded_at is None

    response = client.post(offboard_url, {"confirm_name": studio.organization.name}, follow=True)

    assert response.status_code == 200
    studio.organization.refresh_from_db()
    assert studio.organization.offboarded_at is not None
    receipt = DeletionReceipt.objects.get(organization=studio.organization, scope="studio")
    receipt_url = reverse("assets:receipt", args=[receipt.pk])
    page = response.content.decode()
    assert receipt_url in page
    assert offboard_url not in page
    assert client.get(receipt_url).status_code == 200
    assert AuditEvent.objects.filter(action="receipt.downloaded", target_id=str(receipt.pk)).exists()


def test_an_admin_suspends_and_lifts_from_the_studio_page(studio, admin):
    client = _signed_in(admin)
    studio_url = reverse("portal:staff-studio", args=[studio.organization.pk])

    response = client.post(
        reverse("portal:staff-studio-suspend", args=[studio.organization.pk]), {"reason": "Payment overdue"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == studio_url
    page = response.content.decode()
    assert "Suspended" in page
    assert "Payment overdue" in page
    assert reverse("portal:staff-studio-lift", args=[studio.organization.pk]) in page

    client.post(reverse("portal:staff-studio-lift", args=[studio.organization.pk]))
    studio.organization.refresh_from_db()
    assert studio.organization.is_active_in_beta


def test_a_reviewer_sees_the_state_read_only_and_cannot_act(studio):
    reviewer = StaffFactory()
    client = _signed_in(reviewer)
    pk = studio.organization.pk
    page = client.get(reverse("portal:staff-studio", args=[pk])).content.decode()
    assert "Access to the beta" in page
    for name in ("staff-studio-suspend", "staff-studio-lift", "staff-studio-offboard"):
        assert reverse(f"portal:{name}", args=[pk]) not in page
    assert client.post(reverse("portal:staff-studio-suspend", args=[pk]), {"reason": "x"}).status_code == 404
    assert client.get(reverse("portal:staff-studio-offboard", args=[pk])).status_code == 404
    confirm = {"confirm_name": studio.organization.name}
    assert client.post(reverse("portal:staff-studio-offboard", args=[pk]), confirm).status_code == 404
    studio.organization.refresh_from_db()
    assert studio.organization.is_active_in_beta


def test_partners_get_404_on_the_lifecycle_pages(studio):
    client = _signed_in(studio.owner.user)
    pk = studio.organization.pk
    assert client.get(reverse("portal:staff-studio-offboard", args=[pk])).status_code == 404
    assert client.post(reverse("portal:staff-studio-suspend", args=[pk]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("portal:staff-studio-lift", args=[pk])).status_code == 404
    studio.organization.refresh_from_db()
    assert studio.organization.is_active_in_beta


def test_the_django_admin_link_shows_only_to_superusers():
    def links(user) -> list[str]:
        groups = _signed_in(user).get(reverse("portal:staff-home")).context["nav_items"]
        return [link["label"] for group in groups for link in group["links"]]

    assert "Django admin" not in links(AdminFactory(is_staff=True, is_superuser=False))
    assert "Django admin" in links(AdminFactory(is_staff=True, is_superuser=True))
