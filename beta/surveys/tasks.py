"""Periodic survey work, run by beat (config/celery.py)."""

from celery import shared_task

from beta.surveys import services


@shared_task(name="beta.surveys.tasks.surveys_notify_opened", ignore_result=True)
def surveys_notify_opened() -> int:
    """Email the cohorts whose survey has opened since the last run; the service claims each assignment once."""
    return services.surveys_notify_opened()
