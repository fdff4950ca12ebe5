"""The studio's access log (assets/views/access.py): every read of its material from the audit trail, per asset for
its members and studio-wide for its owners, never another studio's events, with a flat number of queries."""

from pathlib import Path

import pytest
from django.urls import reverse

from assets import keys
from assets.models import Asset, Rendition
from beta.jobs.execute import job_execute
from beta.jobs.submit import job_submit
from portal.models import AuditEvent
from portal.services.audit import audit_record
from tests.api.conftest import api_client
from tests.factories import (
    ApiKeyFactory,
    AssetFactory,
    CohortFactory,
    MembershipFactory,
    OwnerFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def store(settings, key: str, data: bytes) -> str:
    path = Path(settings.MEDIA_ROOT) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


@pytest.fixture
def studio(settings):
    """A studio in an open cohort, with an owner, a member and a stored video that has a web proxy."""
    owner = OwnerFactory(organization__cohort=CohortFactory(), user__full_name="Olivia Owner")
    member = MembershipFactory(organization=owner.organization, user__full_name="Mo Member")
    data = b"\x00\x00\x00\x18ftypisom" + b"\x01" * 4096
    asset = Asset.objects.create(organization=owner.organization, uploaded_by=owner.user, kind="video",
                                 original_filename="plate.mp4", size_bytes=len(data), sha256="cd" * 32,
                                 status="ready", previews="none", storage_key="")
    asset.storage_key = store(settings, keys.original_key(asset), data)
    asset.save()
    proxy_key = store(settings, keys.rendition_key(asset, "proxy", "mp4"), b"proxy-bytes")
    Rendition.objects.create(asset=asset, kind="proxy", storage_key=proxy_key, content_type="video/mp4",
                             size_bytes=11)
    return owner, member, asset


def read(response):
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def test_every_kind_of_read_is_audited_and_listed_with_who_when_what_and_where(client, studio):
    owner, member, asset = studio
    # Given: a member previews and downloads the file from one address ...
    client.force_login(member.user)
    read(client.get(reverse("assets:rendition", args=[asset.pk, "proxy"]), REMOTE_ADDR="203.0.113.9"))
    read(client.get(reverse("assets:download", args=[asset.pk]), REMOTE_ADDR="203.0.113.9"))
    # ... a reviewer opens it from a feedback attachment and downloads it ...
    reviewer = StaffFactory(full_name="Rita Reviewer")
    client.force_login(reviewer)
    assert client.get(reverse("assets:detail", args=[asset.pk]) + "?from=feedback",
                      REMOTE_ADDR="198.51.100.7").status_code == 200
    read(client.get(reverse("assets:download", args=[asset.pk]), REMOTE_ADDR="198.51.100.7"))
    # ... the studio's pipeline reads it through the API (polling: twice, recorded once) and downloads it ...
    key = ApiKeyFactory(organization=owner.organization, created_by=owner.user)
    api = api_client(key.raw_key)
    assert api.get(reverse("api:asset-detail", args=[asset.pk])).status_code == 200
    assert api.get(reverse("api:asset-detail", args=[asset.pk])).status_code == 200
    assert api.get(reverse("api:asset-download", args=[asset.pk])).status_code == 200
    # ... and a tool run reads it as its input.
    job = job_submit(actor=member.user, tool_slug="noop", asset_ids=[asset.pk])
    assert job_execute(job_id=job.pk) == "succeeded"

    reads = AuditEvent.objects.filter(target_type="assets.asset", target_id=str(asset.pk)).order_by("id")
    actions = list(reads.values_list("action", flat=True))
    assert actions == [
        Action.ASSET_VIEWED, Action.ASSET_DOWNLOADED,
        Action.ASSET_STAFF_OPENED, Action.ASSET_DOWNLOADED,
        Action.ASSET_API_READ, Action.ASSET_DOWNLOADED,
        Action.ASSET_TOOL_READ,
    ]  # fmt: skip

    # Then: the asset's access log shows each, with who, what and from where.
    client.force_login(member.user)
    page = client.get(reverse("assets:access-log", args=[asset.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "7 reads" in html
    assert html.count("AI Studio staff: Rita Reviewer") == 2
    assert "from your feedback attachment" in html
    assert "Mo Member" in html
    assert "203.0.113.9" in html
    assert "198.51.100.7" in html
    assert f"API key {key.prefix}" in html
    assert "Asset read by a tool run" in html
    assert reverse("beta:job-detail", args=[job.pk]) in html
    assert "AI Studio worker (tool run)" in html
    # The asset page shows the latest reads and links to the whole log.
    detail = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert "Who read this file" in detail
    assert reverse("assets:access-log", args=[asset.pk]) in detail
    # Partners reading their own page are not staff reads: nothing new was recorded for the member's visit.
    assert AuditEvent.objects.filter(action=Action.ASSET_STAFF_OPENED).count() == 1


def test_the_studio_log_is_for_owners_and_never_shows_another_studios_reads(client, studio):
    owner, member, asset = studio
    other = OwnerFactory()
    theirs = AssetFactory(organization=other.organization, original_filename="their-secret.mov")
    audit_record(action=Action.ASSET_DOWNLOADED, actor=other.user, organization=other.organization, target=theirs)
    audit_record(action=Action.ASSET_DOWNLOADED, actor=member.user, organization=owner.organization, target=asset)
    # Same target id, another studio's row (e.g. written wrongly): the studio filter still keeps it out.
    audit_record(action=Action.ASSET_VIEWED, actor=other.user, organization=other.organization, target=asset)
    audit_record(action=Action.INVITE_CREATED, actor=owner.user, organization=owner.organization)  # not a read

    client.force_login(owner.user)
    html = client.get(reverse("studio:access-log")).content.decode()
    assert "plate.mp4" in html
    assert "Mo Member" in html
    assert "their-secret.mov" not in html
    assert other.user.email not in html
    assert "1 read," in html
    asset_html = client.get(reverse("assets:access-log", args=[asset.pk])).content.decode()
    assert other.user.email not in asset_html

    client.force_login(member.user)
    assert client.get(reverse("studio:access-log")).status_code == 404  # owners only
    assert client.get(reverse("assets:access-log", args=[theirs.pk])).status_code == 404  # another studio's asset
    client.force_login(StaffFactory())
    assert client.get(reverse("studio:access-log")).status_code == 404  # a studio's page, not staff's


@pytest.mark.parametrize("url_name", ["studio:access-log", "assets:access-log"])
def test_the_access_log_paginates_with_a_flat_number_of_queries(client, studio, url_name,
                                                                django_assert_max_num_queries):
    owner, member, asset = studio
    url = reverse(url_name, args=[asset.pk] if url_name == "assets:access-log" else [])
    client.force_login(owner.user)
    staff = StaffFactory()
    others = [AssetFactory(organization=owner.organization) for _ in range(3)]

    def write(n):
        for i in range(n):
            target = asset if url_name == "assets:access-log" else [asset, *others][i % 4]
            actor = [member.user, owner.user, staff][i % 3]
            audit_record(action=Action.ASSET_DOWNLOADED, actor=actor, organization=owner.organization, target=target)

    write(2)
    client.get(url)  # the first request of a session may do one-off work
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    write(60)  # more than a page (50)
    with django_assert_max_num_queries(len(few.captured_queries)):  # 60 more rows, not one query more
        page = client.get(url)
    assert page.status_code == 200
    assert "Page 1 of 2" in page.content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert "62 reads" in second
