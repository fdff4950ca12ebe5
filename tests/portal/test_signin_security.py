"""Every way into the portal, in one place: a password alone never yields a staff session.

The entry points: allauth's sign-in form, the Django admin's login, a session logged in by Django's own `login()`
(what the admin login used to do), the API (session and API key, and a password sent as HTTP Basic), password reset,
passkey (WebAuthn) sign-in and OpenID Connect single sign-on. After each attempt with the programme admin's email and
password (and no second factor), the audit trail, the Django admin and the API refuse the client.
"""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import PASSWORD, TOTP_SECRET, AdminFactory, ApiKeyFactory, MembershipFactory

pytestmark = pytest.mark.django_db

STAFF_AUDIT = "/staff/audit/"
ADMIN_INDEX = "/django-admin/"
API_ASSETS = "/api/v1/assets/"


def totp_code() -> str:
    # A code with time left in its window, so a window boundary mid-test cannot fail it.
    while 30 - time.time() % 30 < 3:
        time.sleep(0.5)
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def assert_no_staff_access(client) -> None:
    audit = client.get(STAFF_AUDIT)
    assert audit.status_code == 302, "the audit trail must send the client to sign in"
    assert audit.url.startswith(reverse("account_login"))
    admin_index = client.get(ADMIN_INDEX)
    assert admin_index.status_code == 302
    assert not admin_index.url.startswith(ADMIN_INDEX) or admin_index.url.startswith("/django-admin/login/")
    assert client.get(API_ASSETS).status_code in (401, 403)
    assert "_auth_user_id" not in client.session


def assert_full_staff_access(client) -> None:
    assert client.get(STAFF_AUDIT).status_code == 200
    assert client.get(ADMIN_INDEX).status_code == 200
    assert client.get(API_ASSETS).status_code == 200


@pytest.fixture
def programme_admin():
    return AdminFactory(is_superuser=True)


# --- allauth's sign-in form ------------------------------------------------------------------------------------------
def test_allauth_sign_in_with_the_password_alone_stops_at_the_second_factor(client, programme_admin):
    response = client.post(reverse("account_login"), {"login": programme_admin.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    assert_no_staff_access(client)


def test_allauth_sign_in_with_the_second_factor_opens_staff_pages_admin_and_api(client, programme_admin):
    client.post(reverse("account_login"), {"login": programme_admin.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert_full_staff_access(client)
    assert AuditEvent.objects.filter(action="login.succeeded", actor=programme_admin).count() == 1


# --- the Django admin's login ----------------------------------------------------------------------------------------
def test_admin_login_with_the_password_gives_no_session_and_sends_to_allauth(client, programme_admin):
    response = client.post("/django-admin/login/", {"username": programme_admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert_no_staff_access(client)


def test_admin_login_page_is_allauths_sign_in(client):
    response = client.get("/django-admin/login/?next=/django-admin/portal/user/")
    assert response.status_code == 302
    assert response.url == reverse("account_login") + "?next=%2Fdjango-admin%2Fportal%2Fuser%2F"


def test_admin_login_cannot_be_used_to_guess_passwords_unthrottled_or_unaudited(client, programme_admin):
    # Thirty guesses at the admin login check nothing (it has no password form any more) ...
    for n in range(30):
        client.post("/django-admin/login/", {"username": programme_admin.email, "password": f"guess-{n}"})
    assert "_auth_user_id" not in client.session
    # ... and the one sign-in form locks the account after five failures, each audited.
    for n in range(5):
        client.post(reverse("account_login"), {"login": programme_admin.email, "password": f"guess-{n}"})
    locked = client.post(reverse("account_login"), {"login": programme_admin.email, "password": PASSWORD})
    assert "Too many failed login attempts" in locked.content.decode()
    assert AuditEvent.objects.filter(action="login.failed", detail__email=programme_admin.email).count() == 5


def test_admin_after_a_complete_sign_in_redirects_to_the_admin(client, programme_admin):
    client.post(reverse("account_login"), {"login": programme_admin.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    response = client.get("/django-admin/login/?next=/django-admin/portal/user/")
    assert response.url == "/django-admin/portal/user/"


# --- a session made by Django's own login() (the old admin login, or any future view that calls it) ----------------
def test_a_password_only_session_is_ended_everywhere_even_under_accounts(client, programme_admin):
    for path in (STAFF_AUDIT, ADMIN_INDEX, API_ASSETS, "/accounts/2fa/", "/accounts/password/change/"):
        client.force_login(programme_admin, mfa=False)
        response = client.get(path)
        assert response.status_code in (302, 401), path
        assert "_auth_user_id" not in client.session, path
    assert_no_staff_access(client)


def test_the_api_session_authentication_refuses_a_session_without_the_second_factor(rf, programme_admin):
    # Below the gate too: the API's own session authentication refuses it, whatever middleware runs first.
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.request import Request

    from api.authentication import SessionAuthentication

    request = rf.get(API_ASSETS)
    request.session, request.user = SessionStore(), programme_admin
    request._dont_enforce_csrf_checks = True
    with pytest.raises(AuthenticationFailed):
        SessionAuthentication().authenticate(Request(request))


def test_the_admin_site_refuses_a_session_without_the_second_factor(rf, programme_admin):
    from django.contrib import admin
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get(ADMIN_INDEX)
    request.session, request.user = SessionStore(), programme_admin
    assert not admin.site.has_permission(request)


# --- the API: a password is not an API credential; a key reaches only its own studio -------------------------------
def test_the_api_does_not_take_a_password(client, programme_admin):
    import base64

    basic = base64.b64encode(f"{programme_admin.email}:{PASSWORD}".encode()).decode()
    assert client.get(API_ASSETS, HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 401
    assert client.get(API_ASSETS, HTTP_AUTHORIZATION=f"Bearer {PASSWORD}").status_code == 401
    assert_no_staff_access(client)


def test_an_api_key_is_a_studio_credential_not_a_staff_session(client):
    key = ApiKeyFactory()
    other_studio_asset_list = client.get(API_ASSETS, HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    assert other_studio_asset_list.status_code == 200
    assert "_auth_user_id" not in client.session  # a key never makes a session
    assert client.get(STAFF_AUDIT).status_code == 302


# --- password reset ---------------------------------------------------------------------------------------------------
def test_password_reset_does_not_sign_in(client, programme_admin, mailoutbox):
    import re

    client.post(reverse("account_reset_password"), {"email": programme_admin.email})
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", mailoutbox[-1].body).group(0)
    path = "/" + link.split("/", 3)[3]
    form = client.get(path, follow=True)
    response = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )
    assert response.status_code == 302
    assert_no_staff_access(client)
    # The new password is again only the first factor.
    response = client.post(
        reverse("account_login"), {"login": programme_admin.email, "password": "a-new-long-passphrase-42"}
    )
    assert response.url == reverse("mfa_authenticate")
    assert_no_staff_access(client)


# --- passkey (WebAuthn) sign-in ---------------------------------------------------------------------------------------
def test_passkey_sign_in_with_no_valid_credential_gives_no_session(client, programme_admin):
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    client.get(reverse("mfa_login_webauthn"))
    forged = {
        "id": b64(b"forged-credential"),
        "rawId": b64(b"forged-credential"),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64(json.dumps({"type": "webauthn.get", "challenge": "x", "origin": "x"}).encode()),
            "authenticatorData": b64(bytes(37)),
            "signature": b64(b"x"),
            "userHandle": b64(str(programme_admin.pk).encode()),
        },
        "clientExtensionResults": {},
    }
    response = client.post(reverse("mfa_login_webauthn"), {"credential": json.dumps(forged)})
    assert response.status_code in (200, 302, 400)
    assert_no_staff_access(client)


# --- OpenID Connect single sign-on ------------------------------------------------------------------------------------
def test_sso_sign_in_of_a_staff_member_with_mfa_still_asks_for_the_second_factor(client, programme_admin, settings):
    # The provider's callback, after it vouched for the person: allauth's own completion of a social login.
    from allauth.core.context import request_context
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.internal.flows.login import complete_login
    from allauth.socialaccount.models import SocialAccount, SocialLogin
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage

    from portal.models import User
    from tests.portal.test_sso import OIDC

    settings.SOCIALACCOUNT_PROVIDERS = OIDC
    settings.OIDC_ENABLED = True
    settings.OIDC_ALLOWED_DOMAINS = ["studio.test"]
    SocialAccount.objects.create(user=programme_admin, provider="studio-sso", uid="sso-1")
    request = client.get("/").wsgi_request  # a request with the client's session and middleware applied
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    with request_context(request):
        sociallogin = SocialLogin(
            user=User(email=programme_admin.email),
            account=SocialAccount(provider="studio-sso", uid="sso-1"),
            provider=get_adapter().get_provider(request, "studio-sso"),
        )
        sociallogin.state = {"process": "login", "next": STAFF_AUDIT}
        response = complete_login(request, sociallogin)
    request.session.save()
    assert response.url == reverse("mfa_authenticate")
    assert not request.user.is_authenticated
    assert_no_staff_access(client)


# --- partners are not affected ----------------------------------------------------------------------------------------
def test_a_partner_without_mfa_signs_in_with_the_password(client):
    member = MembershipFactory()
    response = client.post(reverse("account_login"), {"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == member.user.pk
    assert client.get(STAFF_AUDIT).status_code == 404  # staff pages do not exist for partners
