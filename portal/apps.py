from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "People and access"

    def ready(self):
        from portal import audit_hooks

        audit_hooks.connect()

        from portal.events import subscribe
        from portal.notification_events import invite_accepted

        subscribe(invite_accepted)
        _rate_limits_fail_open()


def _rate_limits_fail_open() -> None:
    """allauth's rate limits (sign-in lock-out, password reset, sign-up) count in the cache; when Redis is down they
    let the request through (logged and counted) instead of failing the sign-in with a 500. The lock-out then counts
    from the database (portal.adapters.AccountAdapter.pre_authenticate). allauth reads its cache from this module
    global, which is the only seam it offers."""
    from allauth.core.internal import ratelimit
    from allauth.mfa.totp.internal import auth as totp

    from config.failopen import FailOpenCache

    if not isinstance(ratelimit.cache, FailOpenCache):
        ratelimit.cache = FailOpenCache(ratelimit.cache, "allauth")
    # TOTP's "code already used" mark (replay within its 30 s window) lives in the cache too: during an outage staff
    # can still sign in, and the replay check is skipped (logged and counted as totp_replay).
    if not isinstance(totp.cache, FailOpenCache):
        totp.cache = FailOpenCache(totp.cache, "totp_replay")
