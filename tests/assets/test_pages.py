"""Asset library and asset page: filters, search, pagination, the data-use statement, query counts."""

import pytest
from django.urls import reverse

from tests.factories import AssetFactory, MembershipFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    return owner


def test_library_lists_only_the_studios_assets_with_filters_and_search(client, owner):
    mine = AssetFactory(organization=owner.organization, original_filename="A001_battle_wide.mov")
    AssetFactory(organization=owner.organization, original_filename="poster.png", kind="image")
    AssetFactory(organization=owner.organization, original_filename="gone.mov", status="deleted")
    theirs = AssetFactory(original_filename="their_secret_plate.mov")
    body = client.get(reverse("assets:library")).content.decode()
    assert mine.original_filename in body
    assert "poster.png" in body
    assert "gone.mov" not in body
    assert theirs.original_filename not in body
    assert "poster.png" not in client.get(reverse("assets:library"), {"kind": "video"}).content.decode()
    searched = client.get(reverse("assets:library"), {"q": "battle"}).content.decode()
    assert mine.original_filename in searched
    assert "poster.png" not in searched
    # A malformed filter is ignored rather than an error.
    assert client.get(reverse("assets:library"), {"kind": "<script>", "page": "x"}).status_code == 200


def test_library_paginates_and_its_query_count_does_not_grow_with_rows(client, owner, django_assert_max_num_queries):
    AssetFactory.create_batch(5, organization=owner.organization)
    with django_assert_max_num_queries(12):
        client.get(reverse("assets:library"))
    AssetFactory.create_batch(40, organization=owner.organization)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("assets:library"))
    assert "Page 1 of 2" in response.content.decode()


def test_empty_library_says_what_to_do(client, owner):
    body = client.get(reverse("assets:library")).content.decode()
    assert "No assets yet" in body
    assert reverse("assets:upload") in body


def test_viewers_see_assets_but_no_upload_or_delete(client):
    viewer = MembershipFactory(role="viewer")
    AssetFactory(organization=viewer.organization, original_filename="plate.mov")
    client.force_login(viewer.user)
    body = client.get(reverse("assets:library")).content.decode()
    assert "plate.mov" in body
    assert "Upload files" not in body
    assert "Viewers cannot upload" in client.get(reverse("assets:upload")).content.decode()


def test_asset_page_shows_metadata_and_the_data_use_statement(client, owner):
    asset = AssetFactory(
        organization=owner.organization,
        duration_seconds=12.5,
        fps=24,
        width=3840,
        height=2160,
        video_codec="prores",
        sha256="ab" * 32,
    )
    body = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert "00:00:12:12" in body
    assert "3840 × 2160" in body
    assert "ab" * 32 in body
    assert "No tool has processed this file yet" in body
    assert "never used to train AI models" in body
    assert "will be deleted by" in body


def test_deleted_assets_are_gone_from_their_page(client, owner):
    asset = AssetFactory(organization=owner.organization, status="deleted", original_filename="")
    assert client.get(reverse("assets:detail", args=[asset.pk])).status_code == 404


def test_staff_have_no_library_but_can_open_an_asset_page(client):
    from tests.factories import StaffFactory

    asset = AssetFactory()
    client.force_login(StaffFactory())
    assert client.get(reverse("assets:library")).status_code == 404
    assert client.get(reverse("assets:detail", args=[asset.pk])).status_code == 200


# --- The upload page's follow-up row (assets:status ?view=upload) ----------------------------------------------------
def _upload_row(client, asset) -> str:
    response = client.get(reverse("assets:status", args=[asset.pk]) + "?view=upload", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Refresh" not in response  # the upload page is never reloaded
    return response.content.decode()


def test_an_upload_row_keeps_polling_while_the_file_is_verified(client, owner):
    asset = AssetFactory(organization=owner.organization, status="verifying")
    client.force_login(owner.user)
    body = _upload_row(client, asset)
    assert f'hx-get="{reverse("assets:status", args=[asset.pk])}?view=upload" hx-trigger="every 2s"' in body
    assert "Verifying" in body
    assert "Run a tool on it" not in body


def test_a_ready_upload_offers_to_run_a_tool_on_it_and_to_open_it(client, owner):
    asset = AssetFactory(organization=owner.organization, status="ready", previews="pending")
    client.force_login(owner.user)
    body = _upload_row(client, asset)
    assert "hx-get" not in body  # settled: polling stops
    assert f'href="{reverse("beta:catalogue")}?asset={asset.pk}">Run a tool on it</a>' in body
    assert f'href="{reverse("assets:detail", args=[asset.pk])}"' in body
    assert ">Open</a>" in body
    assert "previews coming" in body


def test_a_rejected_upload_says_why(client, owner):
    asset = AssetFactory(organization=owner.organization, status="rejected",
                         rejection_reason="The file is not the video it claims to be.")
    client.force_login(owner.user)
    body = _upload_row(client, asset)
    assert "hx-get" not in body
    assert "Rejected: The file is not the video it claims to be." in body
    assert "Run a tool on it" not in body


def test_another_studios_upload_row_is_a_404(client, owner):
    other = AssetFactory(status="verifying")
    client.force_login(owner.user)
    response = client.get(reverse("assets:status", args=[other.pk]) + "?view=upload")
    assert response.status_code == 404
