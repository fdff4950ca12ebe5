"""Periodic survey work, run by beat (config/celery.py)."""

from celery import shared_task

from beta.surveys import services


@shared_task(name="beta.surveys.tasks.surveys_notify_opened", ignore_result=True)
def surveys_notify_opened() -> int:
    """Tell the cohorts whose survey has opened since the last run; the service claims each assignment once."""
    return services.surveys_notify_opened()


@shared_task(name="beta.surveys.tasks.surveys_notify_due_soon", ignore_result=True)
def surveys_notify_due_soon() -> int:
    """Remind the cohorts whose survey is due soon; the service claims each assignment once."""
    return services.surveys_notify_due_soon()
