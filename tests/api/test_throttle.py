"""Rate limits on Redis: per key and per person (all their keys and their session), answered with 429 and
Retry-After."""

import pytest
from django.urls import reverse

from tests.api.conftest import api_client, assert_problem
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def test_a_key_over_its_rate_gets_429_with_retry_after(settings, key, api):
    settings.API_THROTTLE_KEY_RATE = "3/min"
    for _ in range(3):
        assert api.get(reverse("api:me")).status_code == 200
    response = api.get(reverse("api:job-list"))
    problem = assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Retry-After"] in problem["detail"]
    # Another key of the same studio has its own allowance.
    other = ApiKeyFactory(organization=key.organization)
    assert api_client(other.raw_key).get(reverse("api:me")).status_code == 200


def test_a_person_is_limited_across_their_keys_and_session(settings, owner, key, api):
    settings.API_THROTTLE_USER_RATE = "4/hour"
    second = api_client(ApiKeyFactory(organization=owner.organization, created_by=owner.user).raw_key)
    assert api.get(reverse("api:me")).status_code == 200
    assert second.get(reverse("api:me")).status_code == 200
    assert api.get(reverse("api:me")).status_code == 200
    assert second.get(reverse("api:me")).status_code == 200
    response = second.get(reverse("api:me"))
    assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 3600
    session = api_client()
    session.force_login(owner.user)
    assert_problem(session.get(reverse("api:me")), 429, "rate-limited")


def test_the_counters_live_in_the_redis_cache(settings, key, api):
    from django.core.cache import caches

    settings.API_THROTTLE_KEY_RATE = "100/min"
    api.get(reverse("api:me"))
    api.get(reverse("api:me"))
    cache = caches["default"]
    assert type(cache).__name__ == "RedisCache"
    client = cache._cache.get_client()
    found = list(client.scan_iter(match="*api-throttle:key:*"))
    assert found, "no throttle counter in Redis"
    assert int(client.get(found[0])) == 2
