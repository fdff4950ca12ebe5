"""An owner inviting someone who already has an account (in another studio) learns nothing: the same answer and the
same pending invite as for any address. The person is told by email, and no second membership can come of it."""

import re

import pytest
from django.urls import reverse

from portal.errors import InviteError
from portal.models import Invite, Membership
from portal.services.invites import invite_accept, invite_create, invite_resend
from tests.factories import MembershipFactory, OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db
CSRF = re.compile(r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')


def _invite_through_the_team_page(client, email, capture):
    with capture(execute=True):
        response = client.post(reverse("portal:team"), {"email": email, "role": "member"})
    page = client.get(reverse("portal:team")).content.decode()
    return response, page


def test_an_owner_gets_the_same_answer_for_an_existing_account_as_for_anyone(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    owner = OwnerFactory()
    elsewhere = MembershipFactory(user__email="taken@elsewhere.test", organization__name="Secret Pictures")
    UserFactory(email="fresh-but-unrelated@studio.test")  # noise: an account that is not invited
    client.force_login(owner.user)

    existing_response, existing_page = _invite_through_the_team_page(
        client, "taken@elsewhere.test", django_capture_on_commit_callbacks
    )
    new_response, new_page = _invite_through_the_team_page(
        client, "brand-new@else.test", django_capture_on_commit_callbacks
    )

    # The same answer: a redirect to the team page, a confirmation, a pending invite listed for each.
    assert existing_response.status_code == new_response.status_code == 302
    assert existing_response.url == new_response.url
    assert "Invite sent to taken@elsewhere.test as member." in existing_page
    assert "Invite sent to brand-new@else.test as member." in new_page
    assert Invite.objects.filter(organization=owner.organization).count() == 2
    for page in (existing_page, new_page):
        assert "already has an account" not in page
        assert "Secret Pictures" not in page
        assert "two studios" not in page

    # The person with the account is told by email, without a link that could make a second account.
    notice = next(m for m in mailoutbox if m.to == ["taken@elsewhere.test"])
    assert "already have" in notice.body
    assert owner.organization.name in notice.body
    assert "/invite/" not in notice.body
    invite_mail = next(m for m in mailoutbox if m.to == ["brand-new@else.test"])
    assert "/invite/" in invite_mail.body

    # No second membership.
    assert list(Membership.objects.filter(user=elsewhere.user).values_list("organization_id", flat=True)) == [
        elsewhere.organization_id
    ]


def test_a_resend_to_an_existing_account_sends_the_notice_again(mailoutbox, django_capture_on_commit_callbacks):
    owner = OwnerFactory()
    MembershipFactory(user__email="taken@elsewhere.test")
    with django_capture_on_commit_callbacks(execute=True):
        invite, _ = invite_create(
            actor=owner.user, email="taken@elsewhere.test", organization=owner.organization
        )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invite_resend(actor=owner.user, invite=invite)
    assert len(mailoutbox) == 1
    assert "/invite/" not in mailoutbox[0].body


def test_the_invite_of_an_existing_account_cannot_be_accepted(django_capture_on_commit_callbacks):
    owner = OwnerFactory()
    MembershipFactory(user__email="taken@elsewhere.test")
    _invite, token = invite_create(
        actor=owner.user, email="taken@elsewhere.test", organization=owner.organization, send=False
    )
    from portal.models import User

    with pytest.raises(InviteError, match="already exists"):
        invite_accept(token=token, user=User(email="ignored@x.test"))
    assert Membership.objects.filter(user__email="taken@elsewhere.test").count() == 1
