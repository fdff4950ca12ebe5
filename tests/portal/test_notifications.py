"""portal/services/notifications.py and portal/views/notifications.py: routing by preference, the daily digest, the
bell, the list page, and that a person only ever reaches their own notifications."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.errors import NotificationError
from portal.models import Notification, NotificationDigest, NotificationPreference
from portal.services import notifications as service
from portal.tasks import notifications_send_digest
from tests.factories import MembershipFactory, OwnerFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _tell(person, kind="job.finished", title="Dailies: job 7 finished", **kw):
    return service.notify(recipients=[person], kind=kind, title=title, url="/jobs/7/", **kw)


# --- Preferences and routing ------------------------------------------------------------------------------------------
def test_each_kind_has_a_default_until_the_person_chooses(django_capture_on_commit_callbacks):
    person = MembershipFactory().user
    prefs = service.preferences_for(person)
    assert prefs["job.finished"] == "email"  # emailed before there were preferences: still emailed
    assert prefs["comparison.opened"] == "in_app"
    service.preferences_set(user=person, choices={"job.finished": "digest", "comparison.opened": "email"})
    prefs = service.preferences_for(person)
    assert (prefs["job.finished"], prefs["comparison.opened"]) == ("digest", "email")


def test_a_bad_choice_changes_nothing():
    person = MembershipFactory().user
    with pytest.raises(NotificationError) as raised:
        service.preferences_set(user=person, choices={"job.finished": "digest", "survey.opened": "pigeon"})
    assert "survey.opened" in raised.value.errors
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize(("channel", "emails"), [("email", 1), ("in_app", 0), ("digest", 0)])
def test_the_person_hears_by_the_channel_they_chose(channel, emails, django_capture_on_commit_callbacks):
    person = MembershipFactory().user
    service.preferences_set(user=person, choices={"job.finished": channel})
    with django_capture_on_commit_callbacks(execute=True):
        [made] = _tell(person, body="Your Dailies job finished.")
    assert made.channel == channel
    assert len(mail.outbox) == emails
    if emails:
        assert mail.outbox[0].to == [person.email]
        assert mail.outbox[0].subject == "Dailies: job 7 finished"
        assert f"See it here: {settings.SITE_URL}/jobs/7/" in mail.outbox[0].body


def test_a_keyed_event_notifies_each_person_once(django_capture_on_commit_callbacks):
    person = MembershipFactory().user
    with django_capture_on_commit_callbacks(execute=True):
        _tell(person, dedupe_key="job.finished:7")
        _tell(person, dedupe_key="job.finished:7")
    assert Notification.objects.filter(recipient=person).count() == 1
    assert len(mail.outbox) == 1


def test_inactive_people_are_not_told():
    person = MembershipFactory(user__is_active=False).user
    assert _tell(person) == []


def test_telling_studio_people_in_one_statement_is_notify_to_those_who_may_hear_of_it(
    django_capture_on_commit_callbacks,
):
    """`tell` picks, in its one statement, the people `who_may_hear_of` picks (members and staff, active; not former
    members, not other studios' people), each once per key, by the channel each chose, emailed at their address."""
    owner = OwnerFactory()
    studio = owner.organization
    member = MembershipFactory(organization=studio).user
    digest = MembershipFactory(organization=studio).user
    inactive = MembershipFactory(organization=studio, user__is_active=False).user
    outsider = MembershipFactory().user  # another studio's
    reviewer = StaffFactory()
    service.preferences_set(user=digest, choices={"job.finished": "digest"})
    service.preferences_set(user=reviewer, choices={"job.finished": "in_app"})
    everyone = [owner.user.pk, member.pk, digest.pk, inactive.pk, outsider.pk, reviewer.pk]
    expected = service.who_may_hear_of(everyone, studio.pk)
    assert {p.pk for p in expected} == {owner.user.pk, member.pk, digest.pk, reviewer.pk}

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        made = service.tell(user_ids=everyone, organization_id=studio.pk, kind="job.finished",
                            title="Dailies: job 7 finished", url="/jobs/7/", body="Your job finished.",
                            dedupe_key="job.finished:7")
    assert sorted((n.recipient_id, n.channel) for n in made) == sorted(
        [(owner.user.pk, "email"), (member.pk, "email"), (digest.pk, "digest"), (reviewer.pk, "in_app")]
    )
    rows = Notification.objects.filter(dedupe_key="job.finished:7")
    assert sorted(rows.values_list("pk", flat=True)) == sorted(n.pk for n in made)
    assert set(rows.values_list("organization_id", "kind", "title", "url", "body")) == {
        (studio.pk, "job.finished", "Dailies: job 7 finished", "/jobs/7/", "Your job finished.")
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.user.email, member.email])
    assert f"See it here: {settings.SITE_URL}/jobs/7/" in mail.outbox[0].body
    if connection.vendor == "postgresql":
        assert len(queries) == 1  # the emails come back with the rows

    with django_capture_on_commit_callbacks(execute=True):  # the same key again: nobody is told twice
        again = service.tell(user_ids=everyone, organization_id=studio.pk, kind="job.finished",
                             title="Dailies: job 7 finished", dedupe_key="job.finished:7")
    assert again == []
    assert rows.count() == 4
    assert len(mail.outbox) == 2


def test_quota_owners_hear_of_80_then_100_percent_once_a_month():
    owner = OwnerFactory()
    member = MembershipFactory(organization=owner.organization).user
    studio = owner.organization.pk
    check = {"organization_id": studio, "quota": "jobs", "label": "jobs this month", "limit": 10, "month": "2026-12"}
    assert service.quota_check(**check, used=7) == []
    [at_80] = service.quota_check(**check, used=8)
    assert service.quota_check(**check, used=9) == []  # 80% told already this month
    [at_100] = service.quota_check(**check, used=10)
    assert at_80.recipient == at_100.recipient == owner.user
    assert at_80.title == "Your studio has used 80% of its jobs this month"
    assert at_100.title == "Your studio has used all of its jobs this month"
    assert not Notification.objects.filter(recipient=member).exists()
    assert len(service.quota_check(**(check | {"month": "2027-01"}), used=8)) == 1  # a new month


# --- The daily digest -------------------------------------------------------------------------------------------------
def test_the_digest_lists_the_days_items_once_and_runs_twice_harmlessly(django_capture_on_commit_callbacks):
    person = MembershipFactory().user
    other = MembershipFactory().user  # chose email: not in any digest
    service.preferences_set(user=person, choices={"job.finished": "digest", "survey.opened": "digest"})
    _tell(person, title="Dailies: job 7 finished")
    service.notify(recipients=[person], kind="survey.opened", title="Survey open: Weekly check-in", url="/surveys/3/")
    _tell(person, kind="comparison.opened", title="A comparison to judge: Plate 4")  # in-app only
    with django_capture_on_commit_callbacks(execute=True):
        _tell(other)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_digest() == 1  # the beat task
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_digest() == 0  # again the same day: nothing

    [digest] = mail.outbox
    assert digest.to == [person.email]
    assert digest.subject == "Your daily digest: 2 updates"
    assert digest.body.count("Dailies: job 7 finished") == 1
    assert digest.body.count("Survey open: Weekly check-in") == 1
    assert "/surveys/3/" in digest.body
    assert "Plate 4" not in digest.body
    assert NotificationDigest.objects.get().items == 2


def test_a_later_item_waits_for_the_next_days_digest(django_capture_on_commit_callbacks):
    person = MembershipFactory().user
    service.preferences_set(user=person, choices={"job.finished": "digest"})
    _tell(person, title="first")
    with django_capture_on_commit_callbacks(execute=True):
        service.digests_send()
    _tell(person, title="second")
    with django_capture_on_commit_callbacks(execute=True):
        assert service.digests_send() == 0  # one email a day at most
        assert service.digests_send(now=timezone.now() + timedelta(days=1)) == 1
    assert [("first" in m.body, "second" in m.body) for m in mail.outbox] == [(True, False), (False, True)]


def test_no_digest_when_there_is_nothing(django_capture_on_commit_callbacks):
    MembershipFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_digest() == 0
    assert mail.outbox == []
    assert not NotificationDigest.objects.exists()


def test_the_digest_is_on_the_beat_schedule():
    from config.celery import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["notifications-daily-digest"]
    assert entry["task"] == "portal.tasks.notifications_send_digest"
    assert entry["task"] in app.tasks


# --- Pages ------------------------------------------------------------------------------------------------------------
def test_the_list_shows_only_the_persons_own(client):
    person, other = MembershipFactory().user, MembershipFactory().user
    _tell(person, title="Mine: job 7 finished")
    _tell(other, title="Theirs: job 8 finished")
    client.force_login(person)
    page = client.get(reverse("portal:notifications")).content.decode()
    assert "Mine: job 7 finished" in page
    assert "Theirs" not in page
    assert "Mark all read" in page


def test_opening_marks_read_and_goes_to_its_page(client):
    person = MembershipFactory().user
    [made] = _tell(person)
    client.force_login(person)
    response = client.get(reverse("portal:notification-open", args=[made.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/jobs/7/"
    made.refresh_from_db()
    assert made.read_at is not None


def test_someone_elses_notification_is_a_404_and_stays_unread(client):
    person, staff = MembershipFactory().user, StaffFactory()
    [theirs] = _tell(MembershipFactory().user)
    for viewer in (person, staff):  # staff too: notifications are personal
        client.force_login(viewer)
        assert client.get(reverse("portal:notification-open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_only_the_persons_own(client):
    person, other = MembershipFactory().user, MembershipFactory().user
    _tell(person)
    _tell(person, title="second")
    [theirs] = _tell(other)
    client.force_login(person)
    response = client.post(reverse("portal:notifications-read-all"), follow=True)
    assert "Marked 2 notifications read." in response.content.decode()
    assert service.unread_count(person) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_bell_counts_unread_in_one_query(client):
    person = MembershipFactory().user
    _tell(person)
    _tell(person, title="second")
    _tell(MembershipFactory().user)
    client.force_login(person)
    client.get(reverse("portal:notifications-bell"))  # the session and user are loaded as on any page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portal:notifications-bell"))
    counts = [q["sql"] for q in queries.captured_queries if "portal_notification" in q["sql"]]
    assert len(counts) == 1
    assert "COUNT(" in counts[0].upper()
    body = response.content.decode()
    assert "2 unread notifications" in body
    assert 'value="2"' in body


def test_the_bell_answers_204_while_the_count_is_unchanged(client):
    person = MembershipFactory().user
    _tell(person)
    client.force_login(person)
    assert client.get(reverse("portal:notifications-bell"), {"shown": "1"}).status_code == 204
    assert "1 unread notification<" in client.get(reverse("portal:notifications-bell"), {"shown": "0"}).content.decode()


def test_the_header_has_the_bell_with_a_live_region(client):
    client.force_login(MembershipFactory().user)
    page = client.get(reverse("portal:time-zone-settings")).content.decode()
    assert 'aria-live="polite"' in page
    assert reverse("portal:notifications-bell") in page


def test_preferences_are_saved_from_the_settings_page(client):
    person = MembershipFactory().user
    client.force_login(person)
    choices = {f"pref-{k.key}": "in_app" for k in service.KINDS} | {"pref-job.finished": "digest"}
    response = client.post(reverse("portal:time-zone-settings"), {"form": "notifications", **choices})
    assert response.status_code == 302
    assert service.preferences_for(person)["job.finished"] == "digest"
    assert service.preferences_for(person)["survey.opened"] == "in_app"


def test_a_bad_preference_is_shown_next_to_its_field_and_saves_nothing(client):
    person = MembershipFactory().user
    client.force_login(person)
    choices = {f"pref-{k.key}": "in_app" for k in service.KINDS} | {"pref-job.finished": "fax"}
    response = client.post(reverse("portal:time-zone-settings"), {"form": "notifications", **choices})
    assert response.status_code == 400
    assert 'id="pref-job-finished-error"' in response.content.decode()
    assert not NotificationPreference.objects.filter(user=person).exists()
