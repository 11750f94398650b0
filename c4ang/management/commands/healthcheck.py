"""Readiness from the command line, for probes and scripts: exit 0 when ready, 1 when not."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from c4ang.health import readiness


class Command(BaseCommand):
    help = (
        "Check the database, migrations and the cache like /readyz; exit code 0 when ready (or degraded: "
        "the cache is down), 1 when not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the checks as one JSON line")

    def handle(self, *args, **options):
        state = readiness()
        if options["json"]:
            self.stdout.write(json.dumps({"status": state.status, "ready": state.ready, "checks": state.checks}))
        else:
            for name, result in state.checks.items():
                style = self.style.SUCCESS if result == "ok" else self.style.ERROR
                self.stdout.write(f"{name:<12} {style(result)}")
            if state.degraded:
                degraded = gettext("degraded (served without): %(checks)s") % {"checks": ", ".join(state.degraded)}
                self.stdout.write(self.style.WARNING(degraded))
        if not state.ready:
            raise CommandError(gettext("not ready: %(checks)s") % {"checks": ", ".join(state.failing)}, returncode=1)
