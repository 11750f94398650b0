"""KRW has no minor unit: every price, total and amount is a whole number of won.

The columns stay Decimal(10, 2) (the API writes integers: 10000, with `currency: "KRW"`); what
they hold is always whole: the inputs refuse a fractional part (`c4ang.api.fields.MoneyField`, the
models' validator) and the products table checks it (`whole_won`). Order totals, line prices and
payment amounts follow: they are catalog prices times whole quantities, and a confirm's amount must
equal the order's total. Their tables get no check of their own: rows written before are records
of what was charged, and are kept as they were rather than rewritten or made to block a migration."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

CURRENCY = "KRW"
NOT_WHOLE_WON = "not_whole_won"
NOT_WHOLE_WON_MESSAGE = _("KRW has no minor unit: give a whole number of won.")


def is_whole_won(amount: Decimal) -> bool:
    return amount == amount.to_integral_value()


def validate_whole_won(amount: Decimal) -> None:
    """A model field's validator (the admin's forms): 1000.50 is refused, 1000 and 1000.00 are not."""
    if not is_whole_won(amount):
        raise ValidationError(NOT_WHOLE_WON_MESSAGE, code=NOT_WHOLE_WON)


def whole_won(field: str) -> Q:
    """The condition of a CheckConstraint that `field` has no fractional part; ROUND is built into
    both SQLite and PostgreSQL, so the database checks it without a function of ours."""
    return Q(**{field: Round(field)})
