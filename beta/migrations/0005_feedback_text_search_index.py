"""A GIN index for the feedback inbox's full-text search, on PostgreSQL only (SQLite searches by substring).

The expression is the one `beta.feedback.selectors._search` builds (SearchVector("text", config="english")), so the
planner uses it for `to_tsvector(...) @@ websearch_to_tsquery(...)`.
"""

from django.db import migrations

INDEX = "beta_feedback_text_fts"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON beta_feedbackreport "
            "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("beta", "0004_feedback_draft_content")]

    operations = [migrations.RunPython(create, drop)]
