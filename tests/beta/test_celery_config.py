from django.conf import settings

from config.celery import app


def test_celery_is_configured_for_reliability():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > settings.CELERY_LONGEST_TASK_SECONDS
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_queues_are_declared_and_beat_keeps_every_queue_alive():
    app.loader.import_default_modules()
    assert {q.name for q in app.conf.task_queues} == {"default", "cpu", "gpu", "external"}
    scheduled = {entry["options"]["queue"] for entry in app.conf.beat_schedule.values() if "options" in entry}
    assert scheduled == {"default", "cpu", "gpu", "external"}
    assert "beta.tasks.worker_heartbeat" in app.tasks
