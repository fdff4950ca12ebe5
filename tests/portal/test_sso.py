"""Staff single sign-on through OpenID Connect: off unless configured; only allowed domains; they become staff."""

import pytest
from allauth.socialaccount.models import SocialLogin
from django.test import RequestFactory
from django.urls import reverse

from portal.adapters import SocialAccountAdapter
from portal.models import User

pytestmark = pytest.mark.django_db

OIDC = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "studio-sso",
                "name": "Studio single sign-on",
                "client_id": "greenlight",
                "secret": "s3cret",
                "settings": {"server_url": "https://sso.studio.example/realms/staff"},
            }
        ]
    }
}


def test_sso_is_off_when_not_configured(client):
    assert "single sign-on" not in client.get(reverse("account_login")).content.decode()


def test_sso_button_appears_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = OIDC
    settings.OIDC_ENABLED = True
    body = client.get(reverse("account_login")).content.decode()
    assert "Studio single sign-on" in body
    assert "/accounts/oidc/studio-sso/login/" in body


def _sociallogin(email):
    return SocialLogin(user=User(email=email))


def test_sso_signup_only_for_allowed_domains(settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_ALLOWED_DOMAINS = ["studio.example"]
    adapter, request = SocialAccountAdapter(), RequestFactory().get("/")
    assert adapter.is_open_for_signup(request, _sociallogin("ana@studio.example"))
    assert not adapter.is_open_for_signup(request, _sociallogin("ana@partner.example"))
    assert not adapter.is_open_for_signup(request, _sociallogin("ana@studio.example.evil.test"))
    assert not adapter.is_open_for_signup(request, _sociallogin(""))
    settings.OIDC_ENABLED = False
    assert not adapter.is_open_for_signup(request, _sociallogin("ana@studio.example"))
