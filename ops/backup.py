"""The backup and restore drill (`manage.py backup_check`): dump, restore elsewhere, compare; storage both ways.

Steps, each a function: `dump` (pg_dump custom format), `restore` (a new database, pg_restore), `row_counts` of
every table on both sides, `storage_report` (every live asset's object exists; every stored object belongs to a
row). PostgreSQL only: the drill proves the production path.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.db import connection
from psycopg import sql

# Objects that belong to no row by design: Bedrock's scratch output (lifecycle rules expire it) and health probes.
UNOWNED_PREFIXES = (re.compile(r"^orgs/[^/]+/jobs/[^/]+/bedrock/"), re.compile(r"^_health/"))


@dataclass
class StorageReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # a row points at an object that is not there
    orphans: list[str] = field(default_factory=list)  # an object no row points at


def _conninfo(dbname: str | None = None) -> dict:
    s = connection.settings_dict
    info = {"host": s["HOST"] or "127.0.0.1", "port": str(s["PORT"] or 5432), "user": s["USER"] or "postgres",
            "dbname": dbname or s["NAME"]}
    if s.get("PASSWORD"):
        info["password"] = s["PASSWORD"]
    return info


def _env(info: dict) -> dict:
    import os

    env = {**os.environ, "PGHOST": info["host"], "PGPORT": info["port"], "PGUSER": info["user"]}
    if "password" in info:
        env["PGPASSWORD"] = info["password"]
    return env


def dump(path: Path) -> Path:
    info = _conninfo()
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path), info["dbname"]],  # noqa: S603, S607
                   env=_env(info), check=True, capture_output=True)
    return path


def restore(path: Path, target: str) -> None:
    info = _conninfo()
    with psycopg.connect(**(info | {"dbname": "postgres"}), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", target, str(path)],  # noqa: S603, S607
                   env=_env(info), check=True, capture_output=True)


def drop(target: str) -> None:
    with psycopg.connect(**(_conninfo() | {"dbname": "postgres"}), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))


def row_counts(dbname: str | None = None) -> dict[str, int]:
    with psycopg.connect(**_conninfo(dbname)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        count = sql.SQL("SELECT count(*) FROM {}")
        return {t: conn.execute(count.format(sql.Identifier(t))).fetchone()[0] for t in tables}


def storage_report() -> StorageReport:
    from assets import keys
    from assets.models import Asset, Rendition
    from assets.storage import get_store
    from beta.models import JobOutput

    store, report = get_store(), StorageReport()
    live = Asset.objects.exclude(status__in=[Asset.Status.DELETED, Asset.Status.REJECTED]).select_related(
        "organization")
    owned_prefixes = {keys.asset_prefix(asset) for asset in live}
    expected = set(live.filter(status=Asset.Status.READY).exclude(storage_key="").values_list("storage_key",
                                                                                            flat=True))
    expected |= set(Rendition.objects.filter(asset__status=Asset.Status.READY).values_list("storage_key", flat=True))
    expected |= set(JobOutput.objects.exclude(provenance_key="").values_list("provenance_key", flat=True))
    expected |= set(JobOutput.objects.exclude(manifest_key="").values_list("manifest_key", flat=True))
    stored = {key for key, _size in store.list_keys("orgs/")}
    report.checked = len(expected)
    report.missing = sorted(expected - stored)
    report.orphans = sorted(
        key for key in stored - expected
        if not any(key.startswith(p) for p in owned_prefixes) and not any(p.match(key) for p in UNOWNED_PREFIXES)
    )
    return report
