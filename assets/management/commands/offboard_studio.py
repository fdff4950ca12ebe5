"""Offboard a studio: close every door (portal/lifecycle.py), delete its material, and print what was done."""

import json

from django.core.management.base import BaseCommand, CommandError

from portal import lifecycle
from portal.errors import PortalError
from portal.models import Organization, User


class Command(BaseCommand):
    help = (
        "Offboard a studio in one transaction: void its invites, deactivate its people, revoke its API keys, disable "
        "its webhooks, cancel its jobs and delete its assets (a worker deletes the bytes and completes the receipt)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The studio's short name (slug).")
        parser.add_argument("--by", required=True, help="Email of the programme admin doing this (for the record).")

    def handle(self, *args, slug, by, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No studio with the short name “{slug}”.")
        actor = User.objects.filter(email__iexact=by).first()
        if actor is None or not actor.is_programme_admin:
            raise CommandError(f"{by} is not a programme admin.")
        try:
            done = lifecycle.studio_offboard(actor=actor, organization=organization)
        except PortalError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps({"studio": organization.name, **done}, indent=2))
