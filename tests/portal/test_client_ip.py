"""The client address behind a proxy: TRUSTED_PROXIES decides whose X-Forwarded-For is believed, and one helper
serves the audit trail, agreement acceptance, the sign-in lock-out and the API throttle."""

import pytest
from django.urls import reverse

from portal.client_ip import client_ip_from
from portal.models import AgreementAcceptance, AuditEvent
from tests.factories import PASSWORD, AgreementVersionFactory, MembershipFactory

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip_from("203.0.113.9", "198.51.100.1") == "203.0.113.9"


@pytest.mark.usefixtures("behind_proxy")
@pytest.mark.parametrize(
    ("remote", "xff", "expected"),
    [
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own (forgeable) entry is left of it
        (PROXY, "6.6.6.6, 198.51.100.7, 10.1.2.3", "198.51.100.7"),  # through two trusted hops
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # an untrusted peer's header is not believed
        (PROXY, "not-an-ip", PROXY),
        (PROXY, "", PROXY),
        (PROXY, "2001:db8::7", "2001:db8::7"),
        (PROXY, "198.51.100.7:4711", "198.51.100.7"),
        ("fd00::1", "[2001:db8::9]:443", "2001:db8::9"),
        (PROXY, "10.9.9.9", "10.9.9.9"),  # only trusted hops: the leftmost one
    ],
)
def test_the_rightmost_untrusted_hop_is_the_client(remote, xff, expected):
    assert client_ip_from(remote, xff) == expected


def test_a_bad_trusted_proxies_value_is_refused_at_start():
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8,not-a-network", "DJANGO_DEBUG": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
            "from django.conf import settings; settings.TRUSTED_PROXIES",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
def test_audit_and_agreement_acceptance_record_the_client_behind_the_proxy(client):
    agreement = AgreementVersionFactory()
    member = MembershipFactory()
    client.post(
        reverse("account_login"),
        {"login": member.user.email, "password": "nope"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7",
    )
    assert AuditEvent.objects.get(action="login.failed").ip_address == "198.51.100.7"
    client.force_login(member.user)
    client.post(
        reverse("portal:agreement"),
        {"accept": "yes", "next": "/"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert AgreementAcceptance.objects.get(user=member.user, version=agreement).ip_address == "198.51.100.8"


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
def test_one_address_behind_the_proxy_cannot_lock_out_everyone_else(client):
    attacker_targets = [MembershipFactory() for _ in range(5)]
    colleague = MembershipFactory()
    for target in attacker_targets:
        client.post(
            reverse("account_login"),
            {"login": target.user.email, "password": "guess"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    # The attacker's address is locked out (per address) ...
    refused = client.post(
        reverse("account_login"),
        {"login": colleague.user.email, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert "Too many failed login attempts" in refused.content.decode()
    # ... a colleague behind the same proxy is not.
    ok = client.post(
        reverse("account_login"),
        {"login": colleague.user.email, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert ok.status_code == 302
    assert int(client.session["_auth_user_id"]) == colleague.user.pk


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
def test_one_account_cannot_be_guessed_at_from_many_addresses(client):
    member = MembershipFactory()
    for n in range(5):
        client.post(
            reverse("account_login"),
            {"login": member.user.email, "password": f"guess-{n}"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}",
        )
    refused = client.post(
        reverse("account_login"),
        {"login": member.user.email, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert "Too many failed login attempts" in refused.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
def test_the_api_throttles_anonymous_callers_per_client_not_per_proxy(client, settings):
    settings.API_THROTTLE_USER_RATE = "2/min"
    for _ in range(2):
        client.get(reverse("api:problem-types"), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert (
        client.get(reverse("api:problem-types"), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code
        == 429
    )
    other = client.get(reverse("api:problem-types"), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.status_code == 200
