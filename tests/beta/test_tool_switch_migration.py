"""Renaming the availability model Tool to ToolSwitch keeps every switch and its cohorts."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("beta", "0006_feedback_inbox_order")]
AFTER = [("beta", "0007_rename_tool_to_toolswitch")]


@pytest.mark.django_db(transaction=True)
def test_switches_and_their_cohorts_survive_the_rename():
    # Given a switch saved by the old model, closed to all but one cohort,
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    opens = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    cohort = old.get_model("portal", "Cohort").objects.create(
        name="Spring 2025", opens_at=opens, closes_at=opens + dt.timedelta(days=90)
    )
    switch = old.get_model("beta", "Tool").objects.create(slug="dailies", enabled=False, all_cohorts=False,
                                                         note="Paused for a fix.")  # fmt: skip
    switch.cohorts.add(cohort)

    # when the rename runs,
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps

    # then the same switch is there as a ToolSwitch, with its cohort.
    renamed = new.get_model("beta", "ToolSwitch").objects.get(slug="dailies")
    assert (renamed.enabled, renamed.all_cohorts, renamed.note) == (False, False, "Paused for a fix.")
    assert list(renamed.cohorts.values_list("name", flat=True)) == ["Spring 2025"]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
