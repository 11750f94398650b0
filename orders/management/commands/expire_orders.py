"""Cancel unpaid orders past their payment time (their stock goes back); the beat task does the same each minute."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, ngettext

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
            raise CommandError(gettext("--limit must be at least 1, got %(limit)d") % {"limit": options["limit"]})
        now = timezone.now()
        expired = services.order_expire_unpaid(now=now, limit=options["limit"])
        message = ngettext(
            "%(at)s: expired %(count)d unpaid order past its payment time.",
            "%(at)s: expired %(count)d unpaid orders past their payment time.",
            expired,
        )
        # The shop's time (TIME_ZONE, Asia/Seoul), whatever zone is active.
        at = date_format(timezone.localtime(now, timezone=timezone.get_default_timezone()), "Y-m-d H:i:s T")
        self.stdout.write(self.style.SUCCESS(message % {"at": at, "count": expired}))
