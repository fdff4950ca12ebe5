"""API keys: only the hash is stored, the key is shown once, revoked and expired keys are refused, a read key cannot
write, and every use is audited (at most once a minute per key)."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ApiKey
from portal.models import AuditEvent, Membership
from tests.api.conftest import api_client, assert_problem
from tests.factories import ApiKeyFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_an_owner_creates_a_key_that_is_shown_once_and_stored_only_as_a_hash(client, owner):
    client.force_login(owner.user)
    response = client.post(reverse("apikeys:list"), {"name": "Render farm", "access": "write"})
    assert response.status_code == 200
    key = ApiKey.objects.get()
    raw = response.context["created"].raw_key
    assert raw.startswith(key.prefix + "_")
    assert key.prefix.startswith("gl_live_")
    assert raw.encode() in response.content  # shown on the page right after creation...
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.values().get())  # ...and nowhere in the database
    assert key.scopes == ["read", "write"]
    assert key.created_by == owner.user
    again = client.get(reverse("apikeys:list"))
    assert raw.encode() not in again.content  # never shown again
    assert key.prefix.encode() in again.content
    assert AuditEvent.objects.filter(action="api_key.created", target_id=str(key.pk), actor=owner.user).exists()
    # The new key works.
    assert api_client(raw).get(reverse("api:me")).json()["api_key_prefix"] == key.prefix


def test_members_see_the_keys_but_cannot_create_or_revoke_them(client, key):
    member = MembershipFactory(organization=key.organization, role=Membership.Role.MEMBER).user
    client.force_login(member)
    page = client.get(reverse("apikeys:list"))
    assert page.status_code == 200
    assert key.prefix.encode() in page.content
    assert b"Create key" not in page.content
    assert client.post(reverse("apikeys:list"), {"name": "Mine", "access": "read"}).status_code == 403
    assert client.post(reverse("apikeys:revoke", args=[key.pk])).status_code == 403
    assert ApiKey.objects.count() == 1
    assert ApiKey.objects.get().revoked_at is None


def test_a_revoked_key_is_refused_with_a_problem(client, owner, key, api):
    assert api.get(reverse("api:me")).status_code == 200
    client.force_login(owner.user)
    client.post(reverse("apikeys:revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == owner.user
    assert AuditEvent.objects.filter(action="api_key.revoked", target_id=str(key.pk)).exists()
    response = api.get(reverse("api:job-list"))
    body = assert_problem(response, 401, "invalid-api-key")
    assert "revoked" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_key_is_refused(owner):
    key = ApiKeyFactory(
        organization=owner.organization, created_by=owner.user, expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = assert_problem(api_client(key.raw_key).get(reverse("api:me")), 401, "invalid-api-key")
    assert "expired" in body["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer gl_live_00000000_nope", "Bearer not-a-key", "Bearer ", "Bearer a b"],
)
def test_unknown_or_malformed_keys_are_refused(header):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_problem(client.get(reverse("api:me")), 401, "invalid-api-key")


def test_a_wrong_secret_with_a_real_prefix_is_refused(key):
    forged = key.raw_key[:-4] + ("AAAA" if not key.raw_key.endswith("AAAA") else "BBBB")
    assert_problem(api_client(forged).get(reverse("api:me")), 401, "invalid-api-key")


def test_no_credentials_is_401():
    response = api_client().get(reverse("api:job-list"))
    assert_problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_stops_working_when_its_creator_leaves_the_studio(owner, key, api):
    assert api.get(reverse("api:me")).status_code == 200
    Membership.objects.filter(user=owner.user).delete()
    assert_problem(api.get(reverse("api:me")), 401, "invalid-api-key")


def test_a_read_key_can_read_but_not_write(owner):
    key = ApiKeyFactory(organization=owner.organization, created_by=owner.user, scopes=["read"])
    client = api_client(key.raw_key)
    assert client.get(reverse("api:job-list")).status_code == 200
    body = assert_problem(
        client.post(reverse("api:job-list"), {"tool": "noop", "inputs": [1]}, format="json"), 403, "insufficient-scope"
    )
    assert "write" in body["detail"]
    assert_problem(client.post(reverse("api:asset-list"), {"filename": "a.mov", "size": 10}, format="json"), 403,
                   "insufficient-scope")


def test_only_owners_can_create_keys_through_the_service(owner):
    member = MembershipFactory(organization=owner.organization, role=Membership.Role.MEMBER).user
    from portal.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.api_key_create(actor=member, organization=owner.organization, name="x", scopes=["read"])
    created = services.api_key_create(actor=owner.user, organization=owner.organization, name="x", scopes=["write"])
    assert created.key.scopes == ["read", "write"]  # write implies read


def test_use_is_audited_once_a_minute_and_last_use_recorded(key, api):
    for _ in range(3):
        assert api.get(reverse("api:me"), REMOTE_ADDR="203.0.113.7").status_code == 200
    used = AuditEvent.objects.filter(action="api_key.used", target_id=str(key.pk))
    assert used.count() == 1
    event = used.get()
    assert event.actor == key.created_by
    assert event.organization == key.organization
    assert event.detail["prefix"] == key.prefix
    assert event.ip_address == "203.0.113.7"
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert key.last_used_ip == "203.0.113.7"
    from django.core.cache import cache

    cache.delete(f"api-key-used:{key.pk}")  # a minute later
    api.get(reverse("api:me"))
    assert used.count() == 2


def test_session_authentication_works_for_the_pages_with_csrf(owner):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner.user)
    me = client.get(reverse("api:me")).json()
    assert me["authenticated_by"] == "session"
    assert me["email"] == owner.user.email
    # An unsafe method without the CSRF token is refused.
    assert_problem(client.post(reverse("api:asset-list"), {"filename": "a.mov", "size": 10}, format="json"), 403,
                   "forbidden")


def test_a_new_agreement_version_pauses_keys_until_their_creator_accepts_it(owner, key, api):
    from portal.models import AgreementAcceptance
    from tests.factories import AgreementVersionFactory

    assert api.get(reverse("api:me")).status_code == 200
    version = AgreementVersionFactory()
    body = assert_problem(api.get(reverse("api:me")), 401, "invalid-api-key")
    assert "agreement" in body["detail"]
    AgreementAcceptance.objects.create(user=owner.user, version=version)
    assert api.get(reverse("api:me")).status_code == 200


def test_an_owner_can_give_a_key_an_expiry_day(client, owner):
    client.force_login(owner.user)
    day = (timezone.now() + timedelta(days=3)).date()
    response = client.post(reverse("apikeys:list"), {"name": "Short job", "access": "read",
                                                     "expires_on": day.isoformat()})
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert key.expires_at.date() == day
    assert key.expires_at.hour == 0
    assert key.scopes == ["read"]
    past = client.post(reverse("apikeys:list"), {"name": "Old", "access": "read", "expires_on": "2020-01-01"})
    assert b"Choose a day after today." in past.content
    assert ApiKey.objects.count() == 1


def test_a_session_without_the_current_agreement_gets_a_problem_not_a_redirect(owner):
    from rest_framework.test import APIClient

    from tests.factories import AgreementVersionFactory

    client = APIClient()
    client.force_login(owner.user)
    AgreementVersionFactory()  # a new version the owner has not accepted
    body = assert_problem(client.get(reverse("api:me")), 403, "forbidden")
    assert "agreement" in body["detail"]
