"""Relative times are never in the future: the demo seed writes no future timestamps, and the display clamps."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from beta.models import FeedbackComment, FeedbackNote, FeedbackReport
from portal.models import User


@pytest.mark.django_db
def test_the_demo_seed_writes_no_future_feedback_times_and_the_inbox_says_no_from_now(settings, client):
    call_command("seed_demo", i_know_this_is_not_production=True)
    now = timezone.now()
    assert FeedbackReport.objects.exists()
    for field in ("submitted_at", "revised_at", "triaged_at", "created_at", "updated_at"):
        assert not FeedbackReport.objects.filter(**{f"{field}__gt": now}).exists(), field
    assert not FeedbackComment.objects.filter(created_at__gt=now).exists()
    assert not FeedbackNote.objects.filter(created_at__gt=now).exists()
    client.force_login(User.objects.get(email="reviewer@greenlight.test"))
    page = client.get(reverse("beta:feedback-inbox")).content.decode()
    assert "from now" not in page


def test_a_future_instant_reads_now_with_utc_on_hover():
    soon = timezone.now() + dt.timedelta(hours=4)
    html = render_to_string("beta/_time.html", {"when": soon})
    assert "from now" not in html
    assert "now" in html
    assert f'title="{soon.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"' in html
