"""Version stacks and lineage: outputs stack under the upload they were made from, say what they are, and a tool can
be run on any asset (pre-selected) or on several at once (one job per file). Another studio's ids are 404s."""

import os

import pytest
from django.urls import reverse

from assets import keys
from assets.models import Asset
from assets.storage import get_store
from assets.templatetags.asset_tags import asset_name
from beta.jobs.execute import job_execute
from beta.jobs.submit import job_submit
from beta.models import Job, JobInput, JobOutput
from tests.factories import AssetFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    owner = OwnerFactory(organization__max_concurrent_jobs=4)
    client.force_login(owner.user)
    return owner


def _stored_upload(owner, tmp_path, name="A002_C007.mov", data=None, kind="video"):
    """A ready upload of the studio whose bytes are really stored (a tool can read it)."""
    data = data or b"\x00\x00\x00\x18ftypisom" + os.urandom(2048)
    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind=kind,
                                 original_filename=name, size_bytes=len(data), sha256="cd" * 32,
                                 status="ready", previews="none", storage_key="")
    asset.storage_key = keys.original_key(asset)
    path = tmp_path / name
    path.write_bytes(data)
    get_store().put_file(path, asset.storage_key, "video/quicktime")
    asset.save()
    return asset


def _run(owner, asset, tool="noop", capture=None, **parameters):
    with capture(execute=True):
        job = job_submit(actor=owner.user, tool_slug=tool, asset_ids=[asset.pk], parameters=parameters)
    assert job_execute(job_id=job.pk, hostname="w") == "succeeded", Job.objects.get(pk=job.pk).log
    return job


def _output(organization, source, *, slug="dailies", version="1.0.0", filename="poster.jpg", kind="image"):
    """A succeeded run of `slug` on `source` with one output, lineage as the storing step writes it."""
    job = Job.objects.create(organization=organization, tool_slug=slug, tool_version=version, status="succeeded")
    JobInput.objects.create(job=job, asset=source, position=0, sha256="ab" * 32)
    label = f"{slug} {version.removesuffix('.0')}"
    asset = AssetFactory(organization=organization, origin="output", kind=kind, original_filename=filename,
                         derived_from=source, lineage_root=source.lineage_root or source, derived_by=label)
    JobOutput.objects.create(job=job, asset=asset, name=filename, label="Poster")
    return asset


# --- Lineage written when a job stores its outputs -------------------------------------------------------------------
def test_a_noop_run_on_an_upload_stacks_its_output_under_it(client, owner, tmp_path,
                                                            django_capture_on_commit_callbacks):
    upload = _stored_upload(owner, tmp_path)
    job = _run(owner, upload, capture=django_capture_on_commit_callbacks)
    [output] = job.job_outputs.select_related("asset__lineage_root")
    assert (output.asset.derived_from_id, output.asset.lineage_root_id) == (upload.pk, upload.pk)
    assert output.asset.derived_by == "noop 1.0"
    assert asset_name(output.asset) == f"A002_C007 · noop 1.0 · {output.asset.original_filename}"

    # A run on that output stacks under the same upload, however deep the chain.
    second = _run(owner, output.asset, capture=django_capture_on_commit_callbacks)
    [again] = second.job_outputs.select_related("asset")
    assert (again.asset.derived_from_id, again.asset.lineage_root_id) == (output.asset.pk, upload.pk)

    body = client.get(reverse("assets:library")).content.decode()
    assert "2 versions · noop 1.0, noop 1.0" in body
    assert reverse("beta:job-detail", args=[job.pk]) in body
    assert f'id="asset-{output.asset.pk}"' not in body  # stacked beneath, not beside
    outputs = client.get(reverse("assets:library"), {"view": "outputs"}).content.decode()
    assert f'id="asset-{output.asset.pk}"' in outputs
    assert f'id="asset-{upload.pk}"' not in outputs
    originals = client.get(reverse("assets:library"), {"view": "originals"}).content.decode()
    assert f'id="asset-{upload.pk}"' in originals
    assert f'id="asset-{output.asset.pk}"' not in originals
    stack = client.get(reverse("assets:library"), {"stack": upload.pk}).content.decode()
    assert f'id="asset-{output.asset.pk}"' in stack
    assert f'id="asset-{again.asset.pk}"' in stack


def test_a_dailies_run_on_an_upload_stacks_under_it(client, owner, tmp_path, cut_clip,
                                                    django_capture_on_commit_callbacks):
    upload = _stored_upload(owner, tmp_path, data=cut_clip.read_bytes())
    job = _run(owner, upload, "dailies", capture=django_capture_on_commit_callbacks)
    outputs = list(job.job_outputs.select_related("asset"))
    assert outputs
    assert {(o.asset.lineage_root_id, o.asset.derived_by) for o in outputs} == {(upload.pk, "dailies 1.0")}
    body = client.get(reverse("assets:library")).content.decode()
    assert "1 version · dailies 1.0" in body
    page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    for output in outputs:
        assert f"A002_C007 · dailies 1.0 · {output.asset.original_filename}" in page


def test_two_runs_posters_never_read_alike(client, owner):
    clip = AssetFactory(organization=owner.organization, original_filename="A002_C007.mov")
    new = _output(owner.organization, clip, version="1.0.0")
    old = _output(owner.organization, clip, version="0.9.0")
    other = _output(owner.organization, AssetFactory(organization=owner.organization, original_filename="B1.mov"))
    names = {asset_name(Asset.objects.select_related("lineage_root").get(pk=a.pk)) for a in (new, old, other)}
    assert names == {"A002_C007 · dailies 1.0 · poster.jpg", "A002_C007 · dailies 0.9 · poster.jpg",
                     "B1 · dailies 1.0 · poster.jpg"}
    page = client.get(reverse("assets:detail", args=[new.pk])).content.decode()
    assert "A002_C007 · dailies 1.0 · poster.jpg" in page
    assert "Made by" in page
    assert reverse("assets:detail", args=[clip.pk]) in page
    library = client.get(reverse("assets:library"), {"view": "all"}).content.decode()
    assert ">poster.jpg<" not in library


def test_deleting_the_original_leaves_its_outputs_heading_their_own_stacks(client, owner):
    clip = AssetFactory(organization=owner.organization, original_filename="A002_C007.mov")
    poster = _output(owner.organization, clip)
    client.post(reverse("assets:delete", args=[clip.pk]))
    poster.refresh_from_db()
    assert poster.lineage_root_id is None
    assert f'id="asset-{poster.pk}"' in client.get(reverse("assets:library")).content.decode()


def test_the_stacked_library_query_count_does_not_grow_with_stacks(client, owner, django_assert_max_num_queries):
    def fill(n):
        for _ in range(n):
            clip = AssetFactory(organization=owner.organization)
            for version in ("1.0.0", "0.9.0"):
                _output(owner.organization, clip, version=version)

    fill(2)
    with django_assert_max_num_queries(13):
        client.get(reverse("assets:library"))
    fill(30)
    for view in ("stacked", "originals", "outputs", "all"):
        with django_assert_max_num_queries(13):
            response = client.get(reverse("assets:library"), {"view": view})
        assert response.status_code == 200
    stacked = client.get(reverse("assets:library")).content.decode()
    assert stacked.count("2 versions · dailies 0.9, dailies 1.0") == 24  # a full page of stacks, newest run first


def test_another_studios_stack_is_a_404(client, owner):
    theirs = AssetFactory(original_filename="their_plate.mov")
    assert client.get(reverse("assets:library"), {"stack": theirs.pk}).status_code == 404
    assert client.get(reverse("assets:library"), {"stack": "x"}).status_code == 404


# --- Run a tool on this -----------------------------------------------------------------------------------------------
def test_run_a_tool_on_this_filters_the_catalogue_and_preselects_the_input(client, owner):
    clip = AssetFactory(organization=owner.organization, original_filename="A002_C007.mov")
    page = client.get(reverse("assets:detail", args=[clip.pk])).content.decode()
    catalogue_url = f"{reverse('beta:catalogue')}?asset={clip.pk}"
    assert catalogue_url in page

    body = client.get(catalogue_url).content.decode()
    submit_url = f"{reverse('beta:submit', args=['dailies'])}?input={clip.pk}"
    assert submit_url in body
    assert reverse("beta:submit", args=["upscale"]) not in body  # takes images, not video
    assert reverse("beta:submit", args=["script-breakdown"]) not in body

    form = client.get(submit_url).content.decode()
    assert f'value="{clip.pk}" id="asset-{clip.pk}" checked' in form


def test_a_preselected_input_of_the_wrong_kind_is_left_out_with_a_message(client, owner):
    still = AssetFactory(organization=owner.organization, kind="image", original_filename="still.png")
    body = client.get(reverse("beta:submit", args=["dailies"]), {"input": still.pk}).content.decode()
    assert "still.png is image" in body
    assert "It is left out." in body
    assert " checked" not in body.split("asset-picker", 1)[1].split("</fieldset>", 1)[0]


def test_another_studios_ids_in_run_links_are_404s(client, owner):
    theirs = AssetFactory(original_filename="their_plate.mov")
    mine = AssetFactory(organization=owner.organization)
    assert client.get(reverse("beta:catalogue"), {"asset": theirs.pk}).status_code == 404
    assert client.get(reverse("beta:catalogue"), {"asset": [mine.pk, theirs.pk]}).status_code == 404
    assert client.get(reverse("beta:catalogue"), {"asset": "1 OR 1=1"}).status_code == 404
    response = client.get(reverse("beta:submit", args=["dailies"]), {"input": theirs.pk})
    assert response.status_code == 404
    assert b"their_plate" not in response.content


# --- Bulk run ---------------------------------------------------------------------------------------------------------
def test_a_bulk_run_makes_one_job_per_file_and_a_double_submit_makes_no_more(client, owner):
    clips = [AssetFactory(organization=owner.organization, original_filename=f"A00{n}.mov") for n in range(3)]
    catalogue = client.get(reverse("beta:catalogue"), {"asset": [c.pk for c in clips]}).content.decode()
    assert "on 3 files (one job each)" in catalogue
    form = client.get(reverse("beta:submit", args=["noop"]), {"input": [c.pk for c in clips]}).content.decode()
    assert 'name="each" value="1"' in form
    assert all(f'value="{c.pk}" id="asset-{c.pk}" checked' in form for c in clips)

    data = {"assets": [c.pk for c in clips], "each": "1", "idempotency_key": "k1"}
    response = client.post(reverse("beta:submit", args=["noop"]), data)
    assert response.status_code == 302
    jobs = Job.objects.filter(organization=owner.organization)
    assert jobs.count() == 3
    assert sorted(j.job_inputs.get().asset_id for j in jobs) == sorted(c.pk for c in clips)
    client.post(reverse("beta:submit", args=["noop"]), data)  # the same form sent twice
    assert jobs.count() == 3


def test_a_bulk_run_with_files_that_do_not_fit_makes_no_job(client, owner):
    clip = AssetFactory(organization=owner.organization, original_filename="A001.mov")
    still = AssetFactory(organization=owner.organization, kind="image", original_filename="still.png")
    response = client.post(reverse("beta:submit", args=["dailies"]),
                           {"assets": [clip.pk, still.pk], "each": "1", "idempotency_key": "k2"})
    assert response.status_code == 200
    assert "still.png is image" in response.content.decode()
    assert not Job.objects.exists()


def test_a_bulk_run_with_another_studios_file_makes_no_job(client, owner):
    mine = AssetFactory(organization=owner.organization)
    theirs = AssetFactory(original_filename="their_plate.mov")
    response = client.post(reverse("beta:submit", args=["noop"]),
                           {"assets": [mine.pk, theirs.pk], "each": "1", "idempotency_key": "k3"})
    assert response.status_code == 200
    assert f"File {theirs.pk} is not one of your studio&#x27;s files" in response.content.decode()
    assert "their_plate" not in response.content.decode()
    assert not Job.objects.exists()


def test_a_bulk_run_stops_at_the_quota_and_says_how_many_were_queued(client, owner):
    owner.organization.monthly_job_quota = 2
    owner.organization.save()
    clips = [AssetFactory(organization=owner.organization) for _ in range(3)]
    response = client.post(reverse("beta:submit", args=["noop"]),
                           {"assets": [c.pk for c in clips], "each": "1", "idempotency_key": "k4"}, follow=True)
    assert Job.objects.count() == 2
    assert "2 of the 3 jobs were queued before it" in response.content.decode()
