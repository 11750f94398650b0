"""Orders written straight to the tables, without the saga: for tests of what reads them."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from customers.tests.factories import CustomerFactory
from orders.constants import OrderStatus
from orders.models import Order, OrderItem
from products.tests.factories import ProductFactory


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    status = OrderStatus.PENDING
    total_amount = Decimal("10000")  # one item of ProductFactory's price


class OrderItemFactory(DjangoModelFactory):
    """One line at the product's price; its order's total is the caller's to set."""

    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    price = factory.SelfAttribute("product.price")
