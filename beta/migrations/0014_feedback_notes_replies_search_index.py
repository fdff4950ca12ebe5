"""GIN indexes for the feedback inbox's full-text search over timecoded notes, their replies and staff's replies to
the studio, on PostgreSQL only (SQLite searches by substring). The expressions are the ones
`beta.feedback.selectors._search` builds, so the planner can use them."""

from django.db import migrations

INDEXES = {
    "beta_feedbacknote_text_fts": ("beta_feedbacknote", "text"),
    "beta_feedbacknotereply_body_fts": ("beta_feedbacknotereply", "body"),
    "beta_feedbackcomment_body_fts": ("beta_feedbackcomment", "body"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, (table, column) in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                f"USING gin (to_tsvector('english'::regconfig, COALESCE({column}, '')))"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("beta", "0013_joboutput_manifest_key")]

    operations = [migrations.RunPython(create, drop)]
