"""Sign-in rules shared by every entry point: which sessions count as signed in, and the lock-out's database fallback.

A session counts only if it went through allauth's sign-in, second factor included, for anyone who has MFA set up or
must have it (studio staff, Django admin users, partners when REQUIRE_PARTNER_MFA is on). allauth writes what a session
proved in its authentication records; a session logged in any other way (Django's own login form, a bug, a future
view calling `django.contrib.auth.login`) has no "mfa" record and is refused by the access gate, the API's session
authentication and the Django admin.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from allauth.account.authentication import get_authentication_records
from allauth.core.internal.ratelimit import parse_rates
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.utils import timezone

from portal.models import AuditEvent

logger = logging.getLogger("greenlight.signin")


def mfa_required(user) -> bool:
    """Whether this person must have a second factor: staff of the studio or of the Django admin, partners if set."""
    return bool(user.is_studio_staff or user.is_staff or user.is_superuser or settings.REQUIRE_PARTNER_MFA)


def session_passed_mfa(request, user=None) -> bool:
    user = user if user is not None else request.user
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def session_lacks_second_factor(request, user) -> bool:
    """True for a signed-in session that did not pass the second factor although this person has or needs one."""
    if session_passed_mfa(request, user):
        return False
    return is_mfa_enabled(user) or mfa_required(user)


# --- Lock-out fallback --------------------------------------------------------------------------------------------
def _login_failed_limits() -> list[tuple[str, int, float]]:
    """(per, amount, seconds) of ACCOUNT_RATE_LIMITS["login_failed"], e.g. [("ip", 5, 300), ("key", 5, 300)]."""
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get("login_failed"))
    return [(rate.per, rate.amount, rate.duration) for rate in rates]


def locked_out_by_database(*, email: str, ip: str | None) -> bool:
    """The sign-in lock-out counted from the audit trail's failed sign-ins, used when the cache cannot count.

    Same limits as ACCOUNT_RATE_LIMITS["login_failed"]: per account ("key", the email) and per client address ("ip").
    """
    now = timezone.now()
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    for per, amount, seconds in _login_failed_limits():
        recent = failures.filter(at__gte=now - timedelta(seconds=seconds))
        if per == "key" and email:
            recent = recent.filter(detail__email=email.lower())
        elif per == "ip" and ip:
            recent = recent.filter(ip_address=ip)
        else:
            continue
        if recent.count() >= amount:
            logger.warning("sign-in locked out from the database (%s)", per, extra={"lockout": per})
            return True
    return False
