"""Deposit into an order's virtual account at the fake PG, as its customer would (demos and tests)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from c4ang.admin_display import krw
from c4ang.errors import DomainError
from payments import services


class Command(BaseCommand):
    help = (
        "The fake PG only (PAYMENT_GATEWAY=fake), never in production: the customer pays into the order's "
        "virtual account, and the deposit is processed as Toss's deposit callback is (the order goes on to PAID). "
        "Accounts of tok_va_never refuse deposits."
    )

    def add_arguments(self, parser):
        parser.add_argument("order", help="the order number (20261201-000123) or the order id")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                gettext("fake_deposit is for development and tests; it never runs with C4ANG_ENV=production")
            )
        try:
            payment = services.payment_fake_deposit(order=options["order"])
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        deposited = gettext("Deposited %(amount)s into %(bank)s %(account_number)s: the payment is %(status)s.") % {
            "amount": krw(payment.amount),
            "bank": payment.bank_name,
            "account_number": payment.account_number,
            "status": payment.status,
        }
        self.stdout.write(self.style.SUCCESS(deposited))
