"""Cancel unpaid orders past their payment time (their stock goes back); the beat task does the same each minute."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders import services


class Command(BaseCommand):
    help = (
        "Cancel PENDING orders older than ORDER_PAYMENT_TIMEOUT_MINUTES and release their stock. "
        "Orders whose payment is in flight are left for the next run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="most orders to expire in this run (default 500)")

    def handle(self, *args, **options):
        if options["limit"] < 1:
            raise CommandError(f"--limit must be at least 1, got {options['limit']}")
        expired = services.order_expire_unpaid(limit=options["limit"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Expired {expired} unpaid order(s) older than {settings.ORDER_PAYMENT_TIMEOUT_MINUTES} minutes."
            )
        )
