"""Readiness from the command line, for probes and scripts: exit 0 when ready, 1 when not."""

import json

from django.core.management.base import BaseCommand, CommandError

from c4ang.health import readiness


class Command(BaseCommand):
    help = "Check the database, the cache and migrations like /readyz; exit code 0 when ready, 1 when not."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the checks as one JSON line")

    def handle(self, *args, **options):
        ready, checks = readiness()
        if options["json"]:
            self.stdout.write(json.dumps({"ready": ready, "checks": checks}))
        else:
            for name, result in checks.items():
                style = self.style.SUCCESS if result == "ok" else self.style.ERROR
                self.stdout.write(f"{name:<12} {style(result)}")
        if not ready:
            failing = ", ".join(name for name, result in checks.items() if result != "ok")
            raise CommandError(f"not ready: {failing}", returncode=1)
