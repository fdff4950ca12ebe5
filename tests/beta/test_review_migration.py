"""The data migration that turns feedback's timecoded notes into review notes keeps every note, its time and its
author, and leaves every revision as it was submitted. Migrated back with Django's MigrationExecutor, rows made with
the old models, migrated forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("latest_schema_after")]
# portal before the person's time zone (0012): the historical User of the BEFORE state has no such column to fill.
BEFORE = [("beta", "0009_joboutput_unique_name_per_job"), ("assets", "0005_asset_verify_heartbeat"),
          ("portal", "0011_audit_access_log")]
AFTER = [("beta", "0011_review_notes_from_timecoded_notes"), ("assets", "0006_asset_timecode_start")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_timecoded_notes_become_review_notes_with_frame_and_author():
    old = migrate(BEFORE)
    User = old.get_model("portal", "User")
    Organization = old.get_model("portal", "Organization")
    Asset = old.get_model("assets", "Asset")
    Job = old.get_model("beta", "Job")
    JobOutput = old.get_model("beta", "JobOutput")
    Report = old.get_model("beta", "FeedbackReport")
    Note = old.get_model("beta", "FeedbackNote")
    Revision = old.get_model("beta", "FeedbackRevision")

    author = User.objects.create(email="nora@example.com", full_name="Nora")
    studio = Organization.objects.create(name="Northlight", slug="northlight")
    job = Job.objects.create(organization=studio, tool_slug="dailies", tool_version="1.0.0", status="succeeded")
    ntsc = Asset.objects.create(organization=studio, kind="video", size_bytes=1, fps=23.98)
    unknown = Asset.objects.create(organization=studio, kind="video", size_bytes=1)
    out_ntsc = JobOutput.objects.create(job=job, asset=ntsc, role="proxy", label="Review copy")
    out_unknown = JobOutput.objects.create(job=job, asset=unknown, role="other", label="Other")
    report = Report.objects.create(organization=studio, job=job, author=author, tool_slug="dailies",
                                   tool_version="1.0.0", status="new", revision=1)
    notes = [
        Note.objects.create(report=report, output=out_ntsc, seconds=5.714, text="flicker"),  # frame 137 at 23.976
        Note.objects.create(report=report, output=out_unknown, seconds=1.25, text="no rate"),
        Note.objects.create(report=report, output=None, seconds=0, text="the run as a whole"),
    ]
    snapshot = {"notes": [{"seconds": n.seconds, "text": n.text, "output_id": n.output_id} for n in notes]}
    revision = Revision.objects.create(report=report, number=1, content=snapshot, submitted_by=author)

    new = migrate(AFTER)
    Note = new.get_model("beta", "FeedbackNote")
    migrated = {n.text: n for n in Note.objects.all()}
    assert set(migrated) == {"flicker", "no rate", "the run as a whole"}
    assert {n.author_id for n in migrated.values()} == {author.pk}
    assert [(migrated[n.text].seconds, migrated[n.text].created_at) for n in notes] == [
        (n.seconds, n.created_at) for n in notes
    ]
    assert migrated["flicker"].frame == 137
    assert migrated["no rate"].frame is None
    assert migrated["the run as a whole"].frame is None
    assert {n.drawing for n in migrated.values()} == {None}
    unchanged = new.get_model("beta", "FeedbackRevision").objects.get(pk=revision.pk)
    assert (unchanged.content, unchanged.submitted_at) == (snapshot, revision.submitted_at)
