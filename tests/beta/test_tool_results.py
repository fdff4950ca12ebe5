"""The temp-comp job page (beta/views/tool_results.py, beta/results/temp-comp.html): the comp wiped against the plate,
the matte, the parameters and "run again with these changes"; the run form filled from an earlier job
(`?from_job=`), tenant-scoped."""

import re

import pytest
from django.urls import reverse

from beta import tools as catalogue
from beta.jobs.submit import validate_parameters
from beta.models import Job, JobInput, JobOutput
from tests.factories import AssetFactory, JobFactory, MembershipFactory, OwnerFactory

pytestmark = pytest.mark.django_db

PARAMETERS = {"gain": 1.7, "screen": "blue", "grain": False, "seed": 42, "mode": "crowd", "crowd_copies": 12,
              "garbage_matte": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]}  # fmt: skip


def _media(studio, name, kind="video", proxy=True):
    asset = AssetFactory(organization=studio, kind=kind, original_filename=name, sha256="ab" * 32,
                         duration_seconds=1 if kind == "video" else None, fps=25 if kind == "video" else None)
    if proxy:
        asset.renditions.create(kind="proxy", storage_key=f"{asset.storage_key}-proxy", content_type="video/mp4")
    return asset


def temp_comp_job(studio, parameters=PARAMETERS):
    """A succeeded temp-comp job as the worker leaves it: plate and background in, the five outputs out."""
    tool = catalogue.get_tool("temp-comp")
    plate, background = _media(studio, "plate.mp4"), _media(studio, "background.png", kind="image", proxy=False)
    job = JobFactory(organization=studio, tool_slug="temp-comp", tool_version=tool.version, status="succeeded",
                     error="", parameters=validate_parameters(tool, parameters),
                     summary={"frames": 25, "fps": 25.0, "start_timecode": "01:00:00:00", "mode": parameters["mode"],
                              "review_label": "TEMP COMP"})  # fmt: skip
    for position, asset in enumerate((plate, background)):
        JobInput.objects.create(job=job, asset=asset, position=position, sha256=asset.sha256)
    outputs = {}
    made = (("comp", "plate_temp_comp.mov", "video"), ("review", "plate_temp_comp_review.mp4", "video"),
            ("matte", "plate_matte.mov", "video"), ("edl", "plate_temp_comp.edl", "document"),
            ("otio", "plate_temp_comp.otio", "document"))  # fmt: skip
    for role, name, kind in made:
        asset = _media(studio, name, kind=kind, proxy=kind == "video")
        asset.origin = "output"
        asset.save()
        outputs[role] = JobOutput.objects.create(job=job, asset=asset, role=role, name=name, label=role.upper())
    return job, plate, background, outputs


def proxy_url(asset):
    return reverse("assets:rendition", args=[asset.pk, "proxy"])


def test_the_job_page_wipes_the_comp_against_the_plate_and_shows_the_matte_and_parameters(client):
    owner = OwnerFactory()
    job, plate, _, outputs = temp_comp_job(owner.organization)
    client.force_login(owner.user)

    html = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()

    compare = html[html.index("data-compare"):html.index("</section>", html.index("data-compare"))]
    assert 'data-mode="wipe"' in compare
    assert re.search(r'value="wipe" checked', compare)
    assert f'src="{proxy_url(plate)}"' in compare  # left: the plate
    assert f'src="{proxy_url(outputs["review"].asset)}"' in compare  # right: the comp's H.264 review copy
    assert compare.index(proxy_url(plate)) < compare.index(proxy_url(outputs["review"].asset))
    matte = html[html.index('id="temp-comp-matte-title"'):]
    assert f'src="{proxy_url(outputs["matte"].asset)}"' in matte
    # The players the panel has are not played a second time: the ProRes comp is a download in the files list.
    assert html.count(f'src="{proxy_url(outputs["review"].asset)}"') == 1
    assert f'src="{proxy_url(outputs["comp"].asset)}"' not in html
    assert reverse("assets:download", args=[outputs["comp"].asset.pk]) in html
    # The parameters used, in the table and in the run-again form, which posts the same files in the same order.
    assert "<th scope=\"row\">Key gain</th><td><code>1.7</code>" in html
    form = html[html.index("Run again with these changes"):]
    assert f'action="{reverse("beta:submit", args=["temp-comp"])}"' in form
    assert re.search(r'<input type="number" name="gain" value="1.7"', form)
    assert re.search(r'<option value="blue" selected>', form)
    assert re.search(r'<input type="number" name="crowd_copies" value="12"', form)
    assert 'name="grain" id="rerun-grain"' in form
    assert 'name="grain" id="rerun-grain" checked' not in form
    hidden = re.findall(r'<input type="hidden" name="assets" value="(\d+)">', form)
    assert hidden == [str(i.asset_id) for i in job.job_inputs.order_by("position")]
    assert f"?from_job={job.pk}" in form


def test_the_run_again_form_submits_a_job_on_the_same_files_in_order(client):
    owner = OwnerFactory(organization__max_concurrent_jobs=2)
    job, plate, background, _ = temp_comp_job(owner.organization)
    client.force_login(owner.user)
    data = {**{k: v for k, v in job.parameters.items() if k not in ("garbage_matte", "start_timecode", "grain")},
            "gain": "2.2", "assets": [plate.pk, background.pk], "garbage_matte": "[[0, 0], [1, 0], [1, 1]]"}

    response = client.post(reverse("beta:submit", args=["temp-comp"]), data)

    new = Job.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302
    assert new.parameters["gain"] == 2.2
    assert new.parameters["seed"] == 42
    assert [i.asset_id for i in new.job_inputs.order_by("position")] == [plate.pk, background.pk]


def test_a_viewer_sees_the_parameters_but_no_run_again_form(client):
    owner = OwnerFactory()
    viewer = MembershipFactory(organization=owner.organization, role="viewer")
    job, *_ = temp_comp_job(owner.organization)
    client.force_login(viewer.user)
    html = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "Key gain" in html
    assert "Run again with these changes" not in html
    assert 'data-mode="wipe"' in html


def test_from_job_fills_in_the_parameters_and_ticks_the_files_plate_first(client):
    owner = OwnerFactory()
    # The background is newer, so the library lists it first; the form must still send the plate first.
    job, plate, background, _ = temp_comp_job(owner.organization)
    client.force_login(owner.user)

    response = client.get(reverse("beta:submit", args=["temp-comp"]), {"from_job": job.pk})

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Filled in from <a href=\"{reverse('beta:job-detail', args=[job.pk])}\">job {job.pk}</a>" in html
    assert re.search(r'<input type="number" name="gain" value="1.7"', html)
    assert re.search(r'<option value="crowd" selected>', html)
    assert re.search(r'<input type="number" name="seed" value="42"', html)
    assert "[[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]" in html.replace("&quot;", '"')
    ticked = re.findall(r'name="assets" value="(\d+)" id="asset-\d+" checked', html)
    assert ticked == [str(plate.pk), str(background.pk)]


def test_from_job_keeps_the_files_a_link_names(client):
    owner = OwnerFactory()
    job, plate, _, _ = temp_comp_job(owner.organization)
    other_background = _media(owner.organization, "sky.png", kind="image", proxy=False)
    client.force_login(owner.user)
    html = client.get(reverse("beta:submit", args=["temp-comp"]),
                      {"from_job": job.pk, "input": [plate.pk, other_background.pk]}).content.decode()
    ticked = re.findall(r'name="assets" value="(\d+)" id="asset-\d+" checked', html)
    assert ticked == [str(plate.pk), str(other_background.pk)]
    assert re.search(r'<input type="number" name="gain" value="1.7"', html)


def test_the_plain_run_form_is_unchanged_without_from_job(client):
    owner = OwnerFactory()
    temp_comp_job(owner.organization)
    client.force_login(owner.user)
    html = client.get(reverse("beta:submit", args=["temp-comp"])).content.decode()
    assert "Filled in from" not in html
    assert re.search(r'<input type="number" name="gain" value="1.1"', html)
    assert not re.search(r'name="assets" value="\d+" id="asset-\d+" checked', html)


@pytest.mark.parametrize("value", ["other-studio", "other-tool", "not-a-number", "missing"])
def test_from_job_of_another_studio_or_tool_or_no_job_is_a_404(client, value):
    owner, stranger = OwnerFactory(), OwnerFactory()
    theirs, *_ = temp_comp_job(stranger.organization)
    other_tool = JobFactory(organization=owner.organization, tool_slug="noop", status="succeeded", error="")
    job_id = {"other-studio": theirs.pk, "other-tool": other_tool.pk, "not-a-number": "7x",
              "missing": theirs.pk + 1000}[value]  # fmt: skip
    client.force_login(owner.user)
    response = client.get(reverse("beta:submit", args=["temp-comp"]), {"from_job": job_id})
    assert response.status_code == 404
    assert b"gain" not in response.content


def test_another_studios_temp_comp_job_page_is_a_404(client):
    owner, stranger = OwnerFactory(), OwnerFactory()
    theirs, *_ = temp_comp_job(stranger.organization)
    client.force_login(owner.user)
    assert client.get(reverse("beta:job-detail", args=[theirs.pk])).status_code == 404
