"""The staff console's tools and quotas pages (beta/views/console.py, beta/programme/): what each role may see and do,
the switches per cohort (and the cached switch partners' submits read), the live queues, and the quota form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beta import selectors as beta_selectors
from beta import tools as catalogue
from beta.jobs.submit import usage_month
from beta.models import StudioUsage, ToolSwitch, WorkerHeartbeat
from portal.forms.staff import GB
from portal.models import AuditEvent, Organization
from tests.factories import (
    AssetFactory,
    CohortFactory,
    JobFactory,
    OrganizationFactory,
    OwnerFactory,
)
from tests.staff_console import messages_of, page_forms

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


@pytest.fixture
def studio():
    return OrganizationFactory(cohort=CohortFactory(name="March wave 1"))


def console_urls(studio) -> list[str]:
    return [
        reverse("beta:staff-tools"),
        reverse("beta:staff-tool-queues"),
        reverse("beta:staff-tool-switch", args=["noop"]),
        reverse("beta:staff-quotas"),
        reverse("beta:staff-quota", args=[studio.pk]),
    ]


# --- Who may see and do what ------------------------------------------------------------------------------------
def test_a_partner_gets_404_on_every_console_page_and_changes_nothing(client, studio):
    owner = OwnerFactory(organization=studio).user
    client.force_login(owner)
    for url in console_urls(studio):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"action": "withdraw", "cohort": studio.cohort_id, "max_concurrent_jobs": 9,
                                 "monthly_job_quota": 9, "monthly_compute_minutes": 9,
                                 "storage_quota_gb": 9}).status_code == 404, url
    assert not ToolSwitch.objects.exists()
    assert Organization.objects.get(pk=studio.pk).max_concurrent_jobs == studio.max_concurrent_jobs
    assert not AuditEvent.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, studio):
    for url in console_urls(studio):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response.url, url


def test_a_reviewer_reads_the_pages_without_forms_and_cannot_post(client, reviewer, studio):
    readable = [reverse("beta:staff-tools"), reverse("beta:staff-tool-queues"), reverse("beta:staff-quotas"),
                reverse("beta:staff-quota", args=[studio.pk])]
    for url in readable:
        response = client.get(url)
        assert response.status_code == 200, url
        assert page_forms(response.content.decode()) == [], url
    assert client.post(reverse("beta:staff-tool-switch", args=["noop"]),
                       {"action": "withdraw", "cohort": studio.cohort_id}).status_code == 404
    assert client.post(reverse("beta:staff-quota", args=[studio.pk]),
                       {"max_concurrent_jobs": 9, "monthly_job_quota": 9, "monthly_compute_minutes": 9,
                        "storage_quota_gb": 9}).status_code == 404
    assert client.get(reverse("beta:staff-tool-switch", args=["noop"])).status_code == 404
    assert not ToolSwitch.objects.exists()
    assert Organization.objects.get(pk=studio.pk).max_concurrent_jobs == studio.max_concurrent_jobs


def test_the_admin_sees_the_switches_and_the_limits_form(client, admin, studio):
    tools = client.get(reverse("beta:staff-tools")).content.decode()
    assert "Switch off for March wave 1" in tools
    quota = client.get(reverse("beta:staff-quota", args=[studio.pk])).content.decode()
    assert "Save the limits" in quota


def test_the_switch_answers_only_post(client, admin):
    assert client.get(reverse("beta:staff-tool-switch", args=["noop"])).status_code == 405


# --- The catalogue ----------------------------------------------------------------------------------------------------
def test_each_tool_shows_version_queue_and_time_limits(client, reviewer):
    page = client.get(reverse("beta:staff-tools")).content.decode()
    for tool in catalogue.all_tools():
        assert f'id="tool-{tool.slug}"' in page
        assert f"v{tool.version}" in page
    dailies = catalogue.get_tool("dailies")
    assert f"<code>{dailies.queue}</code>" in page
    assert "30 min (asked to stop), 35 min (stopped)" in page


def test_bedrock_tools_say_not_configured_and_name_the_missing_settings(client, reviewer, settings):
    settings.BEDROCK_ENABLED = False
    rows = {row.tool.slug: row for row in client.get(reverse("beta:staff-tools")).context["tools"]}
    assert rows["generate-image"].problem.startswith("Not configured")
    assert rows["generate-image"].missing == ["BEDROCK_ENABLED"]
    assert rows["dailies"].problem == ""
    assert rows["dailies"].missing == []
    page = client.get(reverse("beta:staff-tools")).content.decode()
    assert "Not configured" in page
    assert "<code>BEDROCK_ENABLED</code>" in page

    # Enabled with a region but no output bucket: the image tool is ready, the video tool still misses its bucket.
    settings.BEDROCK_ENABLED, settings.BEDROCK_REGION, settings.BEDROCK_OUTPUT_BUCKET = True, "us-east-1", ""
    rows = {row.tool.slug: row for row in client.get(reverse("beta:staff-tools")).context["tools"]}
    assert rows["generate-image"].problem == ""
    assert rows["generate-image"].missing == []
    assert rows["generate-video"].missing == ["BEDROCK_OUTPUT_BUCKET"]

    settings.BEDROCK_REGION = ""
    rows = {row.tool.slug: row for row in client.get(reverse("beta:staff-tools")).context["tools"]}
    assert rows["generate-video"].missing == ["BEDROCK_REGION", "BEDROCK_OUTPUT_BUCKET"]


# --- Switches ---------------------------------------------------------------------------------------------------------
def switch(client, action: str, tool: str = "noop", **data):
    return client.post(reverse("beta:staff-tool-switch", args=[tool]), {"action": action, **data})


def test_switching_a_tool_off_for_a_cohort_reaches_the_cached_switch_of_its_studios(client, admin, studio):
    other = OrganizationFactory(cohort=CohortFactory(name="April wave"))
    noop = catalogue.get_tool("noop")
    # Given: the switch is cached as "on for every cohort" (as a submit leaves it).
    assert beta_selectors.tool_availability(noop, studio) == (True, "")

    response = switch(client, "withdraw", cohort=studio.cohort_id)

    assert response.status_code == 302
    assert response.url == reverse("beta:staff-tools") + "#tool-noop"
    assert messages_of(response) == ["Diagnostics: no-op is no longer offered to March wave 1."]
    row = ToolSwitch.objects.get(slug="noop")
    assert row.all_cohorts is False
    assert set(row.cohorts.all()) == {other.cohort}
    assert beta_selectors.tool_availability(noop, studio) == (False, "This tool is not offered to your cohort.")
    assert beta_selectors.tool_availability(noop, other) == (True, "")
    event = AuditEvent.objects.get(action=Action.TOOL_SWITCHED)
    assert (event.actor, event.detail) == (admin, {"tool": "noop", "cohort": "March wave 1", "offered": False})

    # And back on: the cohort is offered the tool again.
    switch(client, "offer", cohort=studio.cohort_id)
    assert beta_selectors.tool_availability(noop, studio) == (True, "")
    assert AuditEvent.objects.filter(action=Action.TOOL_SWITCHED).count() == 2


def test_offering_to_every_cohort_includes_cohorts_created_later(client, admin, studio):
    switch(client, "withdraw", cohort=studio.cohort_id)
    switch(client, "offer-all")
    later = OrganizationFactory(cohort=CohortFactory(name="June wave"))
    noop = catalogue.get_tool("noop")
    assert beta_selectors.tool_availability(noop, studio) == (True, "")
    assert beta_selectors.tool_availability(noop, later) == (True, "")
    row = ToolSwitch.objects.get(slug="noop")
    assert row.all_cohorts
    assert not row.cohorts.exists()


def test_pausing_a_tool_shows_the_note_to_partners_and_resuming_clears_it(client, admin, studio):
    noop = catalogue.get_tool("noop")
    assert beta_selectors.tool_availability(noop, studio)[0]

    switch(client, "pause", note="Back on Monday after maintenance.")
    assert beta_selectors.tool_availability(noop, studio) == (False, "Back on Monday after maintenance.")
    assert "Paused for everyone" in client.get(reverse("beta:staff-tools")).content.decode()

    switch(client, "resume")
    assert beta_selectors.tool_availability(noop, studio) == (True, "")
    assert ToolSwitch.objects.get(slug="noop").note == ""


@pytest.mark.parametrize(
    ("data", "tool", "message"),
    [
        ({"action": "explode"}, "noop", "That is not a switch of this page."),
        ({"action": "withdraw"}, "noop", "Choose the cohort to offer the tool to or withdraw it from."),
        ({"action": "withdraw", "cohort": "999999"}, "noop", "That cohort does not exist (any more)."),
        ({"action": "withdraw", "cohort": "x"}, "noop", "That cohort does not exist (any more)."),
        ({"action": "pause", "note": "n" * 201}, "noop", "at most 200 characters"),
        ({"action": "pause"}, "no-such-tool", "There is no tool called “no-such-tool”."),
    ],
)
def test_a_bad_switch_says_why_and_changes_nothing(client, admin, studio, data, tool, message):
    response = client.post(reverse("beta:staff-tool-switch", args=[tool]), data)

    assert response.status_code == 302
    (text,) = messages_of(response)
    assert text.startswith("Nothing was changed.")
    assert message in text
    assert not ToolSwitch.objects.exists()
    assert not AuditEvent.objects.exists()


# --- Queues live -------------------------------------------------------------------------------------------------
def test_the_queues_show_waiting_running_workers_and_recent_failures(client, reviewer, studio):
    now = timezone.now()
    JobFactory(organization=studio, queue="cpu", status="queued")
    JobFactory(organization=studio, queue="cpu", status="queued")
    JobFactory(organization=studio, queue="cpu", status="running", worker="worker-a", heartbeat_at=now)
    JobFactory(organization=studio, queue="cpu", status="running", worker="worker-gone",
               heartbeat_at=now - timedelta(minutes=5))
    WorkerHeartbeat.objects.create(queue="cpu", hostname="worker-b", beat_at=now - timedelta(seconds=20))
    WorkerHeartbeat.objects.create(queue="gpu", hostname="gpu-old", beat_at=now - timedelta(minutes=10))
    recent = JobFactory(organization=studio, status="failed", finished_at=now - timedelta(hours=2),
                        error="The plate has no audio track.")
    JobFactory(organization=studio, status="failed", finished_at=now - timedelta(hours=30))

    response = client.get(reverse("beta:staff-tool-queues"))

    queues = {q.name: q for q in response.context["queues"]}
    assert (queues["cpu"].waiting, queues["cpu"].running) == (2, 2)
    assert queues["cpu"].workers == ["worker-a", "worker-b"]
    assert queues["gpu"].workers == []
    assert queues["gpu"].last_beat_host == "gpu-old"
    assert [j.pk for j in response.context["failed_jobs"]] == [recent.pk]
    page = response.content.decode()
    assert 'hx-trigger="every 5s"' in page
    assert reverse("beta:job-detail", args=[recent.pk]) in page
    assert "The plate has no audio track." in page
    assert "Failed in the last 24 hours (1)" in page


def test_a_queue_with_waiting_jobs_and_no_worker_says_so(client, reviewer, studio):
    JobFactory(organization=studio, queue="gpu", status="queued")
    page = client.get(reverse("beta:staff-tool-queues")).content.decode()
    assert "Jobs are waiting and no worker is serving this queue." in page


# --- Quotas -----------------------------------------------------------------------------------------------------------
def test_usage_is_shown_against_each_limit_in_words_and_bars(client, reviewer, studio):
    Organization.objects.filter(pk=studio.pk).update(
        max_concurrent_jobs=2, monthly_job_quota=10, monthly_compute_minutes=100, storage_quota_bytes=GB
    )
    JobFactory(organization=studio, status="running", dispatched_at=timezone.now())
    StudioUsage.objects.create(organization=studio, month=usage_month(timezone.now()), jobs=9, minutes=25)
    AssetFactory(organization=studio, size_bytes=GB // 4)
    AssetFactory(organization=studio, size_bytes=GB, status="deleted")  # not counted
    other = OrganizationFactory()
    AssetFactory(organization=other, size_bytes=GB // 2)

    response = client.get(reverse("beta:staff-quota", args=[studio.pk]))

    lines = {line.key: line for line in response.context["lines"]}
    assert (lines["running"].used, lines["running"].limit, lines["running"].percent) == (1, 2, 50)
    assert (lines["jobs"].percent, lines["jobs"].level) == (90, "high")
    assert (lines["minutes"].percent, lines["minutes"].level) == (25, "ok")
    assert (lines["storage"].used, lines["storage"].percent) == (GB // 4, 25)
    page = response.content.decode()
    assert "9 jobs of 10" in page
    assert "Nearly full" in page
    assert "256.0 MB of 1.0 GB" in page
    assert 'role="meter"' in page
    assert 'aria-valuenow="90"' in page

    listing = client.get(reverse("beta:staff-quotas"))
    assert listing.status_code == 200
    by_studio = {row["studio"].pk: row["lines"] for row in listing.context["rows"]}
    assert {line.key: line.used for line in by_studio[other.pk]}["storage"] == GB // 2


def test_the_quota_list_reads_in_a_fixed_number_of_queries(client, reviewer, django_assert_max_num_queries):
    for _ in range(3):
        OrganizationFactory()
    client.get(reverse("beta:staff-quotas"))  # warm the session and the cache
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("beta:staff-quotas"))
    for _ in range(5):
        OrganizationFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("beta:staff-quotas"))


def test_a_limit_at_or_over_its_quota_says_so(client, reviewer, studio):
    Organization.objects.filter(pk=studio.pk).update(monthly_job_quota=0)
    StudioUsage.objects.create(organization=studio, month=usage_month(timezone.now()), jobs=3, minutes=0)
    response = client.get(reverse("beta:staff-quota", args=[studio.pk]))
    lines = {line.key: line for line in response.context["lines"]}
    assert (lines["jobs"].percent, lines["jobs"].level) == (100, "full")
    assert "At the limit" in response.content.decode()


def test_the_admin_changes_the_limits_and_it_is_audited(client, admin, studio):
    response = client.post(
        reverse("beta:staff-quota", args=[studio.pk]),
        {"max_concurrent_jobs": 4, "monthly_job_quota": 900, "monthly_compute_minutes": 12000, "storage_quota_gb": 750},
    )

    assert response.status_code == 302
    assert response.url == reverse("beta:staff-quota", args=[studio.pk])
    studio.refresh_from_db()
    assert (studio.max_concurrent_jobs, studio.monthly_job_quota, studio.monthly_compute_minutes,
            studio.storage_quota_bytes) == (4, 900, 12000, 750 * GB)
    event = AuditEvent.objects.get(action=Action.STUDIO_UPDATED)
    assert event.actor == admin
    assert event.organization == studio
    assert event.detail["changes"]["monthly_compute_minutes"] == [6000, 12000]
    assert event.detail["changes"]["storage_quota_bytes"] == [500 * GB, 750 * GB]


def test_saving_unchanged_limits_writes_no_audit_line(client, admin, studio):
    client.post(
        reverse("beta:staff-quota", args=[studio.pk]),
        {"max_concurrent_jobs": studio.max_concurrent_jobs, "monthly_job_quota": studio.monthly_job_quota,
         "monthly_compute_minutes": studio.monthly_compute_minutes, "storage_quota_gb": 500},
    )
    assert not AuditEvent.objects.exists()


GOOD = {"max_concurrent_jobs": "3", "monthly_job_quota": "100", "monthly_compute_minutes": "600",
        "storage_quota_gb": "100"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_concurrent_jobs", "0", "Ensure this value is greater than or equal to 1."),
        ("max_concurrent_jobs", "101", "Ensure this value is less than or equal to 100."),
        ("monthly_job_quota", "-1", "Ensure this value is greater than or equal to 0."),
        ("monthly_compute_minutes", "lots", "Enter a whole number."),
        ("storage_quota_gb", "0", "Ensure this value is greater than or equal to 1."),
        ("storage_quota_gb", "", "This field is required."),
    ],
)
def test_bad_limits_get_a_message_next_to_the_field_and_change_nothing(client, admin, studio, field, value, message):
    before = Organization.objects.filter(pk=studio.pk).values().get()

    response = client.post(reverse("beta:staff-quota", args=[studio.pk]), {**GOOD, field: value})

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Organization.objects.filter(pk=studio.pk).values().get() == before
    assert not AuditEvent.objects.exists()


def test_a_missing_studio_is_a_404(client, admin):
    assert client.get(reverse("beta:staff-quota", args=[987654])).status_code == 404
