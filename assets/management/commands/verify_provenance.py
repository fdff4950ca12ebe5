"""Check an output's provenance: its C2PA manifest (signature, integrity, trusted signer) or its sidecar's SHA-256."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assets.provenance import manifest_path, manifest_summary, sidecar_path, verify


class Command(BaseCommand):
    help = "Verify the provenance of a file made by a Greenlight tool. Exits 1 when it is not valid."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", type=Path, help="the output file (its .c2pa and .provenance.json sidecars are found next to it)"
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        result = verify(path)
        summary = manifest_summary(result)

        self.stdout.write(f"{'VALID' if result.valid else 'INVALID'}  {path}")
        if result.embedded:
            state = f", validation state {result.validation_state}" if result.validation_state else ""
            self.stdout.write(f"  provenance:           embedded C2PA manifest{state}")
            if summary.get("signer"):
                self.stdout.write(f"  signed by:            {summary['signer']}")
        elif result.from_manifest_sidecar:
            state = f", validation state {result.validation_state}" if result.validation_state else ""
            self.stdout.write(f"  provenance:           C2PA sidecar {manifest_path(path).name}{state}")
            if summary.get("signer"):
                self.stdout.write(f"  signed by:            {summary['signer']}")
        elif result.sidecar is not None:
            self.stdout.write(f"  provenance:           sidecar {sidecar_path(path).name} (no C2PA manifest)")
        else:
            self.stdout.write("  provenance:           none found")
        tool = " ".join(filter(None, [summary["tool"], summary["tool_version"]])) or "(not recorded)"
        self.stdout.write(f"  tool:                 {tool}")
        self.stdout.write(f"  action:               {summary.get('action') or '(not recorded)'}")
        self.stdout.write(f"  digital source type:  {summary['digital_source_type'] or '(none: not AI-made)'}")
        run = summary.get("run") or {}
        if run.get("inputs_sha256"):
            self.stdout.write(f"  inputs (SHA-256):     {', '.join(run['inputs_sha256'])}")
        if summary["training_mining"]:
            self.stdout.write("  training and mining:")
            for entry, use in sorted(summary["training_mining"].items()):
                self.stdout.write(f"    {entry}: {use}")
        else:
            self.stdout.write("  training and mining:  (not recorded)")
        if result.errors:
            self.stdout.write("  errors:")
            for error in result.errors:
                self.stdout.write(f"    - {error}")

        if not result.valid:
            raise CommandError(f"{path}: provenance is not valid", returncode=1)
