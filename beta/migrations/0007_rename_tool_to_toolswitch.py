"""The availability switch is a ToolSwitch: `Tool` is the tool interface's name (beta.tools.base.Tool).

RenameModel renames the table (beta_tool -> beta_toolswitch) and the cohorts join table with it; rows are kept.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("beta", "0006_feedback_inbox_order"),
    ]

    operations = [
        migrations.RenameModel(old_name="Tool", new_name="ToolSwitch"),
    ]
