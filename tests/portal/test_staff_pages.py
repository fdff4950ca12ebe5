"""The staff pages: overview, studios, cohorts, invites (one, from a file, resend, revoke) and the audit trail."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Cohort, Invite, Organization
from portal.services.audit import audit_record
from tests.factories import (
    AdminFactory,
    CohortFactory,
    InviteFactory,
    MembershipFactory,
    OrganizationFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


@pytest.fixture
def programme_admin(client):
    user = AdminFactory()
    client.force_login(user)
    return user


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def csv_upload(text: str, name: str = "invites.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- Cohorts ----------------------------------------------------------------------------------------------------------
def test_admin_creates_a_cohort(client, programme_admin):
    response = client.post(
        reverse("portal:staff-cohorts"),
        {
            "name": "March wave 1",
            "description": "First partners",
            "opens_at": "2030-03-01T09:00",
            "closes_at": "2030-05-31T18:00",
        },
    )

    cohort = Cohort.objects.get(name="March wave 1")
    assert response.status_code == 302
    assert response.url == reverse("portal:staff-cohort", args=[cohort.pk])
    assert cohort.closes_at > cohort.opens_at
    event = AuditEvent.objects.get(action=Action.COHORT_CREATED)
    assert event.actor == programme_admin
    assert event.target_id == str(cohort.pk)

    listing = client.get(reverse("portal:staff-cohorts")).content.decode()
    assert "March wave 1" in listing
    assert "Opens soon" in listing


def test_a_cohort_that_closes_before_it_opens_is_refused_with_a_field_error(client, programme_admin):
    response = client.post(
        reverse("portal:staff-cohorts"),
        {
            "name": "Backwards",
            "opens_at": "2030-03-01T09:00",
            "closes_at": "2030-02-01T09:00",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["closes_at"] == ["The cohort must close after it opens."]
    assert 'id="id_closes_at_error"' in response.content.decode()
    assert not Cohort.objects.exists()
    assert not AuditEvent.objects.exists()


def test_admin_edits_a_cohort_and_the_change_is_audited(client, programme_admin):
    cohort = CohortFactory(name="Wave A")

    response = client.post(
        reverse("portal:staff-cohort", args=[cohort.pk]),
        {
            "name": "Wave A (extended)",
            "description": "",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-02-01T09:00",
        },
    )

    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.name == "Wave A (extended)"
    event = AuditEvent.objects.get(action=Action.COHORT_UPDATED)
    assert event.detail["changes"]["name"] == ["Wave A", "Wave A (extended)"]


# --- Studios ----------------------------------------------------------------------------------------------------------
def test_admin_creates_a_studio(client, programme_admin):
    cohort = CohortFactory()

    response = client.post(
        reverse("portal:staff-studios"),
        {
            "name": "Northlight Pictures",
            "slug": "",
            "cohort": cohort.pk,
            "seat_limit": 8,
        },
    )

    studio = Organization.objects.get(name="Northlight Pictures")
    assert response.status_code == 302
    assert response.url == reverse("portal:staff-studio", args=[studio.pk])
    assert (studio.slug, studio.cohort, studio.seat_limit) == ("northlight-pictures", cohort, 8)
    event = AuditEvent.objects.get(action=Action.STUDIO_CREATED)
    assert event.organization == studio
    assert event.actor == programme_admin


def test_a_studio_name_already_taken_is_refused(client, programme_admin):
    OrganizationFactory(name="Northlight")

    response = client.post(reverse("portal:staff-studios"), {"name": "northlight", "seat_limit": 5})

    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["name"][0]
    assert Organization.objects.count() == 1


def test_admin_edits_a_studio_and_the_change_is_audited(client, programme_admin):
    studio = OrganizationFactory(seat_limit=10)
    new_cohort = CohortFactory()

    response = client.post(
        reverse("portal:staff-studio", args=[studio.pk]),
        {
            "seat_limit": 12,
            "cohort": new_cohort.pk,
            "storage_quota_gb": 500,
            "monthly_job_quota": 100,
            "max_concurrent_jobs": 3,  # is_active unticked
        },
    )

    assert response.status_code == 302
    studio.refresh_from_db()
    assert (studio.seat_limit, studio.cohort, studio.is_active) == (12, new_cohort, False)
    assert (studio.monthly_job_quota, studio.max_concurrent_jobs) == (100, 3)
    changes = AuditEvent.objects.get(action=Action.STUDIO_UPDATED).detail["changes"]
    assert changes["seat_limit"] == [10, 12]
    assert changes["is_active"] == [True, False]
    assert "storage_quota_bytes" not in changes  # the GB figure did not change


def test_the_seat_limit_cannot_drop_below_the_seats_in_use(client, programme_admin):
    studio = OrganizationFactory(seat_limit=5)
    MembershipFactory.create_batch(2, organization=studio)
    InviteFactory(organization=studio)

    response = client.post(
        reverse("portal:staff-studio", args=[studio.pk]),
        {
            "seat_limit": 2,
            "cohort": studio.cohort_id,
            "is_active": "on",
            "storage_quota_gb": 500,
            "monthly_job_quota": 500,
            "max_concurrent_jobs": 2,
        },
    )

    assert response.status_code == 200
    assert "uses 3 seats" in response.content.decode()
    studio.refresh_from_db()
    assert studio.seat_limit == 5
    assert not AuditEvent.objects.exists()


def test_studio_page_lists_members_and_pending_invites(client, programme_admin):
    membership = MembershipFactory()
    invite = InviteFactory(organization=membership.organization)
    InviteFactory(organization=membership.organization, revoked_at=timezone.now(), email="gone@studio.test")

    body = client.get(reverse("portal:staff-studio", args=[membership.organization.pk])).content.decode()

    assert membership.user.email in body
    assert invite.email in body
    assert "gone@studio.test" not in body
    assert "2 of 10 seats used" in body


def test_studio_page_shows_its_kms_key_and_links_its_quotas_and_audit_trail(client, programme_admin):
    studio = MembershipFactory().organization
    studio.kms_key_id = "arn:aws:kms:eu-west-2:111122223333:key/northlight"
    studio.save(update_fields=["kms_key_id"])

    body = client.get(reverse("portal:staff-studio", args=[studio.pk])).content.decode()

    assert "arn:aws:kms:eu-west-2:111122223333:key/northlight" in body
    assert reverse("beta:staff-quota", args=[studio.pk]) in body
    assert f'{reverse("portal:staff-audit")}?studio={studio.pk}' in body


# --- Invite one person ------------------------------------------------------------------------------------------------
def test_admin_invites_one_person_and_the_email_is_sent(
    client, programme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    studio = OrganizationFactory(name="Northlight")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:staff-invites"),
            {
                "email": "Ana@Northlight.example",
                "organization": studio.pk,
                "role": "owner",
            },
        )

    assert response.status_code == 302
    assert response.url == reverse("portal:staff-invites")
    invite = Invite.objects.get()
    assert (invite.email, invite.organization, invite.role, invite.invited_by) == (
        "ana@northlight.example",
        studio,
        "owner",
        programme_admin,
    )
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["ana@northlight.example"]
    assert "Northlight" in email.subject
    assert "/invite/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "Accept the invitation" in html
    assert AuditEvent.objects.filter(action=Action.INVITE_CREATED, organization=studio).count() == 1

    page = client.get(response.url)
    assert "Invite sent to ana@northlight.example for Northlight." in messages_of(page)
    assert "ana@northlight.example" in page.content.decode()


def test_a_duplicate_pending_invite_is_refused_and_nothing_changes(
    client, programme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    existing = InviteFactory(email="ana@northlight.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:staff-invites"),
            {
                "email": "ana@northlight.example",
                "organization": existing.organization.pk,
                "role": "member",
            },
        )

    assert response.status_code == 200
    assert "already has a pending invite" in response.context["invite_form"].non_field_errors()[0]
    assert "already has a pending invite" in response.content.decode()
    assert Invite.objects.count() == 1
    assert mailoutbox == []
    assert not AuditEvent.objects.exists()


def test_the_invite_form_needs_a_valid_email_and_a_studio(client, programme_admin):
    response = client.post(reverse("portal:staff-invites"), {"email": "nope", "role": "member"})

    errors = response.context["invite_form"].errors
    assert set(errors) == {"email", "organization"}
    assert not Invite.objects.exists()


# --- Invites from a file ----------------------------------------------------------------------------------------------
def test_a_file_with_malformed_rows_creates_nothing_and_names_the_lines(
    client, programme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    OrganizationFactory(slug="northlight")
    InviteFactory(email="already@northlight.example", organization=Organization.objects.get(slug="northlight"))
    data = (
        "email,studio,role\n"
        "ana@northlight.example,northlight,owner\n"  # line 2: good
        "already@northlight.example,northlight,member\n"  # line 3: pending invite: skipped
        "not-an-email,northlight,member\n"  # line 4: error
        "ben@northlight.example,nowhere,member\n"  # line 5: error
        "cy@northlight.example,northlight,director\n"  # line 6: error
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:staff-invite-upload"), {"file": csv_upload(data)})

    assert response.status_code == 200
    result = response.context["result"]
    assert [(r.line, r.outcome) for r in result.rows] == [
        (2, "ok"),
        (3, "skipped"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
    ]
    body = response.content.decode()
    assert "Nothing was created." in body
    assert "3 lines of the file have errors" in body
    assert "No studio called “nowhere”" in body
    assert "“director” is not a role" in body
    assert Invite.objects.count() == 1  # only the one that was there
    assert mailoutbox == []


def test_a_file_with_good_and_duplicate_rows_creates_the_good_and_skips_the_rest(
    client, programme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    OrganizationFactory(slug="northlight", name="Northlight")
    data = (
        "Email,Studio,Role\n"
        "ana@northlight.example,northlight,owner\n"
        "ben@northlight.example,Northlight,member\n"
        "ANA@northlight.example,northlight,member\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:staff-invite-upload"), {"file": csv_upload(data)})

    result = response.context["result"]
    assert result.created == 2
    assert [(r.line, r.outcome) for r in result.rows] == [(2, "created"), (3, "created"), (4, "skipped")]
    body = response.content.decode()
    assert "2 invites sent." in body
    assert "Same email as line 2." in body
    assert "Nothing was created" not in body
    assert set(Invite.objects.values_list("email", flat=True)) == {"ana@northlight.example", "ben@northlight.example"}
    assert sorted(m.to[0] for m in mailoutbox) == ["ana@northlight.example", "ben@northlight.example"]


def test_a_binary_file_is_refused_with_a_clear_message(client, programme_admin):
    OrganizationFactory(slug="northlight")
    png = SimpleUploadedFile("invites.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", content_type="image/png")

    response = client.post(reverse("portal:staff-invite-upload"), {"file": png})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was created." in body
    assert "not UTF-8 text" in body
    assert response.context["result"] is None
    assert not Invite.objects.exists()


def test_a_file_without_the_columns_is_refused(client, programme_admin):
    response = client.post(reverse("portal:staff-invite-upload"), {"file": csv_upload("name,phone\nAna,123\n")})

    body = response.content.decode()
    assert "missing: email, organization, role" in body
    assert "Nothing was created." in body
    assert not Invite.objects.exists()


def test_the_upload_page_explains_the_file_format(client, programme_admin):
    body = client.get(reverse("portal:staff-invite-upload")).content.decode()
    assert "email,studio,role,cohort" in body
    assert 'accept=".csv,text/csv"' in body


# --- Invite list: filters, pagination, actions ------------------------------------------------------------------------
@pytest.fixture
def invites_in_each_status():
    now = timezone.now()
    return {
        "pending": InviteFactory(email="pending-person@a.test"),
        "accepted": InviteFactory(email="accepted-person@a.test", accepted_at=now),
        "expired": InviteFactory(email="expired-person@a.test", expires_at=now - timedelta(days=1)),
        "revoked": InviteFactory(email="revoked-person@a.test", revoked_at=now),
    }


@pytest.mark.parametrize("status", ["pending", "accepted", "expired", "revoked"])
def test_the_invite_list_filters_by_status(client, programme_admin, invites_in_each_status, status):
    response = client.get(reverse("portal:staff-invites"), {"status": status})

    assert response.status_code == 200
    assert [i.pk for i in response.context["page_obj"]] == [invites_in_each_status[status].pk]
    body = response.content.decode()
    for other_status, invite in invites_in_each_status.items():
        assert (invite.email in body) is (other_status == status)
    assert f"pill--{status}" in body


def test_the_invite_list_filters_by_studio_cohort_and_search(client, programme_admin):
    mine = InviteFactory(email="ana@northlight.example")
    other = InviteFactory(email="ben@elsewhere.example")

    def listed(**params):
        return [i.pk for i in client.get(reverse("portal:staff-invites"), params).context["page_obj"]]

    assert listed(studio=mine.organization.pk) == [mine.pk]
    assert listed(cohort=other.organization.cohort.pk) == [other.pk]
    assert listed(q="NORTHLIGHT") == [mine.pk]
    assert listed(q=other.organization.name) == [other.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"studio": "abc"},
        {"cohort": "999999"},
        {"status": "lost"},
        {"page": "x"},
        {"page": "99"},
        {"studio": "1 OR 1=1", "status": "pending", "page": "-1"},
    ],
)
def test_malformed_invite_filters_are_ignored_with_a_message(client, programme_admin, params):
    invite = InviteFactory()

    response = client.get(reverse("portal:staff-invites"), params)

    assert response.status_code == 200
    assert invite.email in response.content.decode()
    if set(params) - {"page"}:
        assert any(m.startswith("Filter ignored") for m in messages_of(response))


def test_the_invite_list_paginates_at_50(client, programme_admin):
    studio = OrganizationFactory()
    InviteFactory.create_batch(51, organization=studio)

    first = client.get(reverse("portal:staff-invites"), {"studio": studio.pk})
    second = client.get(reverse("portal:staff-invites"), {"studio": studio.pk, "page": 2})

    assert len(first.context["page_obj"]) == 50
    assert len(second.context["page_obj"]) == 1
    assert f"?studio={studio.pk}&amp;page=2" in first.content.decode()  # the filter is kept


def test_admin_revokes_an_invite_from_the_list(client, programme_admin):
    invite = InviteFactory()

    response = client.post(reverse("portal:staff-invite-revoke", args=[invite.pk]), {"next": "/staff/invites/?q=x"})

    assert response.status_code == 302
    assert response.url == "/staff/invites/?q=x"
    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert AuditEvent.objects.filter(action=Action.INVITE_REVOKED, actor=programme_admin).count() == 1


def test_admin_resends_an_expired_invite(client, programme_admin, mailoutbox, django_capture_on_commit_callbacks):
    invite = InviteFactory(expires_at=timezone.now() - timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:staff-invite-resend", args=[invite.pk]), {"next": "https://evil.example/"}
        )

    assert response.url == reverse("portal:staff-invites")  # never off-site
    invite.refresh_from_db()
    assert invite.status == Invite.Status.PENDING
    assert invite.sent_count == 2
    assert len(mailoutbox) == 1
    assert AuditEvent.objects.filter(action=Action.INVITE_RESENT).count() == 1


def test_resending_an_accepted_invite_is_refused_with_a_message(client, programme_admin, mailoutbox):
    invite = InviteFactory(accepted_at=timezone.now())

    response = client.post(reverse("portal:staff-invite-resend", args=[invite.pk]), follow=True)

    assert any("cannot be resent" in m for m in messages_of(response))
    assert mailoutbox == []


def test_resend_and_revoke_need_post(client, programme_admin):
    invite = InviteFactory()
    assert client.get(reverse("portal:staff-invite-resend", args=[invite.pk])).status_code == 405
    assert client.get(reverse("portal:staff-invite-revoke", args=[invite.pk])).status_code == 405
    assert client.post(reverse("portal:staff-invite-revoke", args=[999999])).status_code == 404


# --- Audit trail ------------------------------------------------------------------------------------------------------
@pytest.fixture
def audit_trail():
    north, south = OrganizationFactory(name="North"), OrganizationFactory(name="South")
    actor = StaffFactory(email="actor@studio.test")
    return {
        "invite_north": audit_record(
            action=Action.INVITE_CREATED, actor=actor, organization=north, detail={"email": "a@north.test"}
        ),
        "revoke_south": audit_record(action=Action.INVITE_REVOKED, organization=south, detail={"email": "b@s.test"}),
        "studio_north": audit_record(action=Action.STUDIO_UPDATED, organization=north),
        "north": north,
        "south": south,
    }


def _events(client, **params) -> set[int]:
    response = client.get(reverse("portal:staff-audit"), params)
    assert response.status_code == 200
    return {e.pk for e in response.context["page_obj"]}


def test_the_audit_trail_filters_by_action_and_prefix(client, programme_admin, audit_trail):
    t = audit_trail
    assert _events(client, action=Action.INVITE_REVOKED) == {t["revoke_south"].pk}
    assert _events(client, action="invite") == {t["invite_north"].pk, t["revoke_south"].pk}
    assert _events(client, action="studio") == {t["studio_north"].pk}


def test_the_audit_trail_filters_by_studio_and_actor(client, programme_admin, audit_trail):
    t = audit_trail
    assert _events(client, studio=t["north"].pk) == {t["invite_north"].pk, t["studio_north"].pk}
    assert _events(client, studio=t["south"].pk, action="invite") == {t["revoke_south"].pk}
    assert _events(client, actor="ACTOR@") == {t["invite_north"].pk}


def test_the_audit_trail_filters_by_dates_and_ignores_bad_ones(client, programme_admin, audit_trail):
    old = audit_trail["invite_north"]
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()

    assert old.pk not in _events(client, since=today.isoformat())
    assert _events(client, until=(today - timedelta(days=5)).isoformat()) == {old.pk}

    response = client.get(reverse("portal:staff-audit"), {"since": "31/02/2025", "action": "nonsense", "studio": "x"})
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 3
    ignored = [m for m in messages_of(response) if m.startswith("Filter ignored")]
    assert len(ignored) == 3


def test_the_audit_trail_shows_the_columns_and_names_the_time_zone(client, programme_admin, audit_trail, settings):
    body = client.get(reverse("portal:staff-audit")).content.decode()
    assert f"At ({settings.TIME_ZONE})" in body
    assert "Invite created" in body
    assert "actor@studio.test" in body
    assert "a@north.test" in body
    assert '<th scope="col">' in body
    assert "<caption" in body


def test_the_overview_shows_recent_activity_to_admins_only(client, audit_trail):
    admin = AdminFactory()
    client.force_login(admin)
    assert "Recent activity" in client.get(reverse("portal:staff-home")).content.decode()

    client.force_login(StaffFactory())
    body = client.get(reverse("portal:staff-home")).content.decode()
    assert "Recent activity" not in body
    assert "Pending invites" in body


def test_the_overview_counts_studios_members_invites_and_cohort_states(client, programme_admin):
    now = timezone.now()
    CohortFactory(name="Past wave", opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1))
    CohortFactory(name="Next wave", opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=30))
    membership = MembershipFactory()  # its studio's cohort is open
    InviteFactory(organization=membership.organization)

    response = client.get(reverse("portal:staff-home"))

    context = response.context
    assert (len(context["studios"]), context["member_count"], context["pending_invites"]) == (1, 1, 1)
    assert {c.name: c.window.state for c in context["cohorts"]} == {
        "Past wave": "closed",
        "Next wave": "upcoming",
        membership.organization.cohort.name: "open",
    }
    body = response.content.decode()
    assert "Opens soon" in body
    assert "Closed" in body


# --- Who may see what -------------------------------------------------------------------------------------------------
ADMIN_ONLY_GETS = ["staff-cohorts", "staff-invites", "staff-invite-upload", "staff-audit"]


def _all_staff_urls() -> list[tuple[str, str]]:
    invite = InviteFactory()
    studio, cohort = invite.organization, invite.organization.cohort
    return [
        ("get", reverse("portal:staff-home")),
        ("get", reverse("portal:staff-studios")),
        ("get", reverse("portal:staff-studio", args=[studio.pk])),
        ("get", reverse("portal:staff-cohorts")),
        ("get", reverse("portal:staff-cohort", args=[cohort.pk])),
        ("get", reverse("portal:staff-invites")),
        ("get", reverse("portal:staff-invite-upload")),
        ("post", reverse("portal:staff-invite-resend", args=[invite.pk])),
        ("post", reverse("portal:staff-invite-revoke", args=[invite.pk])),
        ("get", reverse("portal:staff-audit")),
    ]


def test_reviewers_see_the_overview_and_studios_but_not_admin_pages(client):
    reviewer = StaffFactory()
    client.force_login(reviewer)
    invite = InviteFactory()

    assert client.get(reverse("portal:staff-home")).status_code == 200
    assert client.get(reverse("portal:staff-studios")).status_code == 200
    studio_page = client.get(reverse("portal:staff-studio", args=[invite.organization.pk]))
    assert studio_page.status_code == 200
    assert "Save the studio" not in studio_page.content.decode()
    assert "Create a studio" not in client.get(reverse("portal:staff-studios")).content.decode()

    for name in ADMIN_ONLY_GETS:
        assert client.get(reverse(f"portal:{name}")).status_code == 404, name
    assert client.get(reverse("portal:staff-cohort", args=[invite.organization.cohort.pk])).status_code == 404
    assert client.post(reverse("portal:staff-invite-revoke", args=[invite.pk])).status_code == 404
    assert client.post(reverse("portal:staff-invites"), {"email": "x@y.test"}).status_code == 404
    assert client.post(reverse("portal:staff-studios"), {"name": "Sneaky", "seat_limit": 1}).status_code == 404
    studio_url = reverse("portal:staff-studio", args=[invite.organization.pk])
    assert client.post(studio_url, {"seat_limit": 99}).status_code == 404
    invite.refresh_from_db()
    assert invite.revoked_at is None
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_partners_get_404_on_every_staff_page(client):
    owner = MembershipFactory(role="owner")
    client.force_login(owner.user)

    for method, url in _all_staff_urls():
        assert getattr(client, method)(url).status_code == 404, url


def test_staff_pages_need_sign_in(client):
    for method, url in _all_staff_urls():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login"))


# --- Query counts -----------------------------------------------------------------------------------------------------
MAX_QUERIES_INVITE_LIST = 12  # 9 today: session, user, MFA check, count, page, and the two forms' selects
MAX_QUERIES_AUDIT_LIST = 10  # 6 today; headroom for the access gate


@pytest.mark.parametrize("rows", [5, 60])
def test_invite_list_queries_do_not_grow_with_rows(client, programme_admin, django_assert_max_num_queries, rows):
    studios = OrganizationFactory.create_batch(3)
    for n in range(rows):
        InviteFactory(organization=studios[n % 3], invited_by=programme_admin)

    with django_assert_max_num_queries(MAX_QUERIES_INVITE_LIST):
        response = client.get(reverse("portal:staff-invites"))

    assert len(response.context["page_obj"]) == min(rows, 50)


@pytest.mark.parametrize("rows", [5, 60])
def test_audit_list_queries_do_not_grow_with_rows(client, programme_admin, django_assert_max_num_queries, rows):
    studios = OrganizationFactory.create_batch(3)
    for n in range(rows):
        audit_record(action=Action.INVITE_CREATED, actor=programme_admin, organization=studios[n % 3], detail={"n": n})

    with django_assert_max_num_queries(MAX_QUERIES_AUDIT_LIST):
        response = client.get(reverse("portal:staff-audit"), {"action": "invite"})

    assert len(response.context["page_obj"]) == min(rows, 50)
