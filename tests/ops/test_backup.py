"""`manage.py backup_check` on PostgreSQL: a seeded database dumped (pg_dump -Fc), restored into a new database,
row counts compared; storage checked against the asset rows both ways."""

import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assets import keys
from assets.models import Asset
from assets.storage import get_store
from ops import backup
from ops.management.commands.backup_check import Command
from tests.factories import AssetFactory, JobFactory, OwnerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only", "own_storage")]


@pytest.fixture
def own_storage(settings, tmp_path):
    """Storage of this test's own: other tests' files would be orphans here."""
    settings.MEDIA_ROOT = tmp_path / "media"


def _stored_asset(owner, tmp_path, name="plate.mp4"):
    asset = AssetFactory(organization=owner.organization, original_filename=name)
    asset.storage_key = keys.original_key(asset)
    asset.save()
    path = tmp_path / name
    path.write_bytes(os.urandom(256))
    get_store().put_file(path, asset.storage_key, "video/mp4")
    return asset


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("backup_check", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


def test_a_seeded_database_restores_with_every_row_and_every_object(tmp_path):
    owner = OwnerFactory()
    _stored_asset(owner, tmp_path)
    _stored_asset(owner, tmp_path, "second.mp4")
    JobFactory.create_batch(3, organization=owner.organization)
    ok, out, err = _run("--dump-to", str(tmp_path / "db.dump"))
    assert ok, out + err
    assert (tmp_path / "db.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert "Backup check passed." in out
    assert "0 missing, 0 orphaned" in out
    counts = backup.row_counts()
    assert counts["assets_asset"] == Asset.objects.count() == 2
    assert f"{len(counts)} of {len(counts)} tables match" in out


def test_a_missing_object_fails_the_check_and_an_orphan_is_reported(tmp_path):
    owner = OwnerFactory()
    lost = _stored_asset(owner, tmp_path)
    get_store().delete_keys([lost.storage_key])
    orphan = tmp_path / "stray.bin"
    orphan.write_bytes(b"x")
    stray_key = f"{keys.organization_prefix(owner.organization)}assets/00000000-0000-0000-0000-000000000000/original"
    get_store().put_file(orphan, stray_key, "application/octet-stream")
    scratch = f"{keys.organization_prefix(owner.organization)}jobs/7/bedrock/output.mp4"
    get_store().put_file(orphan, scratch, "video/mp4")  # Bedrock scratch: expected without a row
    ok, _out, err = _run()
    assert not ok
    assert f"missing: {lost.storage_key}" in err
    assert f"orphan: {stray_key}" in err
    assert scratch not in err
    get_store().put_file(orphan, lost.storage_key, "video/mp4")
    assert _run()[0]  # orphans alone are reported, not failed on
    assert not _run("--strict")[0]


def test_restored_row_counts_are_compared_table_by_table():
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    assert command._compare({"a": 1, "b": 2}, {"a": 1, "b": 2}) == 0
    assert command._compare({"a": 1, "b": 2}, {"a": 1, "b": 1}) == 1
    assert command._compare({"a": 1}, {}) == 1
