"""The data migration that gives tool outputs stored before lineage existed their lineage: each output derives from
its run's first input, stacks under the upload at the head of the chain, and names the tool and version. Migrated
back with Django's MigrationExecutor, rows made with the old models, migrated forward (and back again)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("latest_schema_after")]
# portal before suspension/offboarding (0013): the historical Organization of the BEFORE state has no such columns.
BEFORE = [("beta", "0014_feedback_notes_replies_search_index"), ("assets", "0006_asset_timecode_start"),
          ("portal", "0012_user_time_zone")]
AFTER = [("beta", "0015_asset_lineage_from_job_outputs"), ("assets", "0007_asset_lineage")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _run(apps, studio, slug, version, inputs, outputs):
    Job, JobInput, JobOutput = (apps.get_model("beta", m) for m in ("Job", "JobInput", "JobOutput"))
    job = Job.objects.create(organization=studio, tool_slug=slug, tool_version=version, status="succeeded")
    for position, asset in enumerate(inputs):
        JobInput.objects.create(job=job, asset=asset, position=position, sha256="0" * 64)
    for n, asset in enumerate(outputs):
        JobOutput.objects.create(job=job, asset=asset, name=f"out{n}", label="Out")
    return job


def test_existing_outputs_get_their_lineage_and_stack_under_the_upload():
    old = migrate(BEFORE)
    Organization = old.get_model("portal", "Organization")
    Asset = old.get_model("assets", "Asset")
    studio = Organization.objects.create(name="Northlight", slug="northlight")

    def asset(name, kind="video", origin="output"):
        return Asset.objects.create(organization=studio, kind=kind, size_bytes=1, original_filename=name,
                                    origin=origin, status="ready")

    # Given: a clip with a dailies run (proxy, poster), an upscale of that poster, and a two-input comp
    clip, plate = asset("A002_C007.mov", origin="upload"), asset("bg.png", "image", origin="upload")
    proxy, poster = asset("proxy.mp4"), asset("poster.jpg", "image")
    bigger, comp = asset("poster_x4.png", "image"), asset("comp.mov")
    _run(old, studio, "dailies", "1.0.0", [clip], [proxy, poster])
    _run(old, studio, "upscale", "1.2.1", [poster], [bigger])
    _run(old, studio, "temp-comp", "1.0.0", [plate, clip], [comp])
    generated = asset("generated.png", "image")
    _run(old, studio, "generate-image", "1.0.0", [], [generated])

    # When
    new = migrate(AFTER)

    # Then
    Asset = new.get_model("assets", "Asset")
    got = {a.original_filename: (a.derived_from_id, a.lineage_root_id, a.derived_by) for a in Asset.objects.all()}
    assert got["A002_C007.mov"] == (None, None, "")
    assert got["proxy.mp4"] == (clip.pk, clip.pk, "dailies 1.0")
    assert got["poster.jpg"] == (clip.pk, clip.pk, "dailies 1.0")
    assert got["poster_x4.png"] == (poster.pk, clip.pk, "upscale 1.2.1")
    assert got["comp.mov"] == (plate.pk, plate.pk, "temp-comp 1.0")  # the first input is the one it derives from
    assert got["generated.png"] == (None, None, "generate-image 1.0")

    # And back: the lineage is cleared, nothing else changes
    old = migrate(BEFORE)
    assert old.get_model("assets", "Asset").objects.filter(original_filename="proxy.mp4").count() == 1
    migrate(AFTER)
