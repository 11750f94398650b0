from datetime import datetime

import pytest

from orders.models import Order, OrderItem, OrderStatus
from orders.tests.factories import OrderFactory, OrderItemFactory
from products.models import Product


@pytest.fixture
def buy(customer):
    """An order of one item placed at `at`, in `status` (PAID by default)."""

    def purchase(product: Product, *, at: datetime, status: str = OrderStatus.PAID, by=None) -> Order:
        order = OrderFactory(customer=by or customer, items_amount=product.price, status=status)
        item = OrderItemFactory(order=order, product=product)
        Order.objects.filter(pk=order.pk).update(created_at=at)
        OrderItem.objects.filter(pk=item.pk).update(created_at=at)
        return order

    return purchase
