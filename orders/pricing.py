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
