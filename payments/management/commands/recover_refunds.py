"""Ask the PG again about refunds it did not answer (with each one's own Idempotency-Key); the beat
task does the same each minute."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from payments import services


class Command(BaseCommand):
    help = "Ask the PG again about PENDING refunds past REFUND_RETRY_SECONDS, with the same Idempotency-Key."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000, help="most refunds to ask about in this run")

    def handle(self, *args, **options):
        settled = services.refund_recover(limit=options["limit"])
        if not settled:
            self.stdout.write(gettext("No refund was settled."))
            return
        self.stdout.write(self.style.SUCCESS(gettext("Settled %(count)d refund(s).") % {"count": settled}))
