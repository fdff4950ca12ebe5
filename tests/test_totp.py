import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def totp_code_for(secret: str) -> str:
    """The current TOTP code for a base32 secret, as an authenticator app would show it."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_codes_match_the_rfc_6238_test_vector(monkeypatch):
    # RFC 6238 appendix B: the ASCII secret "12345678901234567890" at T=59 s gives 94287082 (8 digits; 6 shown).
    monkeypatch.setattr(time, "time", lambda: 59)
    assert totp_code_for("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == "287082"
