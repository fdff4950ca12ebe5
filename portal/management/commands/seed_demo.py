"""Create the demo programme, idempotently: run it as often as you like, the rows stay the same."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.models import Membership, Organization, User

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


def _ensure_verified_email(user: User) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


class Command(BaseCommand):
    help = "Create the demo programme: staff, two partner studios with an owner and a member each."

    @transaction.atomic
    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        for email, name, role in DEMO_STAFF:
            extra = {"staff_role": role, "is_staff": role == User.StaffRole.ADMIN}
            _ensure_user(email, name, password, **extra)
        for studio_name, slug, people in DEMO_STUDIOS:
            studio, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": studio_name, "seat_limit": 8})
            for email, name, role in people:
                user = _ensure_user(email, name, password)
                Membership.objects.get_or_create(user=user, defaults={"organization": studio, "role": role})
        self.stdout.write(self.style.SUCCESS("Demo programme ready."))
        self.stdout.write(f"Sign in with any of these (password: {password}):")
        for email, _name, role in DEMO_STAFF:
            self.stdout.write(f"  {email:<28} {User.StaffRole(role).label}")
        for studio_name, _slug, people in DEMO_STUDIOS:
            for email, _name, role in people:
                self.stdout.write(f"  {email:<28} {role} of {studio_name}")
