"""Resume or compensate every saga whose runner died (its lease expired); the beat task does the same each minute."""

from django.core.management.base import BaseCommand

from saga import services


class Command(BaseCommand):
    help = "Recover sagas whose lease expired: resume them, or compensate those out of attempts."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000, help="most sagas to recover in this run")

    def handle(self, *args, **options):
        outcomes = services.saga_recover(limit=options["limit"])
        if not outcomes:
            self.stdout.write("No saga needed recovery.")
            return
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.stdout.write(self.style.SUCCESS(f"Recovered {sum(outcomes.values())} saga(s): {summary}"))
