"""django-allauth adapters: sign-up only through an invite, and audit of sign-ins."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from config.failopen import THROTTLE_FAIL_OPEN
from portal import lifecycle, signin
from portal.client_ip import client_ip
from portal.errors import InviteError
from portal.models import AuditEvent, Membership, User
from portal.services.audit import audit_record
from portal.services.invites import invite_accept, invite_for_token

INVITE_SESSION_KEY = "portal_invite_token"


def invite_in_session(request):
    """The pending invite the visitor is accepting, or None."""
    token = request.session.get(INVITE_SESSION_KEY) if request is not None else None
    if not token:
        return None
    try:
        return invite_for_token(token)
    except InviteError:
        return None


def _organization_of(user):
    membership = Membership.objects.filter(user=user).select_related("organization").first()
    return membership.organization if membership else None


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Closed, except for someone holding a valid invite (set by the invite page)."""
        return invite_in_session(request) is not None

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        try:
            user = invite_accept(
                token=request.session.get(INVITE_SESSION_KEY, ""),
                user=user,
                full_name=form.cleaned_data.get("full_name", ""),
                request=request,
            )
        except InviteError as exc:
            response = render(request, "portal/invite_invalid.html", {"message": str(exc)}, status=409)
            raise ImmediateHttpResponse(response) from exc
        request.session.pop(INVITE_SESSION_KEY, None)
        return user

    def get_client_ip(self, request):
        """The one client-address helper (TRUSTED_PROXIES), for allauth's rate limits and records."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's IP address.")
        return ip

    def pre_authenticate(self, request, **credentials):
        """allauth's lock-out (per account and per address, in Redis); from the audit trail when Redis is down."""
        fail_open_before = THROTTLE_FAIL_OPEN.value("allauth")
        super().pre_authenticate(request, **credentials)
        if THROTTLE_FAIL_OPEN.value("allauth") != fail_open_before and signin.locked_out_by_database(
            email=_credential_email(credentials), ip=client_ip(request)
        ):
            raise self.validation_error("too_many_login_attempts")

    def pre_login(self, request, user, **kwargs):
        """The sign-in door of portal/lifecycle.py: a suspended or offboarded studio's people are told why, before
        allauth's own checks (an offboarded studio's people are inactive and would only hear "account inactive")."""
        organization = lifecycle.studio_of(user)
        if organization is not None and not organization.is_active_in_beta:
            clear_login(request)
            message = lifecycle.closed_message(organization)
            return render(request, "portal/studio_closed.html", {"message": message}, status=403)
        return super().pre_login(request, user, **kwargs)

    def login(self, request, user):
        super().login(request, user)
        audit_record(
            action=AuditEvent.Action.LOGIN_SUCCEEDED, actor=user, organization=_organization_of(user), request=request
        )

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        email = _credential_email(credentials)
        user = User.objects.filter(email__iexact=email).first() if email else None
        audit_record(
            action=AuditEvent.Action.LOGIN_FAILED,
            actor=None,
            organization=_organization_of(user) if user else None,
            request=request,
            detail={"email": email},
        )


def _credential_email(credentials) -> str:
    return str(credentials.get("email") or credentials.get("username") or "").strip().lower()[:254]


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Staff single sign-on (OpenID Connect): only the configured email domains, and they become staff."""

    def is_open_for_signup(self, request, sociallogin):
        if not settings.OIDC_ENABLED:
            return False
        return _sso_email_allowed(sociallogin.user.email)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        user.staff_role = settings.OIDC_STAFF_ROLE
        user.save(update_fields=["staff_role"])
        return user


def _sso_email_allowed(email: str) -> bool:
    domain = (email or "").rsplit("@", 1)[-1].lower()
    return bool(email) and "@" in email and domain in settings.OIDC_ALLOWED_DOMAINS
