"""A Redis outage: throttles fail open (logged and counted), sign-in keeps working with its lock-out counted in the
database, and the API answers. The cache points at a port nothing listens on."""

import logging

import pytest
from django.urls import reverse

from config.failopen import THROTTLE_FAIL_OPEN
from portal.models import AuditEvent
from tests.conftest import free_port
from tests.factories import PASSWORD, ApiKeyFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "KEY_PREFIX": "gl-dead",
        }
    }
    from django.core.cache import cache

    with pytest.raises(Exception, match=r"(?i)connect"):
        cache.get("anything")  # the cache really is down


def test_sign_in_works_during_a_redis_outage_and_the_failure_is_counted(client, redis_down, caplog):
    member = MembershipFactory()
    before = THROTTLE_FAIL_OPEN.value("allauth")
    with caplog.at_level(logging.WARNING, logger="greenlight.throttle"):
        response = client.post(reverse("account_login"), {"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == member.user.pk
    assert THROTTLE_FAIL_OPEN.value("allauth") > before
    assert any("failing open" in r.getMessage() for r in caplog.records)


def test_the_lock_out_counts_in_the_database_during_a_redis_outage(client, redis_down):
    member = MembershipFactory()
    for n in range(5):
        response = client.post(reverse("account_login"), {"login": member.user.email, "password": f"wrong-{n}"})
        assert "Too many failed login attempts" not in response.content.decode()
    locked = client.post(reverse("account_login"), {"login": member.user.email, "password": PASSWORD})
    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.failed").count() == 5


def test_the_database_lock_out_is_per_account_and_per_address(client, redis_down):
    victim, other = MembershipFactory(), MembershipFactory()
    # Five failures for the victim from five addresses lock the victim's account everywhere ...
    for n in range(5):
        client.post(
            reverse("account_login"), {"login": victim.user.email, "password": "x"}, REMOTE_ADDR=f"198.51.100.{n}"
        )
    locked = client.post(
        reverse("account_login"), {"login": victim.user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.50"
    )
    assert "Too many failed login attempts" in locked.content.decode()
    # ... but not another person's, from an address of its own.
    ok = client.post(
        reverse("account_login"), {"login": other.user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.51"
    )
    assert ok.status_code == 302


def test_the_api_answers_during_a_redis_outage(client, redis_down, settings, caplog):
    settings.API_THROTTLE_KEY_RATE = "1/min"  # would refuse the second call if it could count
    key = ApiKeyFactory()
    before = THROTTLE_FAIL_OPEN.value("api_throttle")
    with caplog.at_level(logging.WARNING, logger="greenlight.throttle"):
        for _ in range(3):
            assert client.get(reverse("api:me"), HTTP_AUTHORIZATION=f"Bearer {key.raw_key}").status_code == 200
    assert THROTTLE_FAIL_OPEN.value("api_throttle") >= before + 3
    assert 'greenlight_throttle_fail_open_total{where="api_throttle"}' in THROTTLE_FAIL_OPEN.exposition()


def test_staff_sign_in_with_totp_works_during_a_redis_outage(client, redis_down):
    from tests.factories import StaffFactory
    from tests.portal.test_signin_security import totp_code

    reviewer = StaffFactory()
    response = client.post(reverse("account_login"), {"login": reviewer.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("mfa_authenticate"), {"code": totp_code()}).status_code == 302
    assert int(client.session["_auth_user_id"]) == reviewer.pk
    assert client.get(reverse("portal:staff-home")).status_code == 200
