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
    assert {q.name for q in app.conf.task_queues} == {"default", "cpu", "gpu", "external", "webhooks"}
    scheduled = {entry["options"]["queue"] for entry in app.conf.beat_schedule.values() if "options" in entry}
    assert scheduled == {"default", "cpu", "gpu", "external", "webhooks"}
    assert "beta.tasks.worker_heartbeat" in app.tasks


def test_webhook_tasks_are_routed_to_their_own_queue_whoever_sends_them():
    app.loader.import_default_modules()
    for task in ("webhooks.tasks.deliver", "webhooks.tasks.deliver_due", "webhooks.tasks.purge_deliveries"):
        assert app.amqp.router.route({}, task)["queue"].name == settings.WEBHOOKS_QUEUE == "webhooks"
    assert app.amqp.router.route({}, "beta.tasks.sweep_jobs")["queue"].name == "default"


def test_the_verify_sweep_is_on_the_beat_schedule():
    entries = {e["task"]: e for e in app.conf.beat_schedule.values()}
    assert entries["assets.tasks.resend_stuck_verifications"]["schedule"] == settings.ASSET_VERIFY_SWEEP_SECONDS
