"""The demo programme's people: staff, two studios, a cohort, the agreement, a pending invite. Idempotent.

`manage.py seed_demo` (in beta, which adds the demo footage and jobs) runs this first.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from portal.models import AgreementAcceptance, AgreementVersion, Cohort, Invite, Membership, Organization, User
from portal.services.invites import invite_create, invite_url

DEMO_COHORT = "March wave 1"
DEMO_INVITEE = ("newcomer@northlight.test", "northlight", "member")
DEMO_AGREEMENT = """\
1. Your material stays yours. Footage, scripts, images and audio you upload, and everything the tools make from \
them, remain your studio's property.
2. Private to your studio. Nobody outside your studio sees your material; studio staff see it only to support \
your runs and read your feedback.
3. No training. Your material is never used to train, tune or evaluate any AI model, ours or anyone else's.
4. Confidential beta. The tools, their outputs and this programme are confidential until the studio presents the \
results in May.
5. Deletion. When the beta closes, your material is deleted after the retention period, or sooner on request; you \
receive a deletion receipt.
"""

DEMO_STAFF = [
    ("admin@greenlight.test", "Ada Admin", User.StaffRole.ADMIN),
    ("reviewer@greenlight.test", "Rui Reviewer", User.StaffRole.REVIEWER),
]
DEMO_STUDIOS = [
    (
        "Northlight Pictures",
        "northlight",
        [("owner@northlight.test", "Nora Owner", "owner"), ("editor@northlight.test", "Eli Editor", "member")],
    ),
    (
        "Harbour Lane Films",
        "harbour-lane",
        [("owner@harbourlane.test", "Hal Owner", "owner"), ("vfx@harbourlane.test", "Vic VFX", "member")],
    ),
]


def _ensure_user(email: str, full_name: str, password: str, **extra) -> User:
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name, **extra})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    _ensure_verified_email(user)
    return user


def _ensure_totp(user: User, secret: str) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


def _ensure_verified_email(user: User) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


class SeedPeople(BaseCommand):
    help = "Create the demo programme: staff, two partner studios with an owner and a member each."

    def add_arguments(self, parser):
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="i_know_this_is_not_production",
            help="Run with DJANGO_DEBUG off. The demo accounts have a published password and TOTP secret.",
        )

    def execute(self, *args, **options):
        # Checked before any subclass's handle: the demo accounts (known password and TOTP secret, a programme
        # admin among them) must never appear in production by accident.
        if not settings.DEBUG and not options.get("i_know_this_is_not_production"):
            raise CommandError(
                "seed_demo creates accounts with a published password and TOTP secret and refuses to run with "
                "DJANGO_DEBUG off. Pass --i-know-this-is-not-production if this really is not production."
            )
        return super().execute(*args, **options)

    @transaction.atomic
    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        now = timezone.now()
        staff = []
        for email, name, role in DEMO_STAFF:
            extra = {"staff_role": role, "is_staff": role == User.StaffRole.ADMIN}
            user = _ensure_user(email, name, password, **extra)
            _ensure_totp(user, settings.DEMO_TOTP_SECRET)
            staff.append(user)
        cohort, _ = Cohort.objects.get_or_create(
            name=DEMO_COHORT,
            defaults={
                "opens_at": now - timedelta(days=7),
                "closes_at": now + timedelta(days=120),
                "description": "The first partner studios of the closed beta.",
            },
        )
        agreement, _ = AgreementVersion.objects.get_or_create(
            version="1.0",
            defaults={
                "title": "Beta agreement and NDA",
                "text": DEMO_AGREEMENT,
                "published_at": now - timedelta(days=7),
            },
        )
        for studio_name, slug, people in DEMO_STUDIOS:
            studio, _ = Organization.objects.get_or_create(
                slug=slug, defaults={"name": studio_name, "seat_limit": 8, "cohort": cohort}
            )
            for email, name, role in people:
                user = _ensure_user(email, name, password)
                Membership.objects.get_or_create(user=user, defaults={"organization": studio, "role": role})
                AgreementAcceptance.objects.get_or_create(user=user, version=agreement)
        invite_link = self._ensure_pending_invite(staff[0])
        self.stdout.write(self.style.SUCCESS("Demo programme ready."))
        self.stdout.write(f"Sign in with any of these (password: {password}):")
        for email, _name, role in DEMO_STAFF:
            self.stdout.write(f"  {email:<28} {User.StaffRole(role).label}")
        for studio_name, _slug, people in DEMO_STUDIOS:
            for email, _name, role in people:
                self.stdout.write(f"  {email:<28} {role} of {studio_name}")
        self.stdout.write(
            f"Staff sign in with a TOTP code from the secret {settings.DEMO_TOTP_SECRET} (any authenticator app)."
        )
        if invite_link:
            self.stdout.write(f"Pending demo invite for {DEMO_INVITEE[0]}: {invite_link}")
        else:
            self.stdout.write(
                f"A pending demo invite for {DEMO_INVITEE[0]} exists; resend it from Invites for a new link."
            )

    def _ensure_pending_invite(self, admin: User) -> str | None:
        email, slug, role = DEMO_INVITEE
        if Invite.objects.filter(email__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
            return None
        studio = Organization.objects.get(slug=slug)
        _invite, token = invite_create(actor=admin, email=email, organization=studio, role=role, send=False)
        return invite_url(token)
