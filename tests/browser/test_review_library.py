"""In Chromium: version stacks and "run a tool on this", as a partner uses them. A partner's library shows an upload
with the versions the tools made of it stacked beneath ("3 versions · ..."), and the stack link lists them; the asset
page's "Run a tool on this" leads to the catalogue filtered to the tools for its kind, then to the run form with the
file pre-selected; two files ticked in the library and sent to one tool make one job each. Screenshots go to
tests/browser/artifacts/lineage-*.png."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assets.models import Asset
from assets.services import asset_create_from_file
from beta.jobs.execute import job_execute
from beta.jobs.submit import job_submit
from beta.models import Job, JobInput, JobOutput
from tests.assets.conftest import run_ffmpeg
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_review_player import make_counting_clip, signed_in
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lineage-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Two counting clips (a partner's uploads) and a still of the first, at its size and at twice its size."""
    folder = tmp_path_factory.mktemp("lineage")
    first = make_counting_clip(folder / "A002_C007.mp4", "25", colour="0x2d4a3e")
    second = make_counting_clip(folder / "A002_C008.mp4", "25", colour="0x4a3a2d")
    poster = folder / "poster.jpg"
    run_ffmpeg("-ss", "2", "-i", str(first), "-frames:v", "1", str(poster))
    big = folder / "poster_x2.jpg"
    run_ffmpeg("-i", str(poster), "-vf", "scale=iw*2:ih*2", "-frames:v", "1", str(big))
    return {"first": first, "second": second, "poster": poster, "big": big}


def upload(owner, path: Path, name: str) -> Asset:
    """A ready upload of the studio, stored with its previews (as after a verified upload)."""
    asset = asset_create_from_file(organization=owner.organization, created_by=owner.user, path=path, kind="video",
                                   filename=name, content_type="video/mp4")
    asset.origin = "upload"  # the service stores tool outputs; this clip stands for the partner's own upload
    asset.save(update_fields=["origin"])
    return asset


def earlier_run(owner, source: Asset, path: Path, *, slug: str, version: str, filename: str) -> Asset:
    """A finished run of an earlier tool version on `source`, with one image output stored with its lineage (the
    tool's own run is not repeated: what matters here is the stack it leaves)."""
    now = timezone.now()
    job = Job.objects.create(organization=owner.organization, submitted_by=owner.user, tool_slug=slug,
                             tool_version=version, status=Job.Status.SUCCEEDED, progress=100, started_at=now,
                             finished_at=now)
    JobInput.objects.create(job=job, asset=source, position=0, sha256=source.sha256)
    label = f"{slug} {version.removesuffix('.0')}"
    output = asset_create_from_file(organization=owner.organization, created_by=None, path=path, kind="image",
                                    filename=filename, content_type="image/jpeg", derived_from=source,
                                    derived_by=label)
    JobOutput.objects.create(job=job, asset=output, name=filename, label="Poster")
    return output


def dailies_run(owner, source: Asset) -> Job:
    """Dailies 1.0, really run on the upload (submitted as the form does, executed here instead of on a worker)."""
    job = job_submit(actor=owner.user, tool_slug="dailies", asset_ids=[source.pk], parameters={})
    assert job_execute(job_id=job.pk, hostname="browser-test") == "succeeded", Job.objects.get(pk=job.pk).log
    return job


@pytest.fixture
def library(media):
    """A studio with two uploads; the first has three versions: dailies 0.9, a real dailies 1.0 run, and an upscale
    of the 1.0 poster (which stacks under the upload too, two steps down)."""
    owner = OwnerFactory(organization__name="Northlight Pictures", user__full_name="Nora Owner",
                         organization__max_concurrent_jobs=4)
    first = upload(owner, media["first"], "A002_C007.mp4")
    second = upload(owner, media["second"], "A002_C008.mp4")
    earlier_run(owner, first, media["poster"], slug="dailies", version="0.9.0", filename="poster.jpg")
    job = dailies_run(owner, first)
    poster = job.job_outputs.get(role="poster").asset
    earlier_run(owner, poster, media["big"], slug="upscale", version="1.0.0", filename="poster_x2.jpg")
    return owner, first, second, job


def test_the_library_stacks_versions_under_the_upload_and_the_stack_lists_them(browser, live_server, library):
    owner, first, second, job = library
    outputs = list(Asset.objects.filter(lineage_root=first).order_by("pk"))
    assert len(outputs) >= 3  # dailies 0.9's poster, dailies 1.0's files, the upscale
    _, page = signed_in(browser, live_server, owner.user)
    page.goto(live_server.url + reverse("assets:library"))

    card = page.locator(f"#asset-{first.pk}")
    count = card.locator(".asset-stack__count")
    expect(count).to_have_text(re.compile(r"^3 versions · "))
    for label in ("dailies 1.0", "dailies 0.9", "upscale 1.0"):
        expect(count).to_contain_text(label)
    expect(card.locator(".asset-stack__runs li")).to_have_count(3)
    expect(card.get_by_role("link", name="dailies 1.0", exact=True)).to_have_attribute(
        "href", reverse("beta:job-detail", args=[job.pk]))
    expect(page.locator(f"#asset-{second.pk} .asset-stack")).to_have_count(0)  # nothing made from it yet
    for output in outputs:  # beneath the upload, not beside it
        expect(page.locator(f"#asset-{output.pk}")).to_have_count(0)
    shot(page, "library-stack")

    count.click()
    expect(page).to_have_title(re.compile("^Versions of A002_C007"))
    for output in outputs:
        expect(page.locator(f"#asset-{output.pk}")).to_be_visible()
    expect(page.locator(f"#asset-{second.pk}")).to_have_count(0)
    expect(page.locator(".asset-card__name")).to_contain_text(["A002_C007 · "] * len(outputs))
    expect(page.get_by_role("link", name="A002_C007 · dailies 0.9 · poster.jpg", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="A002_C007 · upscale 1.0 · poster_x2.jpg", exact=True)).to_be_visible()
    shot(page, "library-stack-versions")


def test_run_a_tool_on_this_filters_the_catalogue_and_preselects_the_file(browser, live_server, library):
    owner, first, _, _ = library
    _, page = signed_in(browser, live_server, owner.user)
    page.goto(live_server.url + reverse("assets:detail", args=[first.pk]))
    page.get_by_role("link", name="Run a tool on this").click()

    expect(page).to_have_url(re.compile(rf"/tools/\?asset={first.pk}$"))
    expect(page.get_by_role("status")).to_contain_text("Tools that take A002_C007")
    names = page.locator(".tool-card__name")
    expect(names).to_contain_text(["Dailies and proxies", "Shot detection", "Transcription"])
    for other in ("Image upscaling", "Script breakdown"):  # they take images and scripts, not video
        expect(names.filter(has_text=other)).to_have_count(0)
    shot(page, "run-on-this-catalogue")

    page.get_by_role("link", name=re.compile("^Run Dailies and proxies on A002_C007")).click()
    expect(page).to_have_url(re.compile(rf"/tools/dailies/\?input={first.pk}$"))
    expect(page.locator(f"#asset-{first.pk}")).to_be_checked()
    expect(page.locator("input[name=assets]:checked")).to_have_count(1)
    shot(page, "run-on-this-form")


def test_two_files_selected_in_the_library_go_to_one_tool_as_one_job_each(browser, live_server, library):
    owner, first, second, _ = library
    before = set(Job.objects.values_list("pk", flat=True))
    _, page = signed_in(browser, live_server, owner.user)
    page.goto(live_server.url + reverse("assets:library"))
    page.get_by_label("Select A002_C007.mp4").check()
    page.get_by_label("Select A002_C008.mp4").check()
    shot(page, "bulk-selected")
    page.get_by_role("button", name="Run a tool on the selected files").click()

    expect(page.get_by_role("status")).to_contain_text("your 2 selected files")
    run = page.get_by_role("link", name="Run Dailies and proxies on 2 files (one job each)")
    run.click()
    expect(page.locator(f"#asset-{first.pk}")).to_be_checked()
    expect(page.locator(f"#asset-{second.pk}")).to_be_checked()
    shot(page, "bulk-form")
    page.get_by_role("button", name="Run Dailies and proxies on each file").click()

    expect(page).to_have_url(live_server.url + reverse("beta:job-list"))
    expect(page.get_by_text(re.compile(r"queued for 2 files, one job each"))).to_be_visible()
    new = Job.objects.exclude(pk__in=before)
    assert new.count() == 2
    assert sorted(j.job_inputs.get().asset_id for j in new) == sorted([first.pk, second.pk])
    assert {j.tool_slug for j in new} == {"dailies"}
    for job in new:
        link = page.locator(f'a[href="{reverse("beta:job-detail", args=[job.pk])}"]')
        row = page.locator("#job-rows tr").filter(has=link)
        expect(row).to_have_count(1)
        expect(row.locator(".job-input__name")).to_have_text(job.job_inputs.get().asset.original_filename)
    shot(page, "bulk-jobs")
