import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def totp_code_for(secret: str) -> str:
    """The current TOTP code for a base32 secret, as an authenticator app would show it."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def fresh_totp_code_for(secret: str, *, margin: float = 5.0) -> str:
    """A code with at least `margin` seconds of its 30 s window left, for flows (a browser) that take a moment to
    send it: the portal accepts the current window only, so a code read at 29.9 s would be refused."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)
    return totp_code_for(secret)


def test_codes_match_the_rfc_6238_test_vector(monkeypatch):
    # RFC 6238 appendix B: the ASCII secret "12345678901234567890" at T=59 s gives 94287082 (8 digits; 6 shown).
    monkeypatch.setattr(time, "time", lambda: 59)
    assert totp_code_for("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == "287082"


def test_a_fresh_code_waits_for_the_next_window_when_the_current_one_is_ending(monkeypatch):
    clock = {"now": 29 * 30 + 28.0}  # 2 s left in window 29
    monkeypatch.setattr(time, "time", lambda: clock["now"])
    monkeypatch.setattr(time, "sleep", lambda seconds: clock.update(now=clock["now"] + seconds))
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert fresh_totp_code_for(secret) == format_hotp_value(hotp_value(secret, 30))
    clock["now"] = 29 * 30 + 10.0  # 20 s left: no wait
    assert fresh_totp_code_for(secret) == format_hotp_value(hotp_value(secret, 29))
