"""The audit trail is a hash chain (portal/audit_chain.py): a changed row fails at itself, a removed row fails at the
one after it, normal use verifies, and concurrent appends on PostgreSQL do not fork the chain."""

import itertools
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.urls import reverse

from portal import audit_chain, selectors
from portal.models import AuditEvent
from portal.services.audit import audit_record
from tests.factories import AdminFactory, OrganizationFactory, OwnerFactory

Action = AuditEvent.Action


def write_events(n: int) -> list[AuditEvent]:
    studio = OrganizationFactory()
    return [
        audit_record(action=Action.STUDIO_UPDATED, organization=studio, detail={"n": i, "seats": [1, 2]})
        for i in range(n)
    ]


def verify_command() -> str:
    out = StringIO()
    call_command("verify_audit", "--chunk-size", "2", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_each_row_links_to_the_one_before_and_the_chain_verifies_on_normal_use():
    events = write_events(5)
    rows = list(AuditEvent.objects.order_by("id"))
    assert rows[0].prev_hash == audit_chain.GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    assert all(row.row_hash == audit_chain.row_hash(row) for row in rows)
    assert f"intact up to #{events[-1].pk} (5 rows verified)" in verify_command()


@pytest.mark.django_db
def test_a_row_changed_in_sql_fails_verification_at_that_row():
    events = write_events(5)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portal_auditevent SET actor_email = %s WHERE id = %s", ["someone@else.test",
                                                                                      events[2].pk])
    with pytest.raises(CommandError, match=rf"broken at #{events[2].pk}: its content no longer matches") as exc:
        verify_command()
    assert f"intact up to #{events[1].pk}" in str(exc.value)


@pytest.mark.django_db
def test_a_row_rehashed_after_a_change_still_breaks_the_next_link():
    events = write_events(4)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.detail = {"n": 99}
    forged.row_hash = audit_chain.row_hash(forged)
    AuditEvent.objects.filter(pk=forged.pk).update(detail=forged.detail, row_hash=forged.row_hash)
    with pytest.raises(CommandError, match=rf"broken at #{events[2].pk}: it does not link"):
        verify_command()


@pytest.mark.django_db
def test_a_deleted_row_fails_verification_at_the_next_one():
    events = write_events(5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE id = %s", [events[3].pk])
    with pytest.raises(CommandError, match=rf"broken at #{events[4].pk}: it does not link"):
        verify_command()


@pytest.mark.django_db
def test_the_staff_audit_page_shows_how_far_the_chain_is_intact_and_where_it_breaks(client):
    client.force_login(AdminFactory())
    events = write_events(3)
    page = client.get(reverse("portal:staff-audit")).content.decode()
    assert f"Hash chain intact up to #{events[-1].pk}" in page
    # A later row on the page verifies from the checkpoint on; a change before the checkpoint is still caught,
    # since the checkpoint row itself is checked first.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portal_auditevent SET row_hash = %s WHERE id = %s", ["f" * 64, events[-1].pk])
    page = client.get(reverse("portal:staff-audit")).content.decode()
    assert f"Hash chain broken at #{events[-1].pk}" in page
    assert f"Intact up to #{events[-2].pk}" in page


@pytest.mark.django_db
def test_the_checkpoint_spares_rereading_verified_rows(django_assert_max_num_queries):
    write_events(30)
    assert selectors.audit_chain_verify().intact
    new = audit_record(action=Action.STUDIO_UPDATED)
    with django_assert_max_num_queries(3):  # the checkpoint row, then the new rows: not the whole trail
        report = selectors.audit_chain_verify(chunk_size=10)
    assert (report.intact, report.last_good_id, report.checked) == (True, new.pk, 31)


@pytest.mark.django_db
def test_the_data_migration_hashes_rows_written_before_the_chain_in_order():
    from importlib import import_module

    from django.apps import apps

    events = write_events(3)
    OwnerFactory()
    AuditEvent.objects.update(prev_hash="", row_hash="")
    migration = import_module("portal.migrations.0010_audit_hash_existing_rows")
    migration.hash_existing_rows(apps, connection.schema_editor())
    assert selectors.audit_chain_verify(full=True).last_good_id == events[-1].pk


@pytest.mark.django_db
def test_an_empty_trail_verifies():
    assert "empty" in verify_command()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_do_not_fork_the_chain(postgres_only):
    """Eight threads, each on its own connection, append at once; the chain stays one line."""
    barrier = threading.Barrier(8)
    errors = []

    def append(i):
        try:
            barrier.wait(timeout=30)
            for n in range(5):
                audit_record(action=Action.STUDIO_UPDATED, detail={"thread": i, "n": n})
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert AuditEvent.objects.count() == 40
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == 40  # no two rows link to the same head
    report = selectors.audit_chain_verify(full=True)
    assert report.intact
    assert report.checked == 40
