from datetime import datetime
from decimal import Decimal

import pytest

from orders.models import Order, OrderItem, OrderStatus
from products.models import Category, Product


@pytest.fixture
def product_factory(db):
    def make(name: str, *, category: str, brand: str, is_active: bool = True) -> Product:
        return Product.objects.create(
            name=name,
            category=Category.objects.get_or_create(name=category)[0],
            brand=brand,
            price=Decimal("10000"),
            stock=10,
            is_active=is_active,
        )

    return make


@pytest.fixture
def buy(customer):
    """An order of one item placed at `at`, in `status` (PAID by default)."""

    def purchase(product: Product, *, at: datetime, status: str = OrderStatus.PAID, by=None) -> Order:
        order = Order.objects.create(customer=by or customer, total_amount=product.price, status=status)
        item = OrderItem.objects.create(order=order, product=product, quantity=1, price=product.price)
        Order.objects.filter(pk=order.pk).update(created_at=at)
        OrderItem.objects.filter(pk=item.pk).update(created_at=at)
        return order

    return purchase
