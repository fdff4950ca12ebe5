"""The assets admin (assets/admin.py): read-only records, deletion and offboarding only through the services."""

from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from assets import keys, services
from assets.models import Asset, DeletionReceipt, Rendition
from portal.models import User
from tests.factories import (
    AdminFactory,
    AssetFactory,
    DeletionReceiptFactory,
    OrganizationFactory,
    OwnerFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

OFFBOARD_URL = "admin:assets_offboardingstudio_changelist"
ASSET_URL = "admin:assets_asset_changelist"


@pytest.fixture(autouse=True)
def _local_storage(settings, tmp_path):
    settings.USE_S3 = False
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def superuser(client):
    user = AdminFactory(is_superuser=True)
    client.force_login(user)
    return user


def stored_asset(organization, name: str, data: bytes, settings, *, rendition: bytes | None = None) -> Asset:
    """A ready asset whose bytes (and optionally a thumbnail's) really are in local storage."""
    asset = AssetFactory(organization=organization, original_filename=name, size_bytes=len(data))
    asset.storage_key = keys.original_key(asset)
    asset.save(update_fields=["storage_key"])
    _write(settings, asset.storage_key, data)
    if rendition is not None:
        key = keys.rendition_key(asset, "thumbnail", "jpg")
        _write(settings, key, rendition)
        Rendition.objects.create(
            asset=asset, kind="thumbnail", storage_key=key, content_type="image/jpeg", size_bytes=len(rendition)
        )
    return asset


def _write(settings, key: str, data: bytes) -> Path:
    path = Path(settings.MEDIA_ROOT) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _stored(settings, key: str) -> bool:
    return (Path(settings.MEDIA_ROOT) / key).is_file()


@pytest.fixture
def studio(settings):
    """A studio with an owner, two stored assets (one with a thumbnail) and an already deleted one."""
    owner = OwnerFactory()
    organization = owner.organization
    stored_asset(organization, "plate_001.mov", b"p" * 3000, settings, rendition=b"t" * 500)
    stored_asset(organization, "script.fountain", b"s" * 1000, settings)
    AssetFactory(organization=organization, status="deleted", original_filename="", storage_key="")
    return organization


def _action(client, url_name, action, objects, *, confirm=False, follow=False):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects]}
    if confirm:
        data["post"] = "yes"  # what the confirmation page posts back
    else:
        data["index"] = 0  # the changelist's action bar
    return client.post(reverse(url_name), data, follow=follow)


@pytest.mark.parametrize("model", ["asset", "deletionreceipt", "offboardingstudio"])
def test_each_changelist_loads_for_a_superuser(client, superuser, studio, model):
    DeletionReceiptFactory(organization=studio)

    response = client.get(reverse(f"admin:assets_{model}_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_an_asset_opens_read_only_with_its_renditions(client, superuser, studio, settings):
    asset = Asset.objects.get(original_filename="plate_001.mov")

    response = client.get(reverse("admin:assets_asset_change", args=[asset.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert "Thumbnail" in body
    assert "plate_001.mov" in body
    assert client.get(reverse("admin:assets_asset_add")).status_code == 403
    assert client.post(reverse("admin:assets_asset_delete", args=[asset.pk])).status_code == 403
    assert _stored(settings, asset.storage_key)


def test_assets_are_found_by_filename_or_uuid(client, superuser, studio):
    asset = Asset.objects.get(original_filename="script.fountain")
    changelist = reverse(ASSET_URL)

    by_name = client.get(changelist, {"q": "script"}).context["cl"].result_list
    by_uuid = client.get(changelist, {"q": str(asset.uuid)}).context["cl"].result_list

    assert list(by_name) == [asset]
    assert list(by_uuid) == [asset]


def test_the_default_bulk_delete_is_not_offered(client, superuser, studio):
    choices = dict(client.get(reverse(ASSET_URL)).context["action_form"].fields["action"].choices)

    assert "delete_selected" not in choices
    assert "delete_with_receipt" in choices


def test_deleting_assets_asks_first_then_deletes_through_the_service(client, superuser, studio, settings):
    asset = Asset.objects.get(original_filename="plate_001.mov")
    keys_before = [asset.storage_key, *asset.renditions.values_list("storage_key", flat=True)]

    confirmation = _action(client, ASSET_URL, "delete_with_receipt", [asset])

    assert confirmation.status_code == 200
    body = confirmation.content.decode()
    assert "Delete these assets?" in body
    assert "plate_001.mov" in body
    assert 'name="post" value="yes"' in body
    assert all(_stored(settings, key) for key in keys_before)
    assert not DeletionReceipt.objects.exists()

    response = _action(client, ASSET_URL, "delete_with_receipt", [asset], confirm=True, follow=True)

    assert response.status_code == 200
    receipt = DeletionReceipt.objects.get()
    assert receipt.scope == DeletionReceipt.Scope.ASSET
    assert receipt.requested_by == superuser
    assert receipt.object_count == 2
    assert receipt.bytes_deleted == 3500
    assert not any(_stored(settings, key) for key in keys_before)
    asset.refresh_from_db()
    assert asset.status == Asset.Status.DELETED
    assert asset.original_filename == ""
    messages = [str(m) for m in response.context["messages"]]
    assert any(reverse("assets:receipt", args=[receipt.pk]) in m for m in messages)
    # The other asset is untouched.
    assert _stored(settings, Asset.objects.get(original_filename="script.fountain").storage_key)


def test_offboarding_asks_first_with_what_will_go(client, superuser, studio, settings):
    response = _action(client, OFFBOARD_URL, "offboard_selected", [studio])

    body = response.content.decode()
    assert response.status_code == 200
    assert "Offboard 1 studio?" in body
    assert studio.name in body
    rows = response.context["rows"]
    assert rows == [(studio.name, "Active", 2, 3, "4.4 KB")]
    assert 'name="post" value="yes"' in body
    assert f'value="{studio.pk}"' in body
    assert not DeletionReceipt.objects.exists()
    assert all(_stored(settings, a.storage_key) for a in Asset.objects.filter(organization=studio, status="ready"))


def test_confirming_offboarding_purges_the_studio_and_links_its_receipt(client, superuser, studio, settings):
    other = OrganizationFactory()
    kept = stored_asset(other, "other.mov", b"o" * 100, settings)
    prefix = Path(settings.MEDIA_ROOT) / keys.organization_prefix(studio)
    assert any(p.is_file() for p in prefix.rglob("*"))

    response = _action(client, OFFBOARD_URL, "offboard_selected", [studio], confirm=True, follow=True)
    assert response.status_code == 200
    receipt = DeletionReceipt.objects.get(organization=studio)
    assert receipt.completed_at is None  # the bytes go in a worker, after commit (tests/portal/test_lifecycle.py)
    services.deletion_receipt_complete(receipt_id=receipt.pk)  # what that worker does

    receipt.refresh_from_db()
    assert receipt.scope == DeletionReceipt.Scope.STUDIO
    assert receipt.asset_count == 2
    assert receipt.object_count == 3
    assert receipt.bytes_deleted == 4500
    assert not prefix.exists() or not any(p.is_file() for p in prefix.rglob("*"))
    assert set(Asset.objects.filter(organization=studio).values_list("status", flat=True)) == {"deleted"}
    studio.refresh_from_db()
    assert studio.is_active is False
    assert not User.objects.filter(memberships__organization=studio, is_active=True).exists()
    messages = [str(m) for m in response.context["messages"]]
    assert any(reverse("portal:staff-studio", args=[studio.pk]) in m and studio.name in m for m in messages)
    # Another studio's material is untouched.
    assert _stored(settings, kept.storage_key)
    assert client.get(reverse("assets:receipt", args=[receipt.pk])).status_code == 200


def test_a_reviewer_cannot_offboard(client, studio, settings):
    reviewer = StaffFactory(is_staff=True, is_superuser=True)  # every Django permission, but not a programme admin
    client.force_login(reviewer)

    assert client.get(reverse(OFFBOARD_URL)).status_code == 403
    response = _action(client, OFFBOARD_URL, "offboard_selected", [studio], confirm=True)

    assert response.status_code == 403
    assert not DeletionReceipt.objects.exists()
    assert Asset.objects.filter(organization=studio, status="ready").count() == 2
    studio.refresh_from_db()
    assert studio.is_active is True


def test_a_reviewer_cannot_delete_assets_either(client, studio, settings):
    client.force_login(StaffFactory(is_staff=True, is_superuser=True))
    asset = Asset.objects.get(original_filename="plate_001.mov")

    action_form = client.get(reverse(ASSET_URL)).context["action_form"]
    _action(client, ASSET_URL, "delete_with_receipt", [asset], confirm=True)

    assert action_form is None  # no action at all: neither ours nor the default bulk delete
    assert not DeletionReceipt.objects.exists()
    assert _stored(settings, asset.storage_key)


def test_receipts_are_read_only_with_a_download_link(client, superuser, studio):
    receipt = DeletionReceiptFactory(organization=studio, requested_by_email="ops@studio.test", bytes_deleted=2048)

    changelist = client.get(reverse("admin:assets_deletionreceipt_changelist")).content.decode()
    detail = client.get(reverse("admin:assets_deletionreceipt_change", args=[receipt.pk]))

    assert f'href="{reverse("assets:receipt", args=[receipt.pk])}"' in changelist
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert client.get(reverse("admin:assets_deletionreceipt_add")).status_code == 403
    assert client.post(reverse("admin:assets_deletionreceipt_delete", args=[receipt.pk])).status_code == 403
