"""Offboarding end to end on PostgreSQL with a real Celery worker: one transaction closes every door, then the worker
deletes the studio's bytes and completes the deletion receipt (portal/lifecycle.py, assets/lifecycle.py)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from assets import keys
from assets.models import DeletionReceipt
from portal import lifecycle
from portal.models import Invite, User
from tests.api.conftest import api_client, assert_problem
from tests.conftest import wait_for
from tests.factories import PASSWORD, AdminFactory, ApiKeyFactory, AssetFactory, InviteFactory, OwnerFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _stored(organization, name: str, data: bytes):
    asset = AssetFactory(organization=organization, original_filename=name, size_bytes=len(data))
    asset.storage_key = keys.original_key(asset)
    asset.save(update_fields=["storage_key"])
    path = Path(settings.MEDIA_ROOT) / asset.storage_key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_offboarding_closes_the_doors_at_once_and_a_worker_deletes_the_bytes(postgres_only, celery_worker_process):
    assert not settings.USE_S3  # the worker and this test share the local storage folder
    owner = OwnerFactory()
    studio = owner.organization
    other = OwnerFactory().organization
    invite = InviteFactory(organization=studio)
    key = ApiKeyFactory(organization=studio, created_by=owner.user)
    paths = [_stored(studio, "plate.mov", b"p" * 3000), _stored(studio, "script.fountain", b"s" * 1000)]
    kept = _stored(other, "theirs.mov", b"o" * 100)

    done = lifecycle.studio_offboard(actor=AdminFactory(), organization=studio)

    # Every door is closed as soon as the transaction commits.
    assert Invite.objects.get(pk=invite.pk).revoked_at is not None
    response = Client().post(reverse("portal:invite", args=[invite.token]))
    assert response.status_code == 410
    assert not User.objects.get(pk=owner.user.pk).is_active
    response = Client().post(reverse("account_login"), {"login": owner.user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "has left the beta" in response.content.decode()
    assert_problem(api_client(key.raw_key).get(reverse("api:me")), 403, "forbidden")
    # The worker deletes the bytes after commit and completes the receipt.
    receipt = DeletionReceipt.objects.get(organization=studio, scope="studio")
    assert str(receipt.uuid) == done["receipt"]
    wait_for(
        lambda: DeletionReceipt.objects.filter(pk=receipt.pk, completed_at__isnull=False).exists(),
        timeout=60, message="the worker to complete the deletion receipt",
    )
    receipt.refresh_from_db()
    assert receipt.asset_count == 2
    assert receipt.object_count == 2
    assert receipt.bytes_deleted == 4000
    assert not any(path.exists() for path in paths)
    prefix = Path(settings.MEDIA_ROOT) / keys.organization_prefix(studio)
    assert not prefix.exists() or not any(p.is_file() for p in prefix.rglob("*"))
    assert kept.read_bytes() == b"o" * 100  # another studio's material is untouched
