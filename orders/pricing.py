"""What an order costs: its items at catalog prices, plus the shipping fee rule."""

from decimal import Decimal

from django.conf import settings

# Decimal(10, 2): the largest amount an order can hold.
MAX_ORDER_TOTAL = Decimal("99999999.99")


def shipping_fee_for(items_amount: Decimal) -> Decimal:
    """SHIPPING_FEE won per order, none from SHIPPING_FREE_FROM won of items (and none for no items)."""
    if items_amount <= 0 or items_amount >= settings.SHIPPING_FREE_FROM:
        return Decimal(0)
    return Decimal(settings.SHIPPING_FEE)


# --- fulfilment ---


def charge_for_remaining(*, items_amount: Decimal, shipping_fee: Decimal, remaining_items: Decimal) -> Decimal:
    """What the customer pays for an order of `items_amount` (and `shipping_fee`) once some of its
    lines are cancelled and items of `remaining_items` won are left: a partial cancellation refunds
    the difference of this before and after it.

    The fee charged stays charged while anything ships. An order that shipped free because its items
    reached SHIPPING_FREE_FROM pays SHIPPING_FEE again once the remainder drops below that (kept from
    the refund), but never more than SHIPPING_FREE_FROM in all: the customer would have had free
    shipping by keeping items up to it. So the charge never rises as lines are cancelled, whatever
    their order, and no refund is negative.
    """
    if shipping_fee > 0 or items_amount < settings.SHIPPING_FREE_FROM:
        return remaining_items + shipping_fee
    free_from = Decimal(settings.SHIPPING_FREE_FROM)
    return max(remaining_items, min(free_from, remaining_items + Decimal(settings.SHIPPING_FEE)))
