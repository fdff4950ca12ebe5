"""Review notes: a note is at a frame or over an in-out range, may carry a drawing (validated server side), has a
thread of replies whose internal ones partners never see, and is reached only through `for_user` (another studio's
note is a 404). Notes export to CSV with source timecodes."""

import json

import pytest
from django.urls import reverse

from beta.errors import FeedbackError
from beta.feedback import services
from beta.models import FeedbackNote, FeedbackNoteReply
from beta.review.drawing import MAX_BYTES, DrawingError, clean_drawing
from portal.errors import PermissionDeniedError
from tests.beta.test_feedback import VALID, finished_job
from tests.factories import OwnerFactory, StaffFactory

pytestmark = pytest.mark.django_db
ARROW = {"v": 1, "shapes": [{"tool": "arrow", "color": "#FF3B30", "points": [[0.2, 0.3], [0.6, 0.7]]}]}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(client):
    membership = OwnerFactory()
    client.force_login(membership.user)
    return membership


@pytest.fixture
def job(member):
    job = finished_job(member.organization)
    asset = job.job_outputs.get().asset
    asset.timecode_start = "01:00:00:00"
    asset.save()
    return job


@pytest.fixture
def report(member, job):
    report = services.feedback_start(user=member.user, job=job)
    return services.feedback_submit(user=member.user, report=report, data=VALID)


def add(member, report, job, **kwargs):
    return services.feedback_note_add(user=member.user, report=report, output=job.job_outputs.get(),
                                      text=kwargs.pop("text", "look here"), **kwargs)


# --- Frames, ranges, drawings -----------------------------------------------------------------------------------------
def test_a_note_at_a_frame_keeps_the_frame_and_its_time(member, report, job):
    note = add(member, report, job, frame=137)
    assert (note.frame, note.frame_out, note.seconds, note.author) == (137, None, 5.48, member.user)


def test_a_note_over_a_range_keeps_both_ends(member, report, job):
    note = add(member, report, job, frame="10", frame_out="20")
    assert (note.frame, note.frame_out) == (10, 20)


@pytest.mark.parametrize(("data", "field"), [
    ({"frame": 20, "frame_out": 10}, "frame_out"),
    ({"frame": -1}, "frame"),
    ({"frame": "ten"}, "frame"),
    ({"frame": 400}, "seconds"),  # 16 s into a 10 s video
    ({"frame": 1, "drawing": "{not json"}, "drawing"),
])
def test_bad_frames_and_drawings_are_refused_by_field(member, report, job, data, field):
    with pytest.raises(FeedbackError) as caught:
        add(member, report, job, **data)
    assert field in caught.value.errors


def test_a_drawing_is_validated_normalised_and_kept(member, report, job):
    note = add(member, report, job, frame=5, drawing=json.dumps(ARROW))
    assert note.drawing == {"v": 1, "shapes": [{"tool": "arrow", "color": "#ff3b30",
                                                "points": [[0.2, 0.3], [0.6, 0.7]]}]}


@pytest.mark.parametrize(("drawing", "message"), [
    ({"shapes": [{"tool": "laser", "points": [[0, 0], [1, 1]]}]}, "tool must be one of"),
    ({"shapes": [{"tool": "pen", "points": [[0, 0], [1.5, 1]]}]}, "between 0 and 1"),
    ({"shapes": [{"tool": "rect", "points": [[0, 0]]}]}, "needs 2 points"),
    ({"shapes": [{"tool": "text", "points": [[0, 0]]}]}, "needs its text"),
    ({"shapes": [{"tool": "arrow", "color": "red", "points": [[0, 0], [1, 1]]}]}, "#rrggbb"),
    ({"shapes": [{"tool": "arrow", "points": [[0, 0], [1, 1]], "onclick": "x"}]}, "unknown fields"),
    ({"shapes": [{"tool": "pen", "points": [[0, 0], [0.1, 0.1]]}] * 51}, "at most 50 shapes"),
    ({"shapes": [], "script": 1}, "only a version and its shapes"),
    ([1, 2], "object with a list of shapes"),
    ("x" * (MAX_BYTES + 1), "too large"),
])
def test_drawing_schema_errors_say_what_is_wrong(drawing, message):
    with pytest.raises(DrawingError, match=message):
        clean_drawing(drawing)


def test_an_empty_drawing_is_no_drawing():
    assert clean_drawing({"v": 1, "shapes": []}) is None
    assert clean_drawing("") is None


# --- Who writes, threads, internal comments ---------------------------------------------------------------------------
def test_staff_add_notes_on_a_submitted_report_and_they_are_marked_staff(member, report, job):
    staff = StaffFactory()
    note = services.feedback_note_add(user=staff, report=report, text="AI Studio: known issue", frame=3,
                                      output=job.job_outputs.get())
    assert note.by_staff
    assert not add(member, report, job, frame=4).by_staff


def test_internal_replies_are_for_staff_only(client, member, report, job):
    note = add(member, report, job, frame=12, drawing=ARROW)
    staff = StaffFactory()
    services.feedback_note_reply(user=staff, note=note, body="We see it too.")
    services.feedback_note_reply(user=staff, note=note, body="Probably the 1.1 regression", internal=True)
    services.feedback_note_reply(user=member.user, note=note, body="Thanks!")
    with pytest.raises(PermissionDeniedError):
        services.feedback_note_reply(user=member.user, note=note, body="sneaky", internal=True)

    payload = client.get(reverse("beta:review-report-notes", args=[report.pk])).json()
    (shown,) = payload["notes"]
    assert [r["body"] for r in shown["replies"]] == ["We see it too.", "Thanks!"]
    assert (shown["frame"], shown["timecode"], shown["side"]) == (12, "01:00:00:12", "studio")
    page = client.get(reverse("beta:feedback-detail", args=[report.pk])).content.decode()
    assert "We see it too." in page
    assert "1.1 regression" not in page

    client.force_login(staff)
    payload = client.get(reverse("beta:review-report-notes", args=[report.pk])).json()
    assert len(payload["notes"][0]["replies"]) == 3


def test_a_partner_replies_through_the_page(client, member, report, job):
    note = add(member, report, job, frame=1)
    response = client.post(reverse("beta:review-note-reply", args=[note.pk]), {"body": "see 00:12"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "see 00:12" in response.content.decode()
    assert FeedbackNoteReply.objects.get().author == member.user


# --- Isolation --------------------------------------------------------------------------------------------------------
def test_another_studios_notes_are_404_everywhere(client, member, report, job):
    note = add(member, report, job, frame=1)
    client.force_login(OwnerFactory().user)
    for url in (reverse("beta:review-report-notes", args=[report.pk]),
                reverse("beta:review-asset-notes", args=[job.job_outputs.get().asset_id]),
                reverse("beta:review-note-frame", args=[note.pk]),
                reverse("beta:review-notes-csv", args=[report.pk]),
                reverse("beta:review-notes-pdf", args=[report.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("beta:review-note-reply", args=[note.pk]), {"body": "x"}).status_code == 404
    assert not FeedbackNoteReply.objects.exists()


def test_a_teammates_draft_notes_stay_private(client, member, job):
    teammate = OwnerFactory(organization=member.organization).user
    draft = services.feedback_start(user=teammate, job=job)
    services.feedback_note_add(user=teammate, report=draft, text="wip", frame=1, output=job.job_outputs.get())
    asset_id = job.job_outputs.get().asset_id
    assert client.get(reverse("beta:review-asset-notes", args=[asset_id])).json() == {"notes": []}


# --- Export -----------------------------------------------------------------------------------------------------------
def test_notes_csv_has_source_timecodes_and_defuses_formulas(client, member, report, job):
    add(member, report, job, frame=25, frame_out=50, text="=HYPERLINK(\"x\")")
    response = client.get(reverse("beta:review-notes-csv", args=[report.pk]))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "25,50,01:00:01:00,01:00:02:00" in body
    assert "\"'=HYPERLINK" in body  # a spreadsheet reads it as text, not a formula
    assert FeedbackNote.objects.count() == 1
