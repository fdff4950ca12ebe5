"""The Webhooks pages: owners manage endpoints; members read; another studio's endpoint is a 404."""

import re

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import MembershipFactory, OwnerFactory, StaffFactory, WebhookEndpointFactory
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:endpoint-list")


def _detail(endpoint) -> str:
    return reverse("webhooks:endpoint-detail", args=[endpoint.pk])


def _secret_in(html: str) -> str:
    return re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', html).group(1)


@pytest.fixture
def owner():
    return OwnerFactory()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner.user)
    return client


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(owner_client, owner, receiver):
    response = owner_client.get(LIST)
    assert response.status_code == 200
    assert "No endpoints yet" in response.content.decode()
    assert 'href="/webhooks/"' in response.content.decode()  # in the partner navigation

    response = owner_client.post(
        LIST, {"url": receiver.url, "description": "render farm", "events": ["job.succeeded", "job.failed"]}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = _secret_in(response.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.organization, endpoint.created_by, endpoint.secret) == (owner.organization, owner.user, secret)
    assert endpoint.events == ["job.succeeded", "job.failed"]
    event = AuditEvent.objects.get(action="webhook.created", target_id=str(endpoint.pk))
    assert event.get_action_display() == "Webhook endpoint created"  # a named action, listed in the audit filter

    detail = owner_client.get(_detail(endpoint)).content.decode()
    assert secret not in detail
    assert endpoint.secret_hint in detail
    assert receiver.url in owner_client.get(LIST).content.decode()


def test_a_refused_url_is_explained_next_to_the_field(owner_client, production_defaults):
    response = owner_client.post(LIST, {"url": "http://10.0.0.1/hook", "events": ["job.succeeded"]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Webhook URLs must use https://." in html
    assert 'id="id_url_error"' in html
    response = owner_client.post(LIST, {"url": "https://10.0.0.1/hook", "events": []})
    html = response.content.decode()
    assert "a private address" in html
    assert "Choose at least one event." in html
    assert not WebhookEndpoint.objects.exists()


def test_the_owner_edits_events_and_disables_the_endpoint(owner_client, owner, receiver):
    endpoint, _ = services.endpoint_create(
        user=owner.user, organization=owner.organization, url=receiver.url, events=["job.succeeded"]
    )
    response = owner_client.post(
        _detail(endpoint), {"url": receiver.url, "description": "", "events": ["asset.ready", "job.failed"]}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["job.failed", "asset.ready"]  # the catalogue's order
    assert not endpoint.enabled
    assert endpoint.disabled_reason == f"Disabled by {owner.user.email}."


def test_the_owner_rotates_the_secret_sends_a_test_and_deletes(owner_client, owner, receiver, enqueued):
    endpoint, old = services.endpoint_create(
        user=owner.user, organization=owner.organization, url=receiver.url, events=["job.succeeded"]
    )
    response = owner_client.post(reverse("webhooks:endpoint-rotate-secret", args=[endpoint.pk]))
    new = _secret_in(response.content.decode())
    endpoint.refresh_from_db()
    assert new != old
    assert (endpoint.secret, endpoint.previous_secret) == (new, old)

    response = owner_client.post(reverse("webhooks:endpoint-test", args=[endpoint.pk]), follow=True)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == "webhook.test"
    assert delivery.message_id in response.content.decode()

    response = owner_client.post(reverse("webhooks:endpoint-delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_log_shows_each_attempt_in_a_bounded_number_of_queries(
    owner_client, owner, django_assert_max_num_queries
):
    endpoint = WebhookEndpointFactory(organization=owner.organization)
    for n in range(12):
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="job.succeeded",
                                                  message_id=f"msg_{n}", payload={}, attempts=2)
        WebhookAttempt.objects.create(delivery=delivery, number=1, attempted_at=delivery.created_at,
                                      status_code=500, duration_ms=12, response_excerpt="boom <script>",
                                      error="The endpoint answered HTTP 500.")
        WebhookAttempt.objects.create(delivery=delivery, number=2, attempted_at=delivery.created_at,
                                      error="Timed out waiting for the answer.")
    with django_assert_max_num_queries(12):
        response = owner_client.get(_detail(endpoint))
    html = response.content.decode()
    assert html.count('pill--failed">HTTP 500') == 12
    assert html.count("Timed out waiting for the answer.") == 12
    assert "boom &lt;script&gt;" in html


def test_a_member_reads_but_cannot_change_endpoints(client, owner, enqueued):
    member = MembershipFactory(organization=owner.organization)
    endpoint = WebhookEndpointFactory(organization=owner.organization)
    before = WebhookEndpoint.objects.values().get(pk=endpoint.pk)
    client.force_login(member.user)

    assert endpoint.url in client.get(LIST).content.decode()
    html = client.get(_detail(endpoint)).content.decode()
    assert "Rotate the secret" not in html
    assert "Delete this endpoint" not in html
    assert client.post(LIST, {"url": "https://hooks.studio.test/x", "events": ["job.failed"]}).status_code == 403
    assert client.post(_detail(endpoint), {"url": endpoint.url, "events": ["job.failed"]}).status_code == 403
    for name in ("webhooks:endpoint-rotate-secret", "webhooks:endpoint-test", "webhooks:endpoint-delete"):
        assert client.post(reverse(name, args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.values().get(pk=endpoint.pk) == before
    assert WebhookEndpoint.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_another_studios_endpoint_is_a_404(owner_client):
    theirs = WebhookEndpointFactory()
    before = WebhookEndpoint.objects.values().get(pk=theirs.pk)
    assert owner_client.get(_detail(theirs)).status_code == 404
    for name in ("webhooks:endpoint-detail", "webhooks:endpoint-rotate-secret", "webhooks:endpoint-test",
                 "webhooks:endpoint-delete"):
        assert owner_client.post(reverse(name, args=[theirs.pk])).status_code == 404
    assert WebhookEndpoint.objects.values().get(pk=theirs.pk) == before
    assert theirs.url not in owner_client.get(LIST).content.decode()


def test_studio_staff_do_not_use_the_partner_pages(client):
    client.force_login(StaffFactory())
    assert client.get(LIST).status_code == 404


def test_the_services_refuse_a_member_and_staff(owner):
    from portal.errors import PermissionDeniedError

    member = MembershipFactory(organization=owner.organization)
    endpoint = WebhookEndpointFactory(organization=owner.organization)
    with pytest.raises(PermissionDeniedError):
        services.endpoint_create(user=member.user, organization=owner.organization,
                                 url="https://hooks.studio.test/x", events=["job.failed"])
    for user in (member.user, StaffFactory()):
        with pytest.raises(PermissionDeniedError):
            services.endpoint_rotate_secret(user=user, endpoint=endpoint)
        with pytest.raises(PermissionDeniedError):
            services.endpoint_delete(user=user, endpoint=endpoint)
