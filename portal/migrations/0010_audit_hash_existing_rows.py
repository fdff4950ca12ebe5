"""Hash the audit rows written before the chain existed, in id order, so the whole trail verifies."""

from django.db import migrations


def hash_existing_rows(apps, schema_editor):
    from portal import audit_chain

    AuditEvent = apps.get_model("portal", "AuditEvent")
    audit_chain.lock_chain_head(schema_editor.connection)
    prev_hash = audit_chain.GENESIS
    for row in audit_chain.iter_rows(AuditEvent.objects.all()):
        row["prev_hash"] = prev_hash
        row["row_hash"] = audit_chain.row_hash(row)
        AuditEvent.objects.filter(id=row["id"]).update(prev_hash=prev_hash, row_hash=row["row_hash"])
        prev_hash = row["row_hash"]


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0009_audit_hash_chain"),
    ]

    operations = [
        migrations.RunPython(hash_existing_rows, migrations.RunPython.noop),
    ]
