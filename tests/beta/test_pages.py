"""The beta's pages: tool catalogue, run forms, job lists (live rows), the job page (live block, outputs), cancel,
retry, the staff job list and the admin. Jobs are made directly in the database; no worker runs here."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assets.models import Asset, Rendition
from beta.models import Job, JobInput, JobOutput, ToolSwitch
from tests.factories import (
    AdminFactory,
    AssetFactory,
    CohortFactory,
    MembershipFactory,
    OrganizationFactory,
    OwnerFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    return owner


@pytest.fixture
def clip(owner):
    return AssetFactory(organization=owner.organization, original_filename="A001_C002.mov", sha256="ab" * 32)


def make_job(organization, *, asset=None, user=None, tool_slug="noop", status=Job.Status.QUEUED, **fields) -> Job:
    asset = asset or AssetFactory(organization=organization)
    job = Job.objects.create(
        organization=organization, submitted_by=user, tool_slug=tool_slug, tool_version="1.0.0", status=status, **fields
    )
    JobInput.objects.create(job=job, asset=asset, position=0, sha256=asset.sha256 or "cd" * 32)
    return job


def run_form(client, tool_slug):
    """GET the run form and return the one-time token it carries."""
    body = client.get(reverse("beta:submit", args=[tool_slug])).content.decode()
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', body).group(1)


# --- Catalogue --------------------------------------------------------------------------------------------------------
def test_catalogue_shows_each_tool_with_what_it_takes_makes_and_where_it_runs(client, owner):
    body = client.get(reverse("beta:catalogue")).content.decode()
    assert "Dailies and proxies" in body
    assert "Shot detection and cut list" in body
    assert "v1.0.0" in body
    assert "Accepts" in body
    assert "Video" in body
    assert "CPU" in body
    assert reverse("beta:submit", args=["dailies"]) in body
    assert "Available" in body


def test_a_tool_not_offered_to_the_cohort_says_why_and_has_no_run_button(client, owner):
    ToolSwitch.objects.create(slug="noop", all_cohorts=False)
    ToolSwitch.objects.create(slug="fail", enabled=False, note="Paused while we fix a colour bug.")
    body = client.get(reverse("beta:catalogue")).content.decode()
    assert "This tool is not offered to your cohort." in body
    assert "Paused while we fix a colour bug." in body
    assert reverse("beta:submit", args=["noop"]) not in body
    assert reverse("beta:submit", args=["fail"]) not in body
    assert reverse("beta:submit", args=["slow"]) in body


def test_a_closed_cohort_closes_every_tool_and_says_so(client):
    cohort = CohortFactory(opens_at=timezone.now() - timedelta(days=30), closes_at=timezone.now() - timedelta(days=1))
    member = MembershipFactory(organization=OrganizationFactory(cohort=cohort))
    client.force_login(member.user)
    body = client.get(reverse("beta:catalogue")).content.decode()
    assert "Your cohort has closed; the beta is read-only." in body
    assert "Run " not in body
    assert reverse("beta:submit", args=["dailies"]) not in body
    # The run form says the same and offers no button.
    form = client.get(reverse("beta:submit", args=["dailies"])).content.decode()
    assert "Your cohort has closed" in form
    assert 'type="submit" class="btn btn--primary"' not in form


def test_staff_have_their_own_pages_not_the_catalogue(client):
    client.force_login(StaffFactory())
    assert client.get(reverse("beta:catalogue")).status_code == 404
    assert client.get(reverse("beta:submit", args=["noop"])).status_code == 404
    assert client.get(reverse("beta:job-list")).status_code == 404


# --- Run form ---------------------------------------------------------------------------------------------------------
def test_run_form_is_generated_from_the_tools_schema(client, owner, clip):
    AssetFactory(organization=owner.organization, kind="image", original_filename="still.png")
    AssetFactory(organization=owner.organization, original_filename="uploading.mov", status="uploading")
    AssetFactory(original_filename="their_plate.mov")
    body = client.get(reverse("beta:submit", args=["dailies"])).content.decode()
    # An enum is a select, a boolean a checkbox, a string with a pattern a text input with the pattern and help.
    assert re.search(r'<select name="height"[^>]*>', body)
    assert '<option value="720" selected>720</option>' in body
    assert re.search(r'<input type="checkbox" name="watermark"[^>]*checked', body)
    assert re.search(r'<input type="text" name="start_timecode" value="00:00:00:00"[^>]*pattern="', body)
    assert "Used when the file carries no timecode of its own" in body
    assert re.search(r'<input type="number" name="crf" value="23" min="18" max="30" step="1"', body)
    assert "Quality (CRF)" in body
    assert "Burn in timecode" in body
    # The picker: only the studio's ready files of accepted kinds, as radio buttons (one input).
    assert f'type="radio" name="assets" value="{clip.pk}"' in body
    assert "A001_C002.mov" in body
    assert "still.png" not in body
    assert "uploading.mov" not in body
    assert "their_plate.mov" not in body
    assert 'name="idempotency_key"' in body


def test_number_fields_get_their_bounds_and_any_step(client, owner, clip):
    body = client.get(reverse("beta:submit", args=["slow"])).content.decode()
    assert re.search(r'<input type="number" name="seconds" value="5" min="0.1" max="120" step="any"', body)
    assert "Seconds" in body  # no title: the property name, humanised


def test_run_form_without_files_says_to_upload_one(client, owner):
    body = client.get(reverse("beta:submit", args=["dailies"])).content.decode()
    assert "No video files ready" in body
    assert reverse("assets:upload") in body


def test_unknown_tool_is_404(client, owner):
    assert client.get(reverse("beta:submit", args=["no-such-tool"])).status_code == 404


def test_submitting_the_form_creates_the_job_and_opens_its_page(
    client, owner, clip, django_capture_on_commit_callbacks
):
    token = run_form(client, "slow")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("beta:submit", args=["slow"]), {"assets": clip.pk, "seconds": "2.5", "idempotency_key": token}
        )
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("beta:job-detail", args=[job.pk])
    assert callbacks  # dispatch is sent after commit
    assert job.tool_slug == "slow"
    assert job.parameters == {"seconds": 2.5}
    assert job.submitted_by == owner.user
    assert job.idempotency_key == token
    assert list(job.inputs.all()) == [clip]
    page = client.get(response["Location"]).content.decode()
    assert "is queued as job" in page


def test_types_are_converted_and_unticked_checkboxes_are_false(client, owner, clip):
    response = client.post(
        reverse("beta:submit", args=["dailies"]),
        {"assets": clip.pk, "height": "480", "timecode": "on", "start_timecode": "01:00:00:00", "crf": "20"},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.parameters == {
        "format": "h264",
        "height": 480,
        "watermark": False,
        "timecode": True,
        "start_timecode": "01:00:00:00",
        "reel_name": "",
        "crf": 20,
    }


def test_a_parameter_out_of_bounds_is_shown_next_to_its_field_and_creates_nothing(client, owner, clip):
    response = client.post(reverse("beta:submit", args=["slow"]), {"assets": clip.pk, "seconds": "999"})
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="id_seconds_error"><li>Must be between 0.1 and 120.</li>', body)
    assert 'aria-invalid="true"' in body
    assert "No job was created." in body
    assert not Job.objects.exists()
    # What was typed stays in the form, and the file stays chosen.
    assert 'value="999"' in body
    assert f'value="{clip.pk}" id="asset-{clip.pk}" checked' in body


def test_a_timecode_in_the_wrong_form_is_a_field_error(client, owner, clip):
    response = client.post(reverse("beta:submit", args=["dailies"]), {"assets": clip.pk, "start_timecode": "1 hour"})
    assert re.search(r'id="id_start_timecode_error"><li>Not in the expected form', response.content.decode())
    assert not Job.objects.exists()


@pytest.mark.parametrize(("tool", "field", "value", "message"), [
    ("slow", "seconds", "ten", "Enter a number."),
    ("dailies", "crf", "2.5", "Enter a whole number."),
    ("dailies", "height", "721", "Select a valid choice."),
])  # fmt: skip
def test_a_value_of_the_wrong_type_is_a_field_error(client, owner, clip, tool, field, value, message):
    response = client.post(reverse("beta:submit", args=[tool]), {"assets": clip.pk, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_no_file_chosen_is_a_field_error(client, owner, clip):
    body = client.post(reverse("beta:submit", args=["noop"]), {}).content.decode()
    assert "Choose a file to run the tool on." in body
    assert not Job.objects.exists()
    # A parameter out of bounds is reported at the same time, not on the next attempt.
    both = client.post(reverse("beta:submit", args=["slow"]), {"seconds": "999"}).content.decode()
    assert "Choose a file to run the tool on." in both
    assert "Must be between 0.1 and 120." in both


def test_another_studios_file_is_refused(client, owner, clip):
    theirs = AssetFactory(original_filename="their_plate.mov")
    body = client.post(reverse("beta:submit", args=["noop"]), {"assets": theirs.pk}).content.decode()
    assert f"File {theirs.pk} is not one of your studio" in body
    assert "No job was created." in body
    assert not Job.objects.exists()


def test_a_file_of_the_wrong_kind_is_refused(client, owner):
    still = AssetFactory(organization=owner.organization, kind="image", original_filename="still.png")
    body = client.post(reverse("beta:submit", args=["dailies"]), {"assets": still.pk}).content.decode()
    assert "Dailies and proxies works on video; still.png is image." in body
    assert not Job.objects.exists()


def test_a_double_click_makes_one_job(client, owner, clip):
    token = run_form(client, "noop")
    first = client.post(reverse("beta:submit", args=["noop"]), {"assets": clip.pk, "idempotency_key": token})
    second = client.post(reverse("beta:submit", args=["noop"]), {"assets": clip.pk, "idempotency_key": token})
    assert Job.objects.count() == 1
    assert first["Location"] == second["Location"] == reverse("beta:job-detail", args=[Job.objects.get().pk])
    # A fresh form has a fresh token.
    assert run_form(client, "noop") != token


def test_the_monthly_quota_is_shown_at_the_top(client, owner, clip):
    owner.organization.monthly_job_quota = 0
    owner.organization.save()
    body = client.post(reverse("beta:submit", args=["noop"]), {"assets": clip.pk}).content.decode()
    assert "Your studio has run 0 of its 0 jobs this month." in body
    assert not Job.objects.exists()


def test_viewers_cannot_run_tools(client):
    viewer = MembershipFactory(role="viewer")
    clip = AssetFactory(organization=viewer.organization)
    client.force_login(viewer.user)
    catalogue = client.get(reverse("beta:catalogue")).content.decode()
    assert "running tools needs the member role" in catalogue
    assert reverse("beta:submit", args=["noop"]) not in catalogue
    body = client.post(reverse("beta:submit", args=["noop"]), {"assets": clip.pk}).content.decode()
    assert "running tools needs the member role" in body
    assert not Job.objects.exists()


# --- Job list ---------------------------------------------------------------------------------------------------------
def test_job_list_shows_the_studios_jobs_with_status_progress_and_timings(client, owner, clip):
    started = timezone.now() - timedelta(minutes=2)
    running = make_job(
        owner.organization, asset=clip, user=owner.user, tool_slug="slow", status="running", progress=40,
        stage="Slept 2.0 of 5 s", started_at=started,
    )  # fmt: skip
    make_job(owner.organization, tool_slug="noop", status="succeeded", started_at=started, finished_at=timezone.now())
    theirs = make_job(OrganizationFactory(), tool_slug="fail")
    body = client.get(reverse("beta:job-list")).content.decode()
    assert reverse("beta:job-detail", args=[running.pk]) in body
    assert reverse("beta:job-detail", args=[theirs.pk]) not in body
    assert "Diagnostics: slow" in body
    assert "A001_C002.mov" in body
    assert '<span class="pill pill--running">Running</span>' in body
    assert "40% · Slept 2.0 of 5 s" in body
    assert "left" in body  # time left, from the progress rate
    assert owner.user.get_short_name() in body
    assert "UTC" in body  # absolute times name their zone
    assert "00:02:00" in body  # the finished job's duration
    # Something is active: the rows refresh themselves.
    assert 'hx-trigger="every 3s"' in body
    assert reverse("beta:job-list-rows") in body


def test_job_list_filters_by_status_and_tool_and_ignores_bad_values(client, owner):
    failed = make_job(owner.organization, tool_slug="fail", status="failed")
    done = make_job(owner.organization, tool_slug="noop", status="succeeded")
    by_status = client.get(reverse("beta:job-list"), {"status": "failed"}).content.decode()
    assert reverse("beta:job-detail", args=[failed.pk]) in by_status
    assert reverse("beta:job-detail", args=[done.pk]) not in by_status
    by_tool = client.get(reverse("beta:job-list"), {"tool": "noop"}).content.decode()
    assert reverse("beta:job-detail", args=[done.pk]) in by_tool
    assert reverse("beta:job-detail", args=[failed.pk]) not in by_tool
    bad = client.get(reverse("beta:job-list"), {"status": "<script>", "tool": "nope", "page": "x"})
    assert bad.status_code == 200
    assert reverse("beta:job-detail", args=[failed.pk]) in bad.content.decode()
    assert reverse("beta:job-detail", args=[done.pk]) in bad.content.decode()
    # Nothing active: no polling.
    assert "every 3s" not in bad.content.decode()
    assert "Nothing matches" in client.get(reverse("beta:job-list"), {"status": "running"}).content.decode()


def test_empty_job_list_points_to_the_tools(client, owner):
    body = client.get(reverse("beta:job-list")).content.decode()
    assert "No jobs yet" in body
    assert reverse("beta:catalogue") in body


def test_live_rows_are_the_table_body_with_the_same_filters(client, owner):
    active = make_job(owner.organization, tool_slug="slow", status="running", progress=10)
    other = make_job(owner.organization, tool_slug="noop", status="queued")
    response = client.get(reverse("beta:job-list-rows"), {"tool": "slow"})
    body = response.content.decode().strip()
    assert body.startswith('<tbody id="job-rows"')
    assert "<html" not in body
    assert reverse("beta:job-detail", args=[active.pk]) in body
    assert reverse("beta:job-detail", args=[other.pk]) not in body
    assert "tool=slow" in body  # the next poll keeps the filter
    Job.objects.filter(pk=active.pk).update(status="succeeded", progress=100)
    finished = client.get(reverse("beta:job-list-rows"), {"tool": "slow"}).content.decode()
    assert "hx-trigger" not in finished  # polling stops once nothing shown is active


def test_job_list_paginates_and_its_query_count_does_not_grow_with_rows(
    client, owner, clip, django_assert_max_num_queries
):
    for _ in range(5):
        make_job(owner.organization, asset=clip, user=owner.user, status="running", progress=50)
    with django_assert_max_num_queries(10):
        client.get(reverse("beta:job-list"))
    with django_assert_max_num_queries(10):
        client.get(reverse("beta:job-list-rows"))
    for _ in range(35):
        make_job(owner.organization, user=owner.user, status="succeeded")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("beta:job-list"))
    assert "Page 1 of 2" in response.content.decode()
    with django_assert_max_num_queries(10):
        client.get(reverse("beta:job-list-rows"), {"page": "2"})


# --- Job page ---------------------------------------------------------------------------------------------------------
def test_job_page_shows_inputs_parameters_timings_and_the_live_block(client, owner, clip):
    log = "".join(f"12:00:{i:02d} line {i}\n" for i in range(40))
    job = make_job(
        owner.organization, asset=clip, user=owner.user, tool_slug="dailies", status="running", progress=25,
        stage="Encoding", started_at=timezone.now() - timedelta(seconds=60), attempts=1, log=log,
        parameters={"height": 720, "watermark": True, "crf": 23},
    )  # fmt: skip
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "Dailies and proxies" in body
    assert reverse("assets:detail", args=[clip.pk]) in body
    assert "A001_C002.mov" in body
    assert "abababababab…" in body  # the input's fingerprint, short
    assert "Height (lines)" in body
    assert "<code>720</code>" in body
    assert "<code>Yes</code>" in body
    assert "25% · Encoding" in body
    assert "about 3 min left" in body  # a quarter done in a minute: three more
    assert "line 39" in body
    assert "line 10" in body
    assert "line 9\n" not in body  # only the last 30 lines
    assert 'aria-live="polite"' in body
    assert f'hx-get="{reverse("beta:job-live", args=[job.pk])}?was=active"' in body
    assert 'hx-trigger="every 2s"' in body
    assert reverse("beta:job-cancel", args=[job.pk]) in body
    assert reverse("beta:job-retry", args=[job.pk]) not in body
    assert "The outputs appear here when the job has finished." in body


def test_live_block_returns_progress_and_asks_for_a_reload_when_the_job_finishes(client, owner):
    job = make_job(owner.organization, status="running", progress=60, stage="Halfway")
    live = client.get(reverse("beta:job-live", args=[job.pk]), {"was": "active"})
    body = live.content.decode()
    assert "60% · Halfway" in body
    assert 'aria-valuenow="60"' in body
    assert "<html" not in body
    assert "HX-Refresh" not in live
    Job.objects.filter(pk=job.pk).update(status="failed", error="The clip has no video stream.")
    finished = client.get(reverse("beta:job-live", args=[job.pk]), {"was": "active"})
    assert 'id="job-status" class="pill pill--running" hx-swap-oob="true"' in body  # the header's pill follows
    assert finished["HX-Refresh"] == "true"
    assert "The clip has no video stream." in finished.content.decode()
    assert "hx-trigger" not in finished.content.decode()
    # A page that loaded after the end does not reload.
    assert "HX-Refresh" not in client.get(reverse("beta:job-live", args=[job.pk]))


def test_failed_job_page_shows_the_error_and_offers_a_retry(client, owner):
    job = make_job(owner.organization, tool_slug="fail", status="failed", error="This diagnostic tool failed.")
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "What went wrong:" in body
    assert "This diagnostic tool failed." in body
    assert reverse("beta:job-retry", args=[job.pk]) in body
    assert reverse("beta:job-cancel", args=[job.pk]) not in body
    assert "every 2s" not in body


def output(job, *, role, kind, label, filename, embedded=False, renditions=()):
    asset = AssetFactory(organization=job.organization, kind=kind, original_filename=filename, origin="output")
    for rendition in renditions:
        Rendition.objects.create(asset=asset, kind=rendition, storage_key=f"r/{asset.pk}/{rendition}")
    JobOutput.objects.create(job=job, asset=asset, role=role, label=label, provenance_embedded=embedded)
    return asset


def test_outputs_are_previewed_in_place_with_downloads_and_provenance(client, owner):
    job = make_job(owner.organization, tool_slug="dailies", status="succeeded", progress=100)
    proxy = output(job, role="proxy", kind="video", label="Review copy", filename="A001_dailies.mp4", embedded=True,
                   renditions=["proxy", "poster"])  # fmt: skip
    bare = output(job, role="alt", kind="video", label="No previews", filename="bare.mp4")
    poster = output(job, role="poster", kind="image", label="Poster frame", filename="poster.jpg",
                    renditions=["thumbnail"])  # fmt: skip
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert f'poster="{reverse("assets:rendition", args=[proxy.pk, "poster"])}"' in body
    assert f'src="{reverse("assets:rendition", args=[proxy.pk, "proxy"])}"' in body
    assert f'src="{reverse("assets:download", args=[bare.pk])}"' in body  # no proxy: the file itself
    assert f'src="{reverse("assets:rendition", args=[poster.pk, "thumbnail"])}"' in body
    for asset in (proxy, bare, poster):
        assert f'href="{reverse("assets:download", args=[asset.pk])}"' in body
    assert body.count("Provenance: C2PA manifest embedded") == 1
    assert body.count("Provenance: sidecar") == 2
    assert "3 files" in body


def test_shot_detection_shows_a_strip_of_shots_with_timecodes_and_the_cut_lists(client, owner):
    shots = [
        {"number": 1, "start_tc": "01:00:00:00", "end_tc": "01:00:01:24", "start_seconds": 0, "end_seconds": 2,
         "duration": 2, "thumbnail_role": "shot-0001"},
        {"number": 2, "start_tc": "01:00:02:00", "end_tc": "01:00:03:14", "start_seconds": 2, "end_seconds": 3.6,
         "duration": 1.6, "thumbnail_role": "shot-0002"},
    ]  # fmt: skip
    job = make_job(owner.organization, tool_slug="shot-detect", status="succeeded", summary={"shots": shots})
    first = output(job, role="shot-0001", kind="image", label="Shot 1", filename="shot-0001.jpg",
                   renditions=["thumbnail"])  # fmt: skip
    output(job, role="shot-0002", kind="image", label="Shot 2", filename="shot-0002.jpg", renditions=["thumbnail"])
    edl = output(job, role="edl", kind="document", label="EDL (CMX 3600)", filename="A001.edl")
    output(job, role="csv", kind="document", label="Shot list (CSV)", filename="A001.csv")
    output(job, role="otio", kind="document", label="OpenTimelineIO", filename="A001.otio")
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert 'class="shot-strip"' in body
    assert "01:00:00:00" in body
    assert "01:00:03:14" in body
    assert f'src="{reverse("assets:rendition", args=[first.pk, "thumbnail"])}"' in body
    assert "EDL (CMX 3600)" in body
    assert "Shot list (CSV)" in body
    assert "OpenTimelineIO" in body
    assert f'href="{reverse("assets:download", args=[edl.pk])}"' in body
    assert body.count("Provenance:") == 5


# --- Cancel and retry -------------------------------------------------------------------------------------------------
def test_cancel_of_a_queued_job_cancels_it(client, owner):
    job = make_job(owner.organization, user=owner.user)
    response = client.post(reverse("beta:job-cancel", args=[job.pk]))
    assert response["Location"] == reverse("beta:job-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    body = client.get(response["Location"]).content.decode()
    assert f"Job {job.pk} is canceled." in body
    assert reverse("beta:job-retry", args=[job.pk]) in body
    # Canceling again says why not.
    client.post(reverse("beta:job-cancel", args=[job.pk]))
    assert "already canceled" in client.get(response["Location"]).content.decode()


def test_cancel_and_retry_are_posts_only(client, owner):
    job = make_job(owner.organization)
    assert client.get(reverse("beta:job-cancel", args=[job.pk])).status_code == 405
    assert client.get(reverse("beta:job-retry", args=[job.pk])).status_code == 405


def test_retry_of_a_failed_job_makes_a_new_job_and_opens_it(client, owner, clip):
    job = make_job(owner.organization, asset=clip, user=owner.user, tool_slug="slow", parameters={"seconds": 1})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="It broke.")
    response = client.post(reverse("beta:job-retry", args=[job.pk]))
    new = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("beta:job-detail", args=[new.pk])
    assert new.retry_of == job
    assert new.parameters == {"seconds": 1}
    assert list(new.inputs.all()) == [clip]
    body = client.get(response["Location"]).content.decode()
    assert f"Running again as job {new.pk}" in body
    assert f'a re-run of <a href="{reverse("beta:job-detail", args=[job.pk])}">job {job.pk}</a>' in body


def test_retry_of_a_succeeded_job_is_refused(client, owner):
    job = make_job(owner.organization, status="succeeded")
    response = client.post(reverse("beta:job-retry", args=[job.pk]), follow=True)
    assert "Only failed or canceled jobs can be run again." in response.content.decode()
    assert Job.objects.count() == 1


def test_viewers_see_jobs_but_cannot_cancel_them(client):
    viewer = MembershipFactory(role="viewer")
    job = make_job(viewer.organization)
    client.force_login(viewer.user)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert reverse("beta:job-cancel", args=[job.pk]) not in body
    client.post(reverse("beta:job-cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


@pytest.mark.parametrize("name", ["beta:job-detail", "beta:job-live", "beta:job-cancel", "beta:job-retry"])
def test_another_studios_job_is_404(client, owner, name):
    theirs = make_job(OrganizationFactory(), status="failed")
    url = reverse(name, args=[theirs.pk])
    response = client.post(url) if name in ("beta:job-cancel", "beta:job-retry") else client.get(url)
    assert response.status_code == 404
    assert Job.objects.count() == 1
    theirs.refresh_from_db()
    assert theirs.status == Job.Status.FAILED


# --- Staff ------------------------------------------------------------------------------------------------------------
def test_staff_job_list_shows_every_studio_and_filters_by_studio(client):
    one, two = OrganizationFactory(name="Northlight"), OrganizationFactory(name="Southbank")
    first, second = make_job(one, tool_slug="noop"), make_job(two, tool_slug="fail", status="failed")
    client.force_login(StaffFactory())
    body = client.get(reverse("beta:staff-jobs")).content.decode()
    assert reverse("beta:job-detail", args=[first.pk]) in body
    assert reverse("beta:job-detail", args=[second.pk]) in body
    assert '<th scope="col">Studio</th>' in body
    assert "Southbank" in body
    filtered = client.get(reverse("beta:staff-jobs"), {"studio": one.pk}).content.decode()
    assert reverse("beta:job-detail", args=[first.pk]) in filtered
    assert reverse("beta:job-detail", args=[second.pk]) not in filtered
    assert f'<option value="{one.pk}" selected>Northlight</option>' in filtered
    assert f"studio={one.pk}" in filtered  # the live rows keep the filter
    by_status = client.get(reverse("beta:staff-jobs"), {"status": "failed", "studio": "junk"}).content.decode()
    assert reverse("beta:job-detail", args=[second.pk]) in by_status
    assert reverse("beta:job-detail", args=[first.pk]) not in by_status
    rows = client.get(reverse("beta:job-list-rows"), {"studio": two.pk}).content.decode()
    assert "Southbank" in rows
    assert reverse("beta:job-detail", args=[first.pk]) not in rows
    # Staff can open any studio's job page.
    assert client.get(reverse("beta:job-detail", args=[first.pk])).status_code == 200


def test_programme_admins_may_cancel_but_reviewers_only_look(client):
    active, failed = make_job(OrganizationFactory()), make_job(OrganizationFactory(), status="failed")
    client.force_login(StaffFactory())
    body = client.get(reverse("beta:job-detail", args=[active.pk])).content.decode()
    assert reverse("beta:job-cancel", args=[active.pk]) not in body
    client.force_login(AdminFactory())
    body = client.get(reverse("beta:job-detail", args=[active.pk])).content.decode()
    assert reverse("beta:job-cancel", args=[active.pk]) in body
    # A retry runs as a member of the studio, so admins are not offered one.
    assert (
        reverse("beta:job-retry", args=[failed.pk])
        not in client.get(reverse("beta:job-detail", args=[failed.pk])).content.decode()
    )
    client.post(reverse("beta:job-cancel", args=[active.pk]))
    active.refresh_from_db()
    assert active.status == Job.Status.CANCELED


def test_partners_get_404_on_the_staff_job_list(client, owner):
    assert client.get(reverse("beta:staff-jobs")).status_code == 404


def test_staff_job_list_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    client.force_login(StaffFactory())
    for organization in OrganizationFactory.create_batch(3):
        for _ in range(2):
            make_job(organization, status="running")
    with django_assert_max_num_queries(12):
        client.get(reverse("beta:staff-jobs"))
    for organization in OrganizationFactory.create_batch(5):
        for _ in range(7):
            make_job(organization, status="running")
    with django_assert_max_num_queries(12):
        client.get(reverse("beta:staff-jobs"))


# --- Admin ------------------------------------------------------------------------------------------------------------
def test_admin_lists_tool_switches_and_jobs_read_only(client, owner):
    job = make_job(owner.organization, tool_slug="noop", status="succeeded")
    output(job, role="result", kind="document", label="Diagnostic result", filename="ok.txt")
    ToolSwitch.objects.create(slug="noop", all_cohorts=False).cohorts.add(owner.organization.cohort)
    client.force_login(AdminFactory(is_superuser=True))
    tools = client.get(reverse("admin:beta_toolswitch_changelist")).content.decode()
    assert "Diagnostics: no-op" in tools
    assert owner.organization.cohort.name in tools
    add = client.get(reverse("admin:beta_toolswitch_add")).content.decode()
    assert '<option value="dailies">' in add
    jobs = client.get(reverse("admin:beta_job_changelist"), {"status__exact": "succeeded", "q": "noop"})
    assert jobs.status_code == 200
    assert owner.organization.name in jobs.content.decode()
    assert client.get(reverse("admin:beta_job_changelist"), {"q": "not-a-number"}).status_code == 200
    change = client.get(reverse("admin:beta_job_change", args=[job.pk])).content.decode()
    assert "Diagnostic result" in change
    assert "Save" not in change
    assert client.get(reverse("admin:beta_job_add")).status_code == 403


def test_an_admin_can_switch_a_tool_off_for_partners(client, owner):
    client.force_login(AdminFactory(is_superuser=True))
    response = client.post(
        reverse("admin:beta_toolswitch_add"),
        {"slug": "noop", "enabled": "", "all_cohorts": "on", "note": "Back Monday."},
    )
    assert response.status_code == 302
    client.force_login(owner.user)
    assert "Back Monday." in client.get(reverse("beta:catalogue")).content.decode()
    assert Asset.objects.count() == 0
