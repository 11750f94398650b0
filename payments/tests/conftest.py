from decimal import Decimal

import pytest

from conftest import order_line, place_order


@pytest.fixture
def pending_order(customer_client, product_factory):
    """An order of two units at 45,000 won (two_step.TOTAL), placed unpaid: it waits for a confirm."""
    product = product_factory(price=Decimal("45000"), stock=3)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()
    assert order["status"] == "PENDING"
    return order, product
