"""The asset library's default page is read in order from the partial index on live assets
(`assets_asset_live_library`), not sorted: checked in PostgreSQL's plan for the page query the view runs."""

import pytest
from django.db import connection

from assets import selectors
from assets.models import Asset
from tests.factories import OrganizationFactory, OwnerFactory

pytestmark = pytest.mark.django_db


def _bulk_assets(organization, count, **fields):
    Asset.objects.bulk_create([
        Asset(organization=organization, kind="video", original_filename=f"plate_{i:05d}.mov", size_bytes=1024,
              status=fields.get("status", "ready" if i % 10 else "deleted"), previews="none",
              storage_key=f"orgs/{organization.uuid}/assets/{i}/original")
        for i in range(count)
    ])


def test_the_library_page_query_uses_the_live_assets_index_without_sorting(postgres_only):
    # Given two studios with thousands of assets, a tenth of them deleted ...
    owner = OwnerFactory()
    _bulk_assets(owner.organization, 3000)
    _bulk_assets(OrganizationFactory(), 3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE assets_asset")

    # ... the first page of the studio's library (what the view paginates: 24 a page) ...
    page = selectors.library(user=owner.user)[:24]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # ... is an ordered scan of the partial index: no Sort node over every live asset.
    assert "assets_asset_live_library" in plan, plan
    assert "Sort" not in plan, plan
    assert all(asset.status != "deleted" for asset in page)
    assert list(page) == list(Asset.objects.filter(organization=owner.organization).exclude(status="deleted")
                              .order_by("-created_at", "-id")[:24])


def test_the_stacked_library_page_reads_the_heads_index_without_sorting(postgres_only):
    # Given a studio with thousands of assets, some of them outputs stacked under an upload ...
    owner = OwnerFactory()
    _bulk_assets(owner.organization, 3000)
    root = Asset.objects.filter(organization=owner.organization, status="ready").first()
    Asset.objects.filter(organization=owner.organization, pk__gt=root.pk, pk__lt=root.pk + 500).update(
        origin="output", lineage_root=root)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE assets_asset")

    # ... the library's default (stacked) page is an ordered scan of the heads' partial index.
    page = selectors.library(user=owner.user, view="stacked")[:24]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "assets_asset_library_heads" in plan, plan
    assert "Sort" not in plan, plan
    assert all(asset.lineage_root_id is None for asset in page)
