"""Feedback on a run, the partner's side: who may file it and on what, what is captured from the run, validation of
every field, drafts that survive a reload, revisions after submission, timecoded notes, attachments, and that
staff's internal comments never reach a partner's page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from beta.errors import FeedbackError
from beta.feedback import services
from beta.models import FeedbackNote, FeedbackReport, FeedbackRevision, Job, JobInput, JobOutput
from portal.models import Membership
from tests.factories import AssetFactory, MembershipFactory, OwnerFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Making people (password hashing) is most of these tests' time; none of them signs in by password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

VALID = {
    "overall_rating": "4",
    "quality_rating": "3",
    "usefulness_rating": "5",
    "production_fit": "with_changes",
    "hours_saved": "2.5",
    "categories": ["artefacts", "speed"],
    "text": "Good proxies; the burn-in covers the slate.",
}


def finished_job(organization, *, status=Job.Status.SUCCEEDED, video=True) -> Job:
    job = Job.objects.create(
        organization=organization,
        tool_slug="dailies",
        tool_version="1.2.0",
        status=status,
        parameters={"height": 540, "watermark": True},
    )
    for position, sha in enumerate(("aa" * 32, "bb" * 32)):
        JobInput.objects.create(job=job, asset=AssetFactory(organization=organization, sha256=sha),
                                position=position, sha256=sha)
    if video:
        JobOutput.objects.create(job=job, asset=AssetFactory(organization=organization, origin="output", fps=25,
                                                             duration_seconds=10), role="proxy", label="Review copy")
    return job


@pytest.fixture
def member(client):
    membership = OwnerFactory()
    client.force_login(membership.user)
    return membership


@pytest.fixture
def job(member):
    return finished_job(member.organization)


@pytest.fixture
def report(member, job):
    return services.feedback_start(user=member.user, job=job)


def hx(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


# --- Who may file, on what --------------------------------------------------------------------------------------------
def test_starting_feedback_captures_the_run_and_is_idempotent(member, job):
    report = services.feedback_start(user=member.user, job=job)
    assert report.status == FeedbackReport.Status.DRAFT
    assert (report.organization, report.author, report.job) == (member.organization, member.user, job)
    assert (report.tool_slug, report.tool_version) == ("dailies", "1.2.0")
    assert report.parameters == {"height": 540, "watermark": True}
    assert report.input_sha256 == ["aa" * 32, "bb" * 32]
    assert services.feedback_start(user=member.user, job=job).pk == report.pk
    assert FeedbackReport.objects.count() == 1


def test_the_job_page_offers_feedback_and_then_shows_its_status(client, member, job):
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "Give feedback" in page
    response = client.post(reverse("beta:feedback-start", args=[job.pk]))
    report = FeedbackReport.objects.get()
    assert response.url == reverse("beta:feedback-edit", args=[report.pk])
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "Give feedback" not in page
    assert "Continue your feedback" in page
    services.feedback_submit(user=member.user, report=report, data=VALID)
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert 'pill--new">New<' in page


def test_another_studio_cannot_file_on_the_job(client, job):
    outsider = OwnerFactory()
    client.force_login(outsider.user)
    assert client.post(reverse("beta:feedback-start", args=[job.pk])).status_code == 404
    with pytest.raises(FeedbackError):
        services.feedback_start(user=outsider.user, job=job)
    with pytest.raises(FeedbackError):
        services.feedback_start(user=StaffFactory(), job=job)
    assert not FeedbackReport.objects.exists()


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.RETRYING])
def test_only_finished_jobs_take_feedback(client, member, status):
    job = finished_job(member.organization, status=status)
    with pytest.raises(FeedbackError, match="finished"):
        services.feedback_start(user=member.user, job=job)
    response = client.post(reverse("beta:feedback-start", args=[job.pk]))
    assert response.url == reverse("beta:job-detail", args=[job.pk])
    assert not FeedbackReport.objects.exists()
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "Give feedback" not in page
    assert "when it has finished" in page


@pytest.mark.parametrize("status", [Job.Status.FAILED, Job.Status.CANCELED])
def test_failed_and_canceled_runs_take_feedback_too(member, status):
    job = finished_job(member.organization, status=status)
    assert services.feedback_start(user=member.user, job=job).job == job


def test_viewers_cannot_file(member, job):
    viewer = MembershipFactory(organization=member.organization, role=Membership.Role.VIEWER)
    with pytest.raises(FeedbackError, match="Viewers"):
        services.feedback_start(user=viewer.user, job=job)


def test_a_teammate_reads_a_report_but_cannot_change_it(client, member, report):
    services.feedback_submit(user=member.user, report=report, data=VALID)
    teammate = MembershipFactory(organization=member.organization)
    client.force_login(teammate.user)
    assert client.get(reverse("beta:feedback-detail", args=[report.pk])).status_code == 200
    assert client.get(reverse("beta:feedback-edit", args=[report.pk])).status_code == 404
    assert client.post(reverse("beta:feedback-draft", args=[report.pk]), {"text": "x"}).status_code == 404
    with pytest.raises(FeedbackError, match="Only the person"):
        services.feedback_save_draft(user=teammate.user, report=report, data={"text": "mine now"})
    report.refresh_from_db()
    assert report.text == VALID["text"]


# --- Validation of every field ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("overall_rating", "0", "1 to 5"),
        ("overall_rating", "6", "1 to 5"),
        ("overall_rating", "three", "1 to 5"),
        ("quality_rating", "-1", "1 to 5"),
        ("usefulness_rating", "2.5", "1 to 5"),
        ("production_fit", "maybe", "yes, with changes, or no"),
        ("hours_saved", "lots", "number of hours"),
        ("hours_saved", "1000.01", "between -1000 and 1000"),
        ("hours_saved", "-1001", "between -1000 and 1000"),
        ("hours_saved", "NaN", "number of hours"),
        ("categories", ["artefacts", "bugs"], "not one of the categories"),
        ("text", "x" * 10_001, "under 10,000 characters"),
    ],
)
def test_submit_refuses_each_bad_value_next_to_its_field(client, member, report, field, value, message):
    with pytest.raises(FeedbackError) as caught:
        services.feedback_submit(user=member.user, report=report, data={**VALID, field: value})
    assert set(caught.value.errors) == {field}
    assert message in caught.value.errors[field]
    report.refresh_from_db()
    assert report.status == "draft"
    assert report.revision == 0

    # The page shows the message next to that field, keeps the other answers, and nothing is submitted.
    response = client.post(reverse("beta:feedback-edit", args=[report.pk]), {**VALID, field: value})
    assert response.status_code == 400
    body = response.content.decode()
    assert message.split(",")[0] in body
    assert 'aria-invalid="true"' in body
    assert "Good proxies; the burn-in covers the slate." in body or field == "text"
    assert not FeedbackRevision.objects.exists()


@pytest.mark.parametrize("field", ["overall_rating", "quality_rating", "usefulness_rating", "production_fit",
                                   "hours_saved"])
def test_submit_requires_every_rating_the_fit_and_the_hours(member, report, field):
    with pytest.raises(FeedbackError) as caught:
        services.feedback_submit(user=member.user, report=report, data={**VALID, field: ""})
    assert list(caught.value.errors) == [field]


def test_categories_and_text_are_optional_and_hours_may_be_negative(member, report):
    report = services.feedback_submit(
        user=member.user, report=report, data={**VALID, "categories": [], "text": "", "hours_saved": "-0.5"}
    )
    assert report.hours_saved == Decimal("-0.50")
    assert not report.categories.exists()
    assert report.status == "new"


# --- Drafts -----------------------------------------------------------------------------------------------------------
def test_a_draft_saved_as_the_partner_types_survives_a_reload(client, member, report):
    url = reverse("beta:feedback-draft", args=[report.pk])
    response = hx(client, url, {"overall_rating": "2", "categories": ["", "controls"], "hours_saved": "0.75",
                                "text": "Halfway through my notes", "production_fit": "no"})
    assert response.status_code == 200
    assert re.search(r"Draft saved \d\d:\d\d", response.content.decode())

    page = client.get(reverse("beta:feedback-edit", args=[report.pk])).content.decode()
    assert re.search(r'name="overall_rating" value="2" checked', page)
    assert re.search(r'name="production_fit" value="no" checked', page)
    assert re.search(r'name="categories" value="controls" checked', page)
    assert not re.search(r'name="categories" value="speed" checked', page)
    assert 'value="0.75"' in page
    assert "Halfway through my notes</textarea>" in page
    assert re.search(r"Draft saved \d\d:\d\d", page)
    assert f'hx-post="{url}"' in page
    assert 'hx-trigger="input delay:800ms"' in page
    report.refresh_from_db()
    assert report.status == "draft"
    assert report.submitted_at is None

    # Unticking every category is saved too (the form always sends the empty placeholder).
    hx(client, url, {"categories": [""]})
    assert not report.categories.exists()


def test_a_draft_keeps_what_is_valid_and_names_what_is_not_yet(client, member, report):
    response = hx(client, reverse("beta:feedback-draft", args=[report.pk]),
                  {"hours_saved": "1.2.", "text": "keep me", "quality_rating": "4"})
    assert "Not kept yet" in response.content.decode()
    report.refresh_from_db()
    assert (report.text, report.quality_rating, report.hours_saved) == ("keep me", 4, None)


def test_save_draft_without_javascript_redirects_back_to_the_form(client, member, report):
    response = client.post(reverse("beta:feedback-draft", args=[report.pk]), {"text": "no js"})
    assert response.url == reverse("beta:feedback-edit", args=[report.pk])
    report.refresh_from_db()
    assert report.text == "no js"


# --- Submission and revisions -----------------------------------------------------------------------------------------
def test_submit_locks_the_report_and_edits_after_it_make_a_new_revision(client, member, report):
    response = client.post(reverse("beta:feedback-edit", args=[report.pk]), VALID)
    assert response.url == reverse("beta:feedback-detail", args=[report.pk])
    report.refresh_from_db()
    assert (report.status, report.revision) == ("new", 1)
    assert report.submitted_at is not None
    first = FeedbackRevision.objects.get(report=report, number=1)
    assert first.content["overall_rating"] == 4
    assert first.content["categories"] == ["artefacts", "speed"]

    # An edit after submission is a draft of its own: the submitted answers (what staff read) do not move.
    hx(client, reverse("beta:feedback-draft", args=[report.pk]), {"overall_rating": "1", "text": "Worse on reel 2"})
    report.refresh_from_db()
    assert (report.overall_rating, report.text) == (4, VALID["text"])
    assert report.draft_content["overall_rating"] == 1
    page = client.get(reverse("beta:feedback-edit", args=[report.pk])).content.decode()
    assert "Submit as revision 2" in page
    assert re.search(r'name="overall_rating" value="1" checked', page)
    assert "Continue your changes" in client.get(reverse("beta:feedback-detail", args=[report.pk])).content.decode()

    # Submitting the edit makes revision 2; both are kept.
    client.post(reverse("beta:feedback-edit", args=[report.pk]), {**VALID, "overall_rating": "1",
                                                                  "text": "Worse on reel 2"})
    report.refresh_from_db()
    assert (report.status, report.revision, report.overall_rating) == ("new", 2, 1)
    assert report.draft_content == {}
    contents = {r.number: r.content for r in FeedbackRevision.objects.filter(report=report)}
    assert contents[1]["overall_rating"] == 4
    assert contents[2]["overall_rating"] == 1
    assert contents[2]["text"] == "Worse on reel 2"


def test_a_revision_keeps_the_notes_and_attachments_of_its_time(member, report, job):
    services.feedback_note_add(user=member.user, report=report, seconds=1.5, text="banding",
                               output=job.job_outputs.get())
    report = services.feedback_submit(user=member.user, report=report, data=VALID)
    content = report.revisions.get().content
    assert content["notes"] == [{"seconds": 1.5, "frame": 37, "frame_out": None, "drawing": None, "text": "banding",
                                 "output_id": job.job_outputs.get().pk, "author_id": member.user.pk}]


# --- Timecoded notes --------------------------------------------------------------------------------------------------
def test_a_note_keeps_the_players_time_and_seeks_back_to_it(client, member, report, job):
    output = job.job_outputs.get()
    page = client.get(reverse("beta:feedback-edit", args=[report.pk])).content.decode()
    assert f'data-output="{output.pk}"' in page
    assert "<video" in page

    response = hx(client, reverse("beta:feedback-note-add", args=[report.pk]),
                  {"seconds": "2.48", "text": "Flicker on the left", "output": output.pk})
    body = response.content.decode()
    note = FeedbackNote.objects.get()
    assert (note.seconds, note.text, note.output) == (2.48, "Flicker on the left", output)
    assert 'data-seek="2.480"' in body
    assert "00:00:02:12" in body  # at the output's 25 fps
    assert "Flicker on the left" in body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"seconds": "-1", "text": "x"}, "seconds"),
        ({"seconds": "abc", "text": "x"}, "seconds"),
        ({"seconds": "30", "text": "x"}, "seconds"),  # past the 10 s output
        ({"seconds": "1", "text": "  "}, "text"),
    ],
)
def test_a_bad_note_is_refused(member, report, job, data, field):
    with pytest.raises(FeedbackError) as caught:
        services.feedback_note_add(user=member.user, report=report, output=job.job_outputs.get(), **data)
    assert field in caught.value.errors
    assert not FeedbackNote.objects.exists()


@pytest.mark.parametrize("seconds", ["1e308", "1e20", "11.5", "inf", "nan", "-0.5"])
def test_a_note_time_is_bounded_by_the_runs_video_even_without_choosing_it(member, report, seconds):
    with pytest.raises(FeedbackError) as caught:
        services.feedback_note_add(user=member.user, report=report, seconds=seconds, text="x")
    assert "seconds" in caught.value.errors
    assert services.feedback_note_add(user=member.user, report=report, seconds="10.5", text="x").seconds == 10.5


def test_a_run_with_no_video_takes_notes_only_at_zero(client, member):
    report = services.feedback_start(user=member.user, job=finished_job(member.organization, video=False))
    response = hx(client, reverse("beta:feedback-note-add", args=[report.pk]), {"seconds": "1e308", "text": "x"})
    assert response.status_code == 200
    assert "no video" in response.content.decode()
    assert not FeedbackNote.objects.exists()
    services.feedback_note_add(user=member.user, report=report, seconds="0", text="about the run")
    assert FeedbackNote.objects.get().seconds == 0


def test_a_note_output_id_beyond_64_bits_is_a_field_error(member, report):
    with pytest.raises(FeedbackError) as caught:
        services.feedback_note_add(user=member.user, report=report, seconds=1, text="x", output=str(2**70))
    assert "output" in caught.value.errors


def test_a_note_cannot_point_at_another_runs_output(member, report):
    other = finished_job(member.organization)
    with pytest.raises(FeedbackError) as caught:
        services.feedback_note_add(user=member.user, report=report, seconds=1, text="x",
                                   output=other.job_outputs.get())
    assert "output" in caught.value.errors


def test_a_note_can_be_deleted_by_its_author(client, member, report):
    note = services.feedback_note_add(user=member.user, report=report, seconds=0, text="gone soon")
    hx(client, reverse("beta:feedback-note-delete", args=[note.pk]), {})
    assert not FeedbackNote.objects.exists()


# --- Attachments ------------------------------------------------------------------------------------------------------
def test_an_uploaded_file_is_attached_and_another_studios_is_not(client, member, report):
    mine = AssetFactory(organization=member.organization, kind="image", original_filename="frame_0042.png",
                        status="verifying")
    theirs = AssetFactory(kind="image", original_filename="theirs.png")
    response = hx(client, reverse("beta:feedback-attach", args=[report.pk]), {"asset_id": mine.pk})
    assert "frame_0042.png" in response.content.decode()
    response = hx(client, reverse("beta:feedback-attach", args=[report.pk]), {"asset_id": theirs.pk})
    assert "not found" in response.content.decode()
    assert list(report.attachments.values_list("asset", flat=True)) == [mine.pk]
    with pytest.raises(FeedbackError):
        services.feedback_attachment_add(user=member.user, report=report, asset=theirs)
    attachment = report.attachments.get()
    hx(client, reverse("beta:feedback-attachment-remove", args=[attachment.pk]), {})
    assert not report.attachments.exists()


# --- What partners see ------------------------------------------------------------------------------------------------
def test_internal_comments_never_appear_in_any_partner_page(client, member, report, job):
    report = services.feedback_submit(user=member.user, report=report, data=VALID)
    services.feedback_note_add(user=member.user, report=report, seconds=1, text="note", output=job.job_outputs.get())
    staff = StaffFactory()
    services.feedback_comment_add(user=staff, report=report, body="INTERNAL-MARKER-7f3a do not tell the studio")
    services.feedback_reply(user=staff, report=report, body="REPLY-MARKER-91bc thanks, fixed in 1.3")
    teammate = MembershipFactory(organization=member.organization)

    pages = [
        reverse("beta:feedback-detail", args=[report.pk]),
        reverse("beta:feedback-edit", args=[report.pk]),
        reverse("beta:feedback-list"),
        reverse("beta:job-detail", args=[job.pk]),
        reverse("beta:job-list"),
        reverse("portal:dashboard"),
    ]
    for user in (member.user, teammate.user):
        client.force_login(user)
        for url in pages:
            response = client.get(url)
            if response.status_code == 404 and url.endswith("/edit/") and user == teammate.user:
                continue
            assert response.status_code == 200, url
            body = response.content.decode()
            assert "INTERNAL-MARKER-7f3a" not in body, url
            assert "internal" not in body.lower() or url not in (pages[0], pages[2]), url
    client.force_login(member.user)
    detail = client.get(pages[0]).content.decode()
    assert "REPLY-MARKER-91bc" in detail
    # ...while staff see both on their page of the same report.
    client.force_login(staff)
    staff_page = client.get(pages[0]).content.decode()
    assert "INTERNAL-MARKER-7f3a" in staff_page
    assert "REPLY-MARKER-91bc" in staff_page


def test_the_partner_list_shows_the_studios_reports_with_status_and_replies(client, member, report):
    services.feedback_submit(user=member.user, report=report, data=VALID)
    services.feedback_reply(user=StaffFactory(), report=report, body="Thanks")
    other_studio = OwnerFactory()
    elsewhere = services.feedback_start(user=other_studio.user, job=finished_job(other_studio.organization))
    body = client.get(reverse("beta:feedback-list")).content.decode()
    assert reverse("beta:feedback-detail", args=[report.pk]) in body
    assert reverse("beta:feedback-detail", args=[elsewhere.pk]) not in body
    assert reverse("beta:feedback-edit", args=[elsewhere.pk]) not in body
    assert "<strong>1</strong>" in body  # one reply
    assert 'pill--new">New<' in body
    assert client.get(reverse("beta:feedback-detail", args=[elsewhere.pk])).status_code == 404


def test_the_partner_list_costs_the_same_queries_for_1_or_10_reports(client, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("beta:feedback-list")).status_code == 200
        return len(captured)

    first = services.feedback_start(user=member.user, job=finished_job(member.organization))
    services.feedback_submit(user=member.user, report=first, data=VALID)
    one = queries()
    for _ in range(9):
        report = services.feedback_start(user=member.user, job=finished_job(member.organization))
        services.feedback_submit(user=member.user, report=report, data=VALID)
        services.feedback_reply(user=StaffFactory(), report=report, body="Noted")
    assert queries() == one


def test_staff_pages_for_partners_answer_404(client, member):
    assert client.get(reverse("beta:feedback-inbox")).status_code == 404
    assert client.post(reverse("beta:feedback-bulk"), {}).status_code == 404



def test_a_draft_is_its_authors_alone(client, member, report):
    teammate = MembershipFactory(organization=member.organization)
    client.force_login(teammate.user)
    assert client.get(reverse("beta:feedback-detail", args=[report.pk])).status_code == 404
    assert reverse("beta:feedback-detail", args=[report.pk]) not in client.get(
        reverse("beta:feedback-list")).content.decode()
    client.force_login(StaffFactory())
    assert client.get(reverse("beta:feedback-detail", args=[report.pk])).status_code == 404


def test_a_closed_cohort_makes_feedback_read_only(client, member, report):
    cohort = member.organization.cohort
    cohort.opens_at, cohort.closes_at = timezone.now() - timedelta(days=60), timezone.now() - timedelta(days=1)
    cohort.save()
    with pytest.raises(FeedbackError, match="closed"):
        services.feedback_save_draft(user=member.user, report=report, data={"text": "late"})
    with pytest.raises(FeedbackError, match="closed"):
        services.feedback_start(user=member.user, job=finished_job(member.organization))
    response = client.get(reverse("beta:feedback-edit", args=[report.pk]))
    assert response.url == reverse("beta:feedback-detail", args=[report.pk])


def test_an_edit_back_to_the_submitted_answers_leaves_nothing_pending(client, member, report):
    report = services.feedback_submit(user=member.user, report=report, data=VALID)
    report = services.feedback_save_draft(user=member.user, report=report, data={"text": "changed my mind"})
    assert report.draft_content == {"text": "changed my mind"}
    report = services.feedback_save_draft(user=member.user, report=report, data=VALID)
    assert report.draft_content == {}
    assert "Continue your changes" not in client.get(
        reverse("beta:feedback-detail", args=[report.pk])).content.decode()
