"""The audit trail as a hash chain: each row keeps the SHA-256 of its canonical content and the previous row's hash.

A changed row no longer matches its own hash; a deleted row breaks the link of the row after it. Appends are
serialised (a PostgreSQL transaction-level advisory lock; SQLite's write lock, taken at BEGIN IMMEDIATE) so two
requests writing at once cannot both link to the same head. Plain functions over rows or dicts, so the data migration
that hashes existing rows uses the same canonical form.

What is hashed: the row's id, time, action, the copied names (actor e-mail, studio name), target, IP and detail.
The actor and studio foreign keys are not: they are set to NULL when a user or studio is deleted, which is not
tampering; the copied names keep what they pointed at.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

#: The hash the first row links to.
GENESIS = "0" * 64
#: Any 64-bit number that no other advisory lock in the portal uses ("GLAUDIT" in ASCII).
ADVISORY_LOCK_KEY = 0x474C4155444954
HASHED_FIELDS = ("id", "at", "actor_email", "action", "organization_name", "target_type", "target_id", "ip_address",
                 "detail", "prev_hash")  # fmt: skip


def _field(row, name):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def canonical(row) -> bytes:
    """The stable JSON of a row's hashed fields (sorted keys, no spaces, UTC time, normalised IP)."""
    at = _field(row, "at")
    ip = _field(row, "ip_address")
    content = {
        "id": _field(row, "id"),
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_email": _field(row, "actor_email"),
        "action": _field(row, "action"),
        "organization_name": _field(row, "organization_name"),
        "target_type": _field(row, "target_type"),
        "target_id": _field(row, "target_id"),
        "ip_address": str(ipaddress.ip_address(ip)) if ip else None,
        "detail": _field(row, "detail"),
        "prev_hash": _field(row, "prev_hash"),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(row) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def lock_chain_head(connection) -> None:
    """Serialise appends until this transaction ends. SQLite needs nothing: its writer already holds the lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_good_id: int | None
    broken_id: int | None = None
    reason: str = ""
    last_hash: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def iter_rows(queryset, *, chunk_size: int = 2000, after_id: int = 0) -> Iterator[dict]:
    """Every row in id order, read by keyset pagination in chunks: flat memory on millions of rows."""
    fields = (*HASHED_FIELDS, "row_hash")
    while True:
        chunk = list(queryset.filter(id__gt=after_id).order_by("id").values(*fields)[:chunk_size])
        yield from chunk
        if len(chunk) < chunk_size:
            return
        after_id = chunk[-1]["id"]


def verify(rows, *, prev_hash: str = GENESIS, last_good_id: int | None = None) -> ChainReport:
    """Walk rows in order; stop at the first that does not match its own content or does not link to the one before."""
    checked = 0
    for row in rows:
        if row["prev_hash"] != prev_hash:
            return ChainReport(checked, last_good_id, row["id"], "it does not link to the row before it (a row "
                               "before it was removed, or its link was changed)", prev_hash)
        if row_hash(row) != row["row_hash"]:
            return ChainReport(checked, last_good_id, row["id"], "its content no longer matches its hash (it was "
                               "changed)", prev_hash)
        checked += 1
        prev_hash, last_good_id = row["row_hash"], row["id"]
    return ChainReport(checked, last_good_id, last_hash=prev_hash)
