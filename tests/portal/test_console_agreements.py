"""The staff console's agreement pages (portal/views/console.py): draft, preview, publish, and who accepted which
version; reviewers read, partners get 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal import selectors
from portal.models import AgreementVersion, AuditEvent
from portal.services.agreements import agreement_accept
from tests.factories import AgreementVersionFactory, MembershipFactory, OwnerFactory
from tests.staff_console import messages_of, page_forms

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
DRAFT = {"version": "2.0", "title": "Beta agreement", "text": "You keep your material.\n\nWe never train on it."}


@pytest.fixture
def published():
    return AgreementVersionFactory(version="1.0", published_at=timezone.now() - timedelta(days=10))


@pytest.fixture
def draft():
    return AgreementVersionFactory(version="2.0", published_at=None, text="Draft text for the May terms.")


def urls(version) -> list[str]:
    return [
        reverse("portal:staff-agreements"),
        reverse("portal:staff-agreement", args=[version.pk]),
        reverse("portal:staff-agreement-publish", args=[version.pk]),
    ]


# --- Who may see and do what ------------------------------------------------------------------------------------
def test_a_partner_gets_404_on_every_agreement_page_and_changes_nothing(client, published, draft):
    owner = OwnerFactory().user
    agreement_accept(user=owner, version=published)
    client.force_login(owner)
    for url in urls(draft):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {**DRAFT, "version": "9.9", "confirm": "yes"}).status_code == 404, url
    draft.refresh_from_db()
    assert draft.published_at is None
    assert not AgreementVersion.objects.filter(version="9.9").exists()


def test_a_reviewer_reads_versions_and_previews_without_forms_and_cannot_post(client, reviewer, published, draft):
    for url in [*urls(draft)[:2], reverse("portal:staff-agreement", args=[published.pk])]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert page_forms(response.content.decode()) == [], url
    for url in urls(draft):
        assert client.post(url, {**DRAFT, "version": "9.9", "confirm": "yes"}).status_code == 404, url
    draft.refresh_from_db()
    assert draft.published_at is None
    assert draft.version == "2.0"
    assert not AuditEvent.objects.exists()


def test_publish_answers_only_post(client, admin, draft):
    assert client.get(reverse("portal:staff-agreement-publish", args=[draft.pk])).status_code == 405


# --- Draft, preview, publish ------------------------------------------------------------------------------------------
def test_the_admin_drafts_a_version_and_previews_it_as_partners_will_read_it(client, admin, published):
    response = client.post(reverse("portal:staff-agreements"), DRAFT)

    version = AgreementVersion.objects.get(version="2.0")
    assert response.status_code == 302
    assert response.url == reverse("portal:staff-agreement", args=[version.pk])
    assert version.published_at is None
    assert selectors.current_agreement() == published  # a draft asks nobody anything
    event = AuditEvent.objects.get(action=Action.AGREEMENT_DRAFTED)
    assert event.actor == admin
    assert event.detail == {"version": "2.0", "title": "Beta agreement"}

    preview = client.get(response.url).content.decode()
    assert "Preview, as partners will read it" in preview
    assert "<p>You keep your material.</p>" in preview
    assert "<p>We never train on it.</p>" in preview
    assert "Publish version 2.0" in preview


def test_the_admin_changes_a_draft(client, admin, draft):
    response = client.post(reverse("portal:staff-agreement", args=[draft.pk]), {**DRAFT, "version": "2.1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.version, draft.text) == ("2.1", DRAFT["text"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "", "This field is required."),
        ("version", "   ", "This field is required."),
        ("version", "x" * 21, "Ensure this value has at most 20 characters (it has 21)."),
        ("title", "", "This field is required."),
        ("text", "  \n ", "This field is required."),
    ],
)
def test_a_bad_draft_gets_a_message_next_to_the_field_and_saves_nothing(client, admin, field, value, message):
    response = client.post(reverse("portal:staff-agreements"), {**DRAFT, field: value})

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not AgreementVersion.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_version_number_is_used_once(client, admin, published):
    response = client.post(reverse("portal:staff-agreements"), {**DRAFT, "version": "1.0"})

    assert response.status_code == 400
    assert "There is already a version 1.0; choose another number." in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert AgreementVersion.objects.count() == 1


def test_a_published_version_cannot_be_changed(client, admin, published):
    page = client.get(reverse("portal:staff-agreement", args=[published.pk])).content.decode()
    assert "Change the draft" not in page
    assert "Publish version" not in page
    response = client.post(reverse("portal:staff-agreement", args=[published.pk]), {**DRAFT, "version": "1.0"})
    assert response.status_code == 404
    published.refresh_from_db()
    assert published.text != DRAFT["text"]


def test_publishing_asks_every_partner_again_and_is_audited(client, admin, published, draft):
    member = MembershipFactory().user
    agreement_accept(user=member, version=published)
    assert selectors.has_accepted(member, selectors.current_agreement())

    response = client.post(reverse("portal:staff-agreement-publish", args=[draft.pk]), {"confirm": "yes"})

    assert response.status_code == 302
    assert messages_of(response) == [
        "Version 2.0 is published. Every partner is asked to accept it at their next visit."
    ]
    assert selectors.current_agreement() == draft
    assert not selectors.has_accepted(member, selectors.current_agreement())
    event = AuditEvent.objects.get(action=Action.AGREEMENT_PUBLISHED)
    assert event.actor == admin
    assert event.detail == {"version": "2.0"}

    # The partner's next beta page sends them to the agreement.
    client.force_login(member)
    gated = client.get(reverse("portal:dashboard"))
    assert gated.status_code == 302
    assert gated.url.startswith(reverse("portal:agreement"))


def test_publishing_without_the_confirmation_changes_nothing(client, admin, draft):
    response = client.post(reverse("portal:staff-agreement-publish", args=[draft.pk]), {})
    assert messages_of(response) == ["Tick the box to confirm that every partner must accept this version again."]
    draft.refresh_from_db()
    assert draft.published_at is None
    assert not AuditEvent.objects.exists()


def test_a_published_version_cannot_be_published_again(client, admin, published):
    before = published.published_at
    response = client.post(reverse("portal:staff-agreement-publish", args=[published.pk]), {"confirm": "yes"})
    assert messages_of(response) == ["Version 1.0 is already published."]
    published.refresh_from_db()
    assert published.published_at == before
    assert not AuditEvent.objects.exists()


def test_a_missing_version_is_a_404(client, admin):
    assert client.get(reverse("portal:staff-agreement", args=[424242])).status_code == 404
    assert client.post(reverse("portal:staff-agreement-publish", args=[424242]), {"confirm": "yes"}).status_code == 404


# --- Who accepted which ---------------------------------------------------------------------------------------------
def test_the_pages_show_who_accepted_which_version_and_who_has_not(client, reviewer, published):
    early, late, never = (MembershipFactory() for _ in range(3))
    agreement_accept(user=early.user, version=published)
    newer = AgreementVersionFactory(version="1.1", published_at=timezone.now() - timedelta(days=1))
    agreement_accept(user=late.user, version=newer)

    listing = client.get(reverse("portal:staff-agreements"))
    counts = {v.version: v.acceptance_count for v in listing.context["versions"]}
    assert counts == {"1.0": 1, "1.1": 1}
    assert listing.context["yet_to_accept"] == 2  # early (on the old version) and never
    assert "2 partners still to accept it" in listing.content.decode()

    current = client.get(reverse("portal:staff-agreement", args=[newer.pk]))
    assert [a.user for a in current.context["acceptances"]] == [late.user]
    assert {m.user for m in current.context["yet_to_accept"]} == {early.user, never.user}
    page = current.content.decode()
    assert late.user.email in page
    assert late.organization.name in page

    old = client.get(reverse("portal:staff-agreement", args=[published.pk]))
    assert [a.user for a in old.context["acceptances"]] == [early.user]
    assert "a later version replaced it" in old.content.decode()
