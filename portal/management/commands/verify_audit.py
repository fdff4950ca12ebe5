"""Walk the whole audit hash chain and say where it first breaks; exit 1 if it does (for cron and CI)."""

from django.core.management.base import BaseCommand, CommandError

from portal.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain from the first row; exit non-zero at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=5000, help="Rows read per query (default 5000).")

    def handle(self, *args, chunk_size: int, **options):
        report = audit_chain_verify(full=True, chunk_size=chunk_size)
        if not report.intact:
            good = f"intact up to #{report.last_good_id}" if report.last_good_id else "broken from the first row"
            raise CommandError(f"Audit chain broken at #{report.broken_id}: {report.reason}. "
                               f"{report.checked} row(s) verified; {good}.")
        if report.last_good_id:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact up to #{report.last_good_id} "
                                                 f"({report.checked} rows verified)."))
        else:
            self.stdout.write("The audit trail is empty; nothing to verify.")
