"""Delivering the `.c2pa` sidecar: the pipeline stores it with each output; the job and asset pages link it beside
every download; the API names it (`provenance_url`); a job's outputs come as one zip with their sidecars; and the
verify page checks a file against the `.c2pa` chosen with it."""

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse

from assets import provenance
from assets.provenance import verify
from beta.jobs import execute
from beta.models import Job, JobOutput
from beta.tools.diagnostics import NoopTool
from tests.api.conftest import api_client
from tests.beta.conftest import ProgressRecorder, video_input
from tests.factories import ApiKeyFactory, JobFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dev_signing(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.C2PA_SIGNING_KEY_PATH = settings.C2PA_CERT_CHAIN_PATH = settings.C2PA_KMS_KEY_ID = ""
    settings.C2PA_TRUST_ANCHORS_PATH = ""


@pytest.fixture
def stored(tmp_path, tool_context):
    """A noop job whose output was stored by the pipeline's own storing step, as a worker stores it."""
    owner = OwnerFactory()
    source = tmp_path / "plate.bin"
    source.write_bytes(b"the partner's plate" * 64)
    inputs = [video_input(source, "plate.bin", "document")]
    job = JobFactory(organization=owner.organization, submitted_by=owner.user, status=Job.Status.RUNNING,
                     worker="worker-1", error="", parameters={}, started_at=dt.datetime.now(dt.UTC))  # fmt: skip
    result = NoopTool().run(inputs, {}, ProgressRecorder(), tool_context)
    execute._store_outputs(job, NoopTool(), result, inputs, "worker-1")
    return owner, job, JobOutput.objects.select_related("asset").get(job=job), inputs


def test_the_pipeline_stores_a_c2pa_sidecar_that_validates_the_output(client, stored, tmp_path):
    owner, _job, output, inputs = stored
    assert output.manifest_key
    client.force_login(owner.user)

    body = client.get(reverse("assets:download", args=[output.asset.pk]))
    manifest = client.get(reverse("assets:manifest", args=[output.asset.pk]))

    assert manifest.status_code == 200
    assert manifest["Content-Type"] == "application/c2pa"
    assert 'filename="ok.txt.c2pa"' in manifest["Content-Disposition"]
    local = tmp_path / "check" / "ok.txt"
    local.parent.mkdir()
    local.write_bytes(b"".join(body.streaming_content))
    provenance.manifest_path(local).write_bytes(manifest.content)
    check = verify(local)
    assert check.valid, check.errors
    assert check.from_manifest_sidecar
    summary = provenance.manifest_summary(check)
    assert summary["ingredients"][0]["sha256"] == inputs[0].sha256


def test_the_job_and_asset_pages_link_the_sidecar_beside_the_download(client, stored):
    owner, job, output, _inputs = stored
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    client.force_login(owner.user)
    link = reverse("assets:manifest", args=[output.asset.pk])

    job_page = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    asset_page = client.get(reverse("assets:detail", args=[output.asset.pk])).content.decode()

    assert f'href="{link}"' in job_page
    assert "Provenance (.c2pa)" in job_page
    assert reverse("beta:job-outputs-zip", args=[job.pk]) in job_page
    assert f'href="{link}"' in asset_page


def test_another_studio_gets_no_sidecar(client, stored):
    _owner, _job, output, _inputs = stored
    client.force_login(OwnerFactory().user)
    assert client.get(reverse("assets:manifest", args=[output.asset.pk])).status_code == 404


def test_the_zip_holds_each_output_with_its_sidecars_and_they_validate(client, stored, tmp_path):
    owner, job, _output, _inputs = stored
    client.force_login(owner.user)

    response = client.get(reverse("beta:job-outputs-zip", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["ok.txt", "ok.txt.c2pa", "ok.txt.provenance.json"]
    archive.extractall(tmp_path / "unzipped")
    check = verify(tmp_path / "unzipped" / "ok.txt")
    assert check.valid, check.errors
    assert check.from_manifest_sidecar


def test_the_api_names_the_sidecar_and_serves_it(stored):
    owner, job, output, _inputs = stored
    api = api_client(ApiKeyFactory(organization=owner.organization, created_by=owner.user).raw_key)

    data = api.get(reverse("api:job-detail", args=[job.pk])).json()

    url = data["outputs"][0]["provenance_url"]
    assert url.endswith(reverse("api:asset-provenance", args=[output.asset.pk]))
    fetched = api.get(url)
    assert fetched.status_code == 200
    assert fetched["Content-Type"] == "application/c2pa"
    assert fetched.content.startswith(b"\x00\x00")  # a JUMBF box: the C2PA manifest store


def test_an_output_stored_before_sidecars_has_no_provenance_url(stored):
    owner, job, output, _inputs = stored
    JobOutput.objects.filter(pk=output.pk).update(manifest_key="")
    api = api_client(ApiKeyFactory(organization=owner.organization, created_by=owner.user).raw_key)
    assert api.get(reverse("api:job-detail", args=[job.pk])).json()["outputs"][0]["provenance_url"] is None


def test_the_verify_page_checks_a_file_against_its_c2pa_and_names_the_dev_chain(client, stored, tmp_path):
    owner, _job, output, _inputs = stored
    client.force_login(owner.user)
    body = b"".join(client.get(reverse("assets:download", args=[output.asset.pk])).streaming_content)
    manifest = client.get(reverse("assets:manifest", args=[output.asset.pk])).content
    url = reverse("assets:provenance-verify")

    good = client.post(url, {"file": named(body, "ok.txt"), "sidecar": named(manifest, "ok.txt.c2pa")})
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x01
    bad = client.post(url, {"file": named(bytes(flipped), "ok.txt"), "sidecar": named(manifest, "ok.txt.c2pa")})

    assert good.status_code == 200
    assert good.context["check"]["valid"], good.context["check"]["errors"]
    assert good.context["check"]["from_manifest_sidecar"]
    assert good.context["check"]["action"] == "c2pa.created"
    assert "Development signing chain" in good.content.decode()
    assert not bad.context["check"]["valid"]
    assert any("changed after it was signed" in e["sentence"] for e in bad.context["check"]["errors"])


def test_the_verify_page_says_nothing_of_a_dev_chain_when_production_signs(client, settings, tmp_path):
    settings.C2PA_KMS_KEY_ID = "arn:aws:kms:eu-west-1:111122223333:key/k"
    client.force_login(OwnerFactory().user)
    assert "Development signing chain" not in client.get(reverse("assets:provenance-verify")).content.decode()


def named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
