"""The partner dashboard and the team page: inviting, resending, revoking, roles and removal, within one studio."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from portal.models import Invite, Membership
from portal.services.invites import hash_token
from tests.factories import (
    AdminFactory,
    CohortFactory,
    InviteFactory,
    MembershipFactory,
    OrganizationFactory,
    OwnerFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LAST_OWNER = "A studio needs at least one owner"


@pytest.fixture
def owner():
    return OwnerFactory(user__full_name="Olive Owner")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner.user)
    return client


def team_url() -> str:
    return reverse("portal:team")


def body(response) -> str:
    return response.content.decode()


def link_token(text: str) -> str:
    return re.search(r"/invite/([\w-]+)/", text).group(1)


# --- Inviting ---------------------------------------------------------------------------------------------------------
def test_owner_invites_a_teammate_and_an_email_with_the_link_is_sent(
    owner_client, owner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(team_url(), {"email": "New.Person@Example.com", "role": "viewer"})

    assert response.status_code == 302
    assert response.url == team_url()
    invite = Invite.objects.get(organization=owner.organization)
    assert (invite.email, invite.role, invite.invited_by) == ("new.person@example.com", "viewer", owner.user)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new.person@example.com"]
    assert "/invite/" in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert "/invite/" in html
    assert hash_token(link_token(mail.body)) == invite.token_hash

    page = body(owner_client.get(team_url()))
    assert "Invite sent to new.person@example.com as viewer." in page
    assert "new.person@example.com" in page


def test_an_invalid_address_is_shown_next_to_the_field_and_nothing_is_created(owner_client, owner, mailoutbox):
    response = owner_client.post(team_url(), {"email": "not-an-email", "role": "member"})

    assert response.status_code == 200
    page = body(response)
    assert 'id="id_email_error"' in page
    assert 'aria-invalid="true"' in page
    assert not Invite.objects.exists()
    assert mailoutbox == []


def test_inviting_an_existing_member_shows_the_services_message_at_the_email_field(owner_client, owner):
    member = MembershipFactory(organization=owner.organization)

    response = owner_client.post(team_url(), {"email": member.user.email, "role": "member"})

    assert response.status_code == 200
    errors = re.search(r'id="id_email_error">(.*?)</ul>', body(response), re.S).group(1)
    assert f"{member.user.email} is already a member of {owner.organization.name}." in errors
    assert not Invite.objects.exists()


def test_seat_limit_reached_shows_the_message_and_creates_no_invite(owner_client, owner, mailoutbox):
    # Given a studio with two seats: its owner, and one pending invite
    owner.organization.seat_limit = 2
    owner.organization.save()
    InviteFactory(organization=owner.organization)

    response = owner_client.post(team_url(), {"email": "third@example.com", "role": "member"})

    assert response.status_code == 200
    page = body(response)
    assert f"{owner.organization.name} has used all 2 seats" in page
    assert "2 of 2 seats used" in page
    assert Invite.objects.count() == 1
    assert not Invite.objects.filter(email="third@example.com").exists()
    assert mailoutbox == []


def test_a_member_sees_the_team_without_management_controls_and_cannot_invite(client, owner):
    member = MembershipFactory(organization=owner.organization, user__full_name="Mo Member")
    invite = InviteFactory(organization=owner.organization, invited_by=owner.user)
    client.force_login(member.user)

    response = client.get(team_url())

    assert response.status_code == 200
    page = body(response)
    assert "Olive Owner" in page
    assert invite.email in page
    assert "Invite a teammate" not in page
    assert 'name="email"' not in page
    assert "Change role" not in page
    assert reverse("portal:team-invite-resend", args=[invite.pk]) not in page
    assert reverse("portal:team-invite-revoke", args=[invite.pk]) not in page
    assert reverse("portal:team-member-remove", args=[owner.pk]) not in page

    assert client.post(team_url(), {"email": "x@example.com", "role": "member"}).status_code == 403
    assert not Invite.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize(
    ("url_name", "target"),
    [
        ("portal:team-invite-resend", "invite"),
        ("portal:team-invite-revoke", "invite"),
        ("portal:team-member-role", "membership"),
        ("portal:team-member-remove", "membership"),
    ],
)
def test_a_member_cannot_use_the_team_actions(client, owner, url_name, target):
    member = MembershipFactory(organization=owner.organization)
    invite = InviteFactory(organization=owner.organization)
    obj = invite if target == "invite" else owner
    client.force_login(member.user)

    response = client.post(reverse(url_name, args=[obj.pk]), {"role": "viewer"})

    assert response.status_code == 403
    invite.refresh_from_db()
    owner.refresh_from_db()
    assert invite.revoked_at is None
    assert invite.sent_count == 1
    assert owner.role == Membership.Role.OWNER


def test_the_team_page_is_accessible_to_owners(owner_client, owner):
    MembershipFactory(organization=owner.organization, user__full_name="Mo Member")
    InviteFactory(organization=owner.organization, email="pending@example.com")

    page = body(owner_client.get(team_url()))

    assert page.count("<caption") == 2
    assert '<th scope="col">Email</th>' in page
    assert '<label for="id_email">Email address</label>' in page
    assert '<label for="id_role">Role</label>' in page
    assert 'Remove<span class="visually-hidden"> Mo Member</span>' in page
    assert 'Revoke<span class="visually-hidden"> invite to pending@example.com</span>' in page
    assert page.count('name="csrfmiddlewaretoken"') >= 5


def test_a_person_without_a_studio_sees_an_empty_team_page(client):
    client.force_login(UserFactory())

    response = client.get(team_url())

    assert response.status_code == 200
    assert "You are not part of a studio yet" in body(response)
    assert client.post(team_url(), {"email": "x@example.com", "role": "member"}).status_code == 403


# --- Invites: resend and revoke ---------------------------------------------------------------------------------------
def test_resend_changes_the_token_and_sends_a_new_email(
    owner_client, owner, mailoutbox, django_capture_on_commit_callbacks
):
    invite = InviteFactory(organization=owner.organization, invited_by=owner.user)
    old_hash = invite.token_hash

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("portal:team-invite-resend", args=[invite.pk]), follow=True)

    invite.refresh_from_db()
    assert invite.token_hash != old_hash
    assert invite.sent_count == 2
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [invite.email]
    new_token = link_token(mailoutbox[0].body)
    assert new_token != invite.token
    assert hash_token(new_token) == invite.token_hash
    assert f"Invite sent again to {invite.email}" in body(response)


def test_revoke_marks_the_invite_revoked_and_it_leaves_the_pending_list(owner_client, owner):
    invite = InviteFactory(organization=owner.organization, email="gone@example.com")

    response = owner_client.post(reverse("portal:team-invite-revoke", args=[invite.pk]), follow=True)

    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert invite.status == Invite.Status.REVOKED
    page = body(response)
    assert "Invite to gone@example.com revoked" in page
    assert reverse("portal:team-invite-resend", args=[invite.pk]) not in page


def test_resending_a_revoked_invite_shows_the_services_message(owner_client, owner, mailoutbox):
    invite = InviteFactory(organization=owner.organization, revoked_at=timezone.now())
    old_hash = invite.token_hash

    response = owner_client.post(reverse("portal:team-invite-resend", args=[invite.pk]), follow=True)

    assert "This invite was revoked; it cannot be resent." in body(response)
    invite.refresh_from_db()
    assert invite.token_hash == old_hash
    assert mailoutbox == []


@pytest.mark.parametrize(
    "url_name",
    ["portal:team-invite-resend", "portal:team-invite-revoke", "portal:team-member-role", "portal:team-member-remove"],
)
def test_actions_answer_only_post(owner_client, owner, url_name):
    assert owner_client.get(reverse(url_name, args=[owner.pk])).status_code == 405


# --- Members: role and removal ----------------------------------------------------------------------------------------
def test_owner_changes_a_members_role(owner_client, owner):
    member = MembershipFactory(organization=owner.organization, user__full_name="Mo Member")

    response = owner_client.post(reverse("portal:team-member-role", args=[member.pk]), {"role": "owner"}, follow=True)

    member.refresh_from_db()
    assert member.role == Membership.Role.OWNER
    assert "Mo Member is now owner." in body(response)


def test_an_unknown_role_is_refused_with_a_message(owner_client, owner):
    member = MembershipFactory(organization=owner.organization)

    response = owner_client.post(reverse("portal:team-member-role", args=[member.pk]), {"role": "boss"}, follow=True)

    member.refresh_from_db()
    assert member.role == Membership.Role.MEMBER
    assert "Choose owner, member or viewer." in body(response)


def test_owner_removes_a_member_and_their_account_is_closed(owner_client, owner):
    member = MembershipFactory(organization=owner.organization, user__full_name="Mo Member")

    response = owner_client.post(reverse("portal:team-member-remove", args=[member.pk]), follow=True)

    assert not Membership.objects.filter(pk=member.pk).exists()
    member.user.refresh_from_db()
    assert member.user.is_active is False
    assert "Mo Member was removed from" in body(response)


def test_the_last_owner_cannot_step_down_and_sees_why(owner_client, owner):
    response = owner_client.post(reverse("portal:team-member-role", args=[owner.pk]), {"role": "member"}, follow=True)

    owner.refresh_from_db()
    assert owner.role == Membership.Role.OWNER
    assert LAST_OWNER in body(response)


def test_the_last_owner_cannot_remove_themselves_and_sees_why(owner_client, owner):
    response = owner_client.post(reverse("portal:team-member-remove", args=[owner.pk]), follow=True)

    assert Membership.objects.filter(pk=owner.pk).exists()
    owner.user.refresh_from_db()
    assert owner.user.is_active
    assert LAST_OWNER in body(response)


def test_an_owner_who_leaves_while_another_owner_remains_is_signed_out(owner_client, owner):
    OwnerFactory(organization=owner.organization)

    response = owner_client.post(reverse("portal:team-member-remove", args=[owner.pk]))

    assert response.status_code == 302
    assert response.url == reverse("portal:landing")
    assert not Membership.objects.filter(pk=owner.pk).exists()
    assert owner_client.get(team_url()).status_code == 302  # signed out: back to sign-in


# --- Tenancy and staff ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url_name", "target", "data"),
    [
        ("portal:team-invite-resend", "invite", {}),
        ("portal:team-invite-revoke", "invite", {}),
        ("portal:team-member-role", "membership", {"role": "viewer"}),
        ("portal:team-member-remove", "membership", {}),
    ],
)
def test_another_studios_invites_and_members_are_404(client, mailoutbox, url_name, target, data):
    # Given studio A with a member and a pending invite, and the owner of studio B signed in
    member_a = MembershipFactory()
    invite_a = InviteFactory(organization=member_a.organization)
    client.force_login(OwnerFactory().user)
    obj = invite_a if target == "invite" else member_a

    response = client.post(reverse(url_name, args=[obj.pk]), data)

    assert response.status_code == 404
    invite_a.refresh_from_db()
    member_a.refresh_from_db()
    member_a.user.refresh_from_db()
    assert (invite_a.revoked_at, invite_a.sent_count) == (None, 1)
    assert (member_a.role, member_a.user.is_active) == (Membership.Role.MEMBER, True)
    assert mailoutbox == []


def test_another_studios_people_are_not_on_the_team_page(owner_client):
    other = MembershipFactory(user__full_name="Stranger Danger")
    InviteFactory(organization=other.organization, email="elsewhere@example.com")

    page = body(owner_client.get(team_url()))

    assert "Stranger Danger" not in page
    assert "elsewhere@example.com" not in page


@pytest.mark.parametrize("staff_factory", [StaffFactory, AdminFactory])
@pytest.mark.parametrize("url_name", ["portal:team", "portal:dashboard"])
def test_staff_get_404_on_partner_pages(client, staff_factory, url_name):
    client.force_login(staff_factory())

    assert client.get(reverse(url_name)).status_code == 404


def test_staff_get_404_on_team_actions(client):
    invite = InviteFactory()
    client.force_login(AdminFactory())

    assert client.post(reverse("portal:team-invite-revoke", args=[invite.pk])).status_code == 404
    invite.refresh_from_db()
    assert invite.revoked_at is None


# --- Dashboard --------------------------------------------------------------------------------------------------------
def _date(value) -> str:
    return date_format(timezone.localtime(value), "j F Y")


def test_dashboard_shows_an_upcoming_window_with_its_opening_date(client):
    cohort = CohortFactory(opens_at=timezone.now() + timedelta(days=10), closes_at=timezone.now() + timedelta(days=40))
    membership = MembershipFactory(organization=OrganizationFactory(cohort=cohort))
    client.force_login(membership.user)

    page = body(client.get(reverse("portal:dashboard")))

    assert "Opens soon" in page
    assert re.search(r"Opens on <time[^>]*>" + re.escape(_date(cohort.opens_at)), page)
    assert "UTC" in page  # the time zone is named


def test_dashboard_shows_an_open_window_with_its_closing_date(client):
    cohort = CohortFactory(opens_at=timezone.now() - timedelta(days=1), closes_at=timezone.now() + timedelta(days=30))
    membership = MembershipFactory(organization=OrganizationFactory(cohort=cohort))
    client.force_login(membership.user)

    page = body(client.get(reverse("portal:dashboard")))

    assert "Open until" in page
    assert _date(cohort.closes_at) in page
    assert "read-only" not in page


def test_dashboard_says_a_closed_window_is_read_only(client):
    cohort = CohortFactory(opens_at=timezone.now() - timedelta(days=30), closes_at=timezone.now() - timedelta(days=1))
    membership = MembershipFactory(organization=OrganizationFactory(cohort=cohort))
    client.force_login(membership.user)

    page = body(client.get(reverse("portal:dashboard")))

    assert "Closed: read-only" in page


def test_dashboard_without_a_cohort_says_so(client):
    membership = MembershipFactory(organization=OrganizationFactory(cohort=None))
    client.force_login(membership.user)

    assert "No cohort yet" in body(client.get(reverse("portal:dashboard")))


def test_dashboard_shows_the_studio_role_seats_invites_and_team_link_for_owners(owner_client, owner):
    MembershipFactory(organization=owner.organization, user__full_name="Mo Member")
    InviteFactory(organization=owner.organization)
    InviteFactory(organization=owner.organization, revoked_at=timezone.now())  # not pending: not counted
    owner.organization.seat_limit = 5
    owner.organization.save()

    page = body(owner_client.get(reverse("portal:dashboard")))

    assert owner.organization.name in page
    assert "You are an owner of this studio." in page
    assert "Mo Member" in page
    assert "3 of 5 used" in page
    assert re.search(r"<dt>Pending invites</dt><dd>1</dd>", page)
    assert "Manage the team" in page


def test_dashboard_for_a_member_has_no_manage_link(client):
    membership = MembershipFactory()
    client.force_login(membership.user)

    page = body(client.get(reverse("portal:dashboard")))

    assert "You are a member of this studio." in page
    assert "Manage the team" not in page


def test_dashboard_without_a_studio_shows_the_empty_state(client):
    client.force_login(UserFactory())

    page = body(client.get(reverse("portal:dashboard")))

    assert "You are not part of a studio yet" in page
