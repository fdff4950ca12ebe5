import pytest
from django.db import transaction

from portal import events


@pytest.fixture
def received():
    seen = []

    def subscriber(event):
        seen.append(event)

    events.subscribe(subscriber)
    yield seen
    events._subscribers.remove(subscriber)


@pytest.mark.django_db(transaction=True)
def test_an_event_is_delivered_only_after_its_transaction_commits(received):
    with transaction.atomic():
        events.publish("job.succeeded", organization_id=7, data={"job": 1})
        assert received == []
    assert [(e.type, e.organization_id, e.data) for e in received] == [("job.succeeded", 7, {"job": 1})]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_event_is_never_delivered(received):
    def publish_then_fail():
        with transaction.atomic():
            events.publish("job.failed", organization_id=7, data={})
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_does_not_stop_the_others(received, caplog):
    def broken(event):
        raise ValueError("boom")

    events._subscribers.insert(0, broken)
    try:
        events.publish("asset.ready", organization_id=3, data={})
    finally:
        events._subscribers.remove(broken)
    assert [e.type for e in received] == ["asset.ready"]
    assert "event subscriber failed" in caplog.text


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        events.publish("job.exploded", organization_id=1, data={})
