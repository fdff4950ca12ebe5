"""The staff side of feedback: the inbox's filters and full-text search (`feedback_inbox`, shared with the exports),
its query count, bulk triage, the report page's triage, internal comments, and replies that are emailed."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beta.errors import FeedbackError
from beta.feedback import selectors, services
from beta.models import FeedbackCategory, FeedbackComment, FeedbackNote, FeedbackReport, FeedbackTag, Job
from portal import events
from portal.errors import PermissionDeniedError
from tests.factories import (
    AdminFactory,
    CohortFactory,
    FeedbackReportFactory,
    JobFactory,
    MembershipFactory,
    OrganizationFactory,
    OwnerFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Making people (password hashing) is most of these tests' time; none of them signs in by password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reviewer(client):
    staff = StaffFactory()
    client.force_login(staff)
    return staff


def report_for(organization, **fields) -> FeedbackReport:
    categories = fields.pop("categories", [])
    job = JobFactory(organization=organization, tool_slug=fields.get("tool_slug", "dailies"),
                     tool_version=fields.get("tool_version", "1.0.0"), status=Job.Status.SUCCEEDED)
    if "author" not in fields:  # one author per studio: making people (password hashing) is the slow part here
        membership = organization.memberships.select_related("user").first()
        fields["author"] = membership.user if membership else MembershipFactory(organization=organization).user
    report = FeedbackReportFactory(organization=organization, job=job, **fields)
    FeedbackCategory.objects.bulk_create([FeedbackCategory(report=report, category=c) for c in categories])
    return report


@pytest.fixture
def studios():
    wave_1, wave_2 = CohortFactory(name="March wave 1"), CohortFactory(name="March wave 2")
    north = OrganizationFactory(name="Northlight", cohort=wave_1)
    return north, OrganizationFactory(name="Harbour Lane", cohort=wave_2)


@pytest.fixture
def known(studios):
    """Five reports that differ in one thing each, and a draft that must never show."""
    north, harbour = studios
    now = timezone.now()
    reports = {
        "dailies_old": report_for(north, tool_slug="dailies", tool_version="1.0.0", overall_rating=5,
                                  categories=["speed"], text="Proxies arrive quickly and look clean.",
                                  submitted_at=now - dt.timedelta(days=20)),
        "dailies_new": report_for(north, tool_slug="dailies", tool_version="1.1.0", overall_rating=2,
                                  categories=["artefacts", "consistency"],
                                  text="Flickering highlights in the night exteriors.", submitted_at=now),
        "shots": report_for(harbour, tool_slug="shot-detect", tool_version="1.0.0", overall_rating=3,
                            categories=["controls"], text="Misses dissolves; threshold control would help.",
                            status="triaged", submitted_at=now - dt.timedelta(days=2)),
        "closed": report_for(harbour, tool_slug="shot-detect", tool_version="1.0.0", overall_rating=1,
                             categories=["ip_concerns"], text="Worried about where frames go.", status="closed",
                             submitted_at=now - dt.timedelta(days=5)),
        "noted": report_for(harbour, tool_slug="dailies", tool_version="1.1.0", overall_rating=4,
                            text="Watermark position is fine.", submitted_at=now - dt.timedelta(days=1)),
    }
    FeedbackNote.objects.create(report=reports["noted"], seconds=3.2, text="logo overlaps the slate")
    report_for(north, status="draft", submitted_at=None, text="Flickering draft never submitted", overall_rating=1)
    return reports


def ids(queryset) -> set[int]:
    return {r.pk for r in queryset}


# --- Filters ----------------------------------------------------------------------------------------------------------
def test_every_filter_narrows_the_inbox_and_drafts_never_show(reviewer, known, studios):
    north, harbour = studios
    k = {name: r.pk for name, r in known.items()}

    def inbox(**params):
        return ids(selectors.feedback_inbox(user=reviewer, params=params))

    assert inbox() == set(k.values())
    assert inbox(tool="shot-detect") == {k["shots"], k["closed"]}
    assert inbox(tool="dailies", version="1.1.0") == {k["dailies_new"], k["noted"]}
    assert inbox(studio=str(north.pk)) == {k["dailies_old"], k["dailies_new"]}
    assert inbox(cohort=str(harbour.cohort_id)) == {k["shots"], k["closed"], k["noted"]}
    assert inbox(rating="2") == {k["dailies_new"]}
    assert inbox(category="artefacts") == {k["dailies_new"]}
    assert inbox(category="controls") == {k["shots"]}
    assert inbox(status="closed") == {k["closed"]}
    assert inbox(status="triaged") == {k["shots"]}
    assert inbox(has_notes="yes") == {k["noted"]}
    assert inbox(has_notes="no") == set(k.values()) - {k["noted"]}
    today = timezone.now().date()
    assert inbox(date_from=str(today - dt.timedelta(days=3))) == {k["dailies_new"], k["shots"], k["noted"]}
    assert inbox(date_to=str(today - dt.timedelta(days=3))) == {k["dailies_old"], k["closed"]}
    assert inbox(q="dissolves") == {k["shots"]}
    assert inbox(tool="dailies", studio=str(harbour.pk), has_notes="yes") == {k["noted"]}
    # Nonsense values are ignored rather than failing the page.
    assert inbox(rating="9", status="draft", studio="x", date_from="yesterday") == set(k.values())


def test_the_inbox_takes_a_querydict_as_pages_and_exports_send_it(reviewer, known):
    params = QueryDict("tool=shot-detect&status=closed")
    assert ids(selectors.feedback_inbox(user=reviewer, params=params)) == {known["closed"].pk}


def test_tags_and_assignee_filter_too(reviewer, known):
    services.feedback_triage(user=reviewer, reports=[known["shots"], known["noted"]], add_tags=["Banding"])
    services.feedback_triage(user=reviewer, reports=[known["noted"]], assignee=reviewer)
    assert ids(selectors.feedback_inbox(user=reviewer, params={"tag": "banding"})) == {
        known["shots"].pk, known["noted"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"assignee": "me"})) == {known["noted"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"assignee": str(reviewer.pk)})) == {known["noted"].pk}
    assert known["noted"].pk not in ids(selectors.feedback_inbox(user=reviewer, params={"assignee": "none"}))


def test_full_text_search_finds_words_in_the_text(reviewer, known):
    found = ids(selectors.feedback_inbox(user=reviewer, params={"q": "flickering"}))
    assert found == {known["dailies_new"].pk}  # the draft with the same word is not in the inbox


def test_search_finds_words_in_notes_note_replies_and_replies(reviewer, known, studios):
    """Both backends: a word only in a timecoded note, a reply on a note or a reply to the studio finds its report;
    an internal comment's words do not (the inbox search is over what the studio and staff wrote to each other)."""
    note = FeedbackNote.objects.get(report=known["noted"])
    note.replies.create(body="Moved the bug to the compositor backlog", author=reviewer)
    FeedbackComment.objects.create(report=known["shots"], author=reviewer, kind="reply", body="Threshold ships in 1.3")
    FeedbackComment.objects.create(report=known["closed"], author=reviewer, kind="internal", body="zebra crossing")
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "slate"})) == {known["noted"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "compositor"})) == {known["noted"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "ships"})) == {known["shots"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "zebra"})) == set()
    # The report's own text still matches, once, even with a note that matches too.
    FeedbackNote.objects.create(report=known["dailies_new"], seconds=1.0, text="flickering again at 01:02")
    assert list(selectors.feedback_inbox(user=reviewer, params={"q": "flickering"}).values_list("pk", flat=True)) == [
        known["dailies_new"].pk]


def test_postgres_search_is_stemmed(reviewer, known, postgres_only):
    # "flicker" matches "Flickering", "proxy" matches "Proxies": PostgreSQL's English stemming, not a substring.
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "flicker"})) == {known["dailies_new"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "proxy"})) == {known["dailies_old"].pk}
    assert ids(selectors.feedback_inbox(user=reviewer, params={"q": "proxy -clean"})) == set()


def test_partners_get_nothing_from_the_inbox_selector(known, studios):
    partner = OwnerFactory(organization=studios[0]).user
    assert not selectors.feedback_inbox(user=partner, params={}).exists()


def test_the_inbox_page_shows_filtered_rows_and_keeps_the_filters(client, reviewer, known):
    response = client.get(reverse("beta:feedback-inbox"), {"tool": "shot-detect", "status": "triaged"})
    body = response.content.decode()
    assert reverse("beta:feedback-detail", args=[known["shots"].pk]) in body
    assert reverse("beta:feedback-detail", args=[known["closed"].pk]) not in body
    assert '<option value="triaged" selected>' in body
    assert "Harbour Lane" in body
    assert "Misses dissolves" in body


def test_the_inbox_is_paginated(client, reviewer, studios):
    for n in range(27):
        report_for(studios[0], text=f"report number {n}", submitted_at=timezone.now() - dt.timedelta(minutes=n))
    first = client.get(reverse("beta:feedback-inbox")).content.decode()
    assert "Page 1 of 2" in first
    assert first.count('name="report"') == 25
    second = client.get(reverse("beta:feedback-inbox"), {"page": 2}).content.decode()
    assert second.count('name="report"') == 2


def test_the_inbox_query_count_does_not_grow_with_rows(client, reviewer, studios, django_assert_max_num_queries):
    def make(n):
        for i in range(n):
            report = report_for(studios[i % 2], categories=["speed", "artefacts"], text=f"row {i}")
            FeedbackNote.objects.create(report=report, seconds=1, text="n")
            services.feedback_triage(user=reviewer, reports=[report], add_tags=["a", "b"], assignee=reviewer)
            FeedbackComment.objects.create(report=report, author=reviewer, kind="reply", body="r")

    make(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("beta:feedback-inbox")).status_code == 200
    make(23)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(reverse("beta:feedback-inbox"), {"q": "row"}).content.decode()
    assert body.count('name="report"') == 25


def test_partners_cannot_open_the_inbox(client, studios):
    client.force_login(OwnerFactory(organization=studios[0]).user)
    assert client.get(reverse("beta:feedback-inbox")).status_code == 404


# --- Bulk triage ------------------------------------------------------------------------------------------------------
def test_bulk_actions_assign_tag_and_change_status(client, reviewer, known):
    colleague = AdminFactory()
    chosen = [known["dailies_new"].pk, known["shots"].pk]
    here = reverse("beta:feedback-inbox") + "?tool=dailies"
    url = reverse("beta:feedback-bulk")

    response = client.post(url, {"report": chosen, "action": "assign", "assignee": colleague.pk, "next": here})
    assert response.url == here
    response = client.post(url, {"report": chosen, "action": "tag", "tags": "Banding, night exteriors"})
    response = client.post(url, {"report": chosen, "action": "status", "status": "actioned"})
    for pk in chosen:
        report = FeedbackReport.objects.get(pk=pk)
        assert report.assignee == colleague
        assert set(report.tags.values_list("name", flat=True)) == {"banding", "night exteriors"}
        assert report.status == "actioned"
        assert report.triaged_at is not None
    untouched = FeedbackReport.objects.get(pk=known["noted"].pk)
    assert (untouched.status, untouched.assignee, untouched.tags.count()) == ("new", None, 0)

    client.post(url, {"report": chosen, "action": "unassign"})
    assert not FeedbackReport.objects.filter(pk__in=chosen, assignee__isnull=False).exists()
    assert FeedbackTag.objects.count() == 2


def test_bulk_actions_explain_what_is_missing_and_change_nothing(client, reviewer, known):
    url = reverse("beta:feedback-bulk")
    response = client.post(url, {"action": "status", "status": "closed"}, follow=True)
    assert "Tick at least one report first." in response.content.decode()
    response = client.post(url, {"report": [known["shots"].pk], "action": "status"}, follow=True)
    assert "Choose the new status." in response.content.decode()
    assert FeedbackReport.objects.get(pk=known["shots"].pk).status == "triaged"


def test_triage_never_touches_drafts_and_checks_its_input(reviewer, studios):
    draft = report_for(studios[0], status="draft", submitted_at=None)
    assert services.feedback_triage(user=reviewer, reports=[draft], status="closed") == 0
    draft.refresh_from_db()
    assert draft.status == "draft"
    submitted = report_for(studios[0])
    with pytest.raises(FeedbackError) as caught:
        services.feedback_triage(user=reviewer, reports=[submitted], status="draft")
    assert "status" in caught.value.errors
    with pytest.raises(FeedbackError) as caught:
        services.feedback_triage(user=reviewer, reports=[submitted], assignee=OwnerFactory().user)
    assert "assignee" in caught.value.errors
    with pytest.raises(PermissionDeniedError):
        services.feedback_triage(user=OwnerFactory().user, reports=[submitted], status="closed")


def test_the_report_page_triages_one_report(client, reviewer, known):
    report = known["noted"]
    services.feedback_triage(user=reviewer, reports=[report], add_tags=["old"])
    response = client.post(reverse("beta:feedback-triage", args=[report.pk]),
                           {"status": "triaged", "assignee": reviewer.pk, "tags": "watermark, Slate"})
    assert response.url == reverse("beta:feedback-detail", args=[report.pk])
    report.refresh_from_db()
    assert (report.status, report.assignee) == ("triaged", reviewer)
    assert set(report.tags.values_list("name", flat=True)) == {"watermark", "slate"}
    page = client.get(reverse("beta:feedback-detail", args=[report.pk])).content.decode()
    assert "logo overlaps the slate" in page  # the timecoded note
    assert "00:00:03" in page


# --- Comments and replies ---------------------------------------------------------------------------------------------
def test_a_reply_is_emailed_to_the_author_and_announced(client, reviewer, known, django_capture_on_commit_callbacks):
    report = known["dailies_new"]
    seen = []
    events.subscribe(seen.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("beta:feedback-comment", args=[report.pk]),
                               {"kind": "reply", "body": "Thanks: 1.2 fixes the flicker."})
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.to == [report.author.email]
    assert "Thanks: 1.2 fixes the flicker." in email.body
    assert reverse("beta:feedback-detail", args=[report.pk]) in email.body
    [event] = [e for e in seen if e.type == "feedback.replied"]
    assert event.organization_id == report.organization_id
    assert event.data["report_id"] == report.pk
    assert FeedbackComment.objects.get().kind == "reply"

    # The partner sees the reply on their report.
    client.force_login(report.author)
    assert "Thanks: 1.2 fixes the flicker." in client.get(
        reverse("beta:feedback-detail", args=[report.pk])).content.decode()


def test_an_internal_comment_is_not_emailed(client, reviewer, known, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("beta:feedback-comment", args=[known["shots"].pk]),
                    {"kind": "internal", "body": "Looks like the 0.3 threshold issue."})
    assert mail.outbox == []
    assert FeedbackComment.objects.get().kind == "internal"


def test_an_empty_reply_is_refused_next_to_the_field(client, reviewer, known):
    response = client.post(reverse("beta:feedback-comment", args=[known["shots"].pk]), {"kind": "reply", "body": " "})
    assert response.status_code == 400
    assert "Write something first." in response.content.decode()
    assert not FeedbackComment.objects.exists()


def test_only_staff_comment_or_reply(known):
    partner = OwnerFactory().user
    with pytest.raises(PermissionDeniedError):
        services.feedback_reply(user=partner, report=known["shots"], body="hi")
    with pytest.raises(PermissionDeniedError):
        services.feedback_comment_add(user=partner, report=known["shots"], body="hi")



def test_postgres_search_can_use_its_index(reviewer, known, postgres_only):
    # The migration's GIN expression must be the one the selector builds, or the planner can never use it.
    query = selectors.feedback_inbox(user=reviewer, params={"q": "banding"}).values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "beta_feedback_text_fts" in plan, plan


def test_the_inbox_export_links_carry_its_filters(reviewer, known, client):
    """The export buttons export exactly the reports the filtered inbox shows."""
    import csv
    import html
    import io
    import re

    page = client.get(reverse("beta:feedback-inbox"), {"tool": "shot-detect", "status": "closed"})
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]*format=csv[^"]*)"', page.content.decode())]
    assert len(hrefs) == 1
    response = client.get(hrefs[0])
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(row[rows[0].index("report_id")]) for row in rows[1:]] == [known["closed"].pk]
    assert re.search(r'href="[^"]*format=xlsx[^"]*status=closed', page.content.decode())


def test_postgres_note_and_reply_search_can_use_their_indexes(reviewer, known, postgres_only):
    query = selectors.feedback_inbox(user=reviewer, params={"q": "banding"}).values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("beta_feedback_text_fts", "beta_feedbacknote_text_fts", "beta_feedbacknotereply_body_fts",
                  "beta_feedbackcomment_body_fts"):
        assert index in plan, plan


def _form(html: str, kind: str) -> str:
    """The <form> on the staff report page whose hidden kind is `kind`."""
    for chunk in html.split("<form")[1:]:
        form = chunk.split("</form>")[0]
        if f'name="kind" value="{kind}"' in form:
            return form
    raise AssertionError(f"no {kind} form")


def test_reply_and_internal_comment_are_separate_forms_styled_for_what_they_do(client, reviewer, known):
    html = client.get(reverse("beta:feedback-detail", args=[known["shots"].pk])).content.decode()
    reply, internal = _form(html, "reply"), _form(html, "internal")
    assert "Reply to studio" in reply
    assert "btn--primary" in reply
    assert "Internal comment" in internal
    assert "Only AI Studio staff see this" in internal
    assert "btn--primary" not in internal
    assert "btn--secondary" in internal
    assert 'value="reply"' not in internal  # no send button hides in the internal form


def test_posting_the_internal_form_never_creates_a_partner_visible_reply(client, reviewer, known,
                                                                         django_capture_on_commit_callbacks):
    report = known["shots"]
    url = reverse("beta:feedback-comment", args=[report.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"kind": "internal", "body": "Staff-only note one."})
        client.post(url, {"body": "Staff-only note two."})  # a form without its kind never becomes a reply
        client.post(url, {"kind": "REPLY ", "body": "Staff-only note three."})
    assert set(FeedbackComment.objects.values_list("kind", flat=True)) == {"internal"}
    assert mail.outbox == []
    assert selectors.report_replies(report) == []
    client.force_login(report.author)
    partner_page = client.get(reverse("beta:feedback-detail", args=[report.pk])).content.decode()
    assert "Staff-only note" not in partner_page
    # An empty internal comment is refused next to the internal form's field, not the reply's.
    client.force_login(reviewer)
    response = client.post(url, {"kind": "internal", "body": " "})
    assert response.status_code == 400
    assert 'id="i-body-error"' in response.content.decode()
