"""Resume or compensate every saga whose runner died (its lease expired); the beat task does the same each minute."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from saga import services


class Command(BaseCommand):
    help = "Recover sagas whose lease expired: resume them, or compensate those out of attempts."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000, help="most sagas to recover in this run")

    def handle(self, *args, **options):
        outcomes = services.saga_recover(limit=options["limit"])
        if not outcomes:
            self.stdout.write(gettext("No saga needed recovery."))
            return
        summary = ", ".join(
            gettext("%(count)d %(status)s") % {"count": count, "status": status}
            for status, count in sorted(outcomes.items())
        )
        recovered = gettext("Recovered %(count)d saga(s): %(summary)s") % {
            "count": sum(outcomes.values()),
            "summary": summary,
        }
        self.stdout.write(self.style.SUCCESS(recovered))
