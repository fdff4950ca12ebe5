"""Offboard a studio: purge all its assets, outputs and bytes, deactivate it, and print the deletion receipt."""

import json

from django.core.management.base import BaseCommand, CommandError

from assets import services
from portal.models import Organization, User


class Command(BaseCommand):
    help = "Purge every asset, output and stored byte of a studio and write a deletion receipt."

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
        receipt = services.studio_offboard(actor=actor, organization=organization)
        self.stdout.write(
            json.dumps(
                {
                    "receipt": str(receipt.uuid),
                    "studio": receipt.organization_name,
                    "assets": receipt.asset_count,
                    "renditions": receipt.rendition_count,
                    "objects": receipt.object_count,
                    "bytes": receipt.bytes_deleted,
                    "completed_at": receipt.completed_at.isoformat(),
                },
                indent=2,
            )
        )
