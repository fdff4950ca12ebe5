"""Print the current TOTP code of the demo staff accounts (for demos without an authenticator app)."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the current two-factor code for DEMO_TOTP_SECRET."

    def handle(self, *args, **options):
        now = time.time()
        code = format_hotp_value(hotp_value(settings.DEMO_TOTP_SECRET, int(now) // 30))
        self.stdout.write(f"{code}  (valid for {30 - int(now) % 30} more seconds)")
