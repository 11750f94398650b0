"""Orders written straight to the tables, without the saga: for tests of what reads them."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.tests.factories import CustomerFactory
from orders.constants import Carrier, OrderStatus
from orders.models import Cart, CartItem, Order, OrderItem, Shipment
from products.tests.factories import ProductFactory


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    order_number = factory.Sequence(lambda n: f"{timezone.localdate():%Y%m%d}-9{n:05d}")
    customer = factory.SubFactory(CustomerFactory)
    status = OrderStatus.PENDING
    items_amount = Decimal("10000")  # one item of ProductFactory's price
    shipping_fee = Decimal(0)
    total_amount = factory.LazyAttribute(lambda order: order.items_amount + order.shipping_fee)
    payment_due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))


class OrderItemFactory(DjangoModelFactory):
    """One line at the product's price and with its name; its order's total is the caller's to set."""

    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.SelfAttribute("product.name")
    quantity = 1
    price = factory.SelfAttribute("product.price")


class CartFactory(DjangoModelFactory):
    """A customer's cart, empty until lines are added (CartItemFactory(cart=cart))."""

    class Meta:
        model = Cart

    customer = factory.SubFactory(CustomerFactory)


class CartItemFactory(DjangoModelFactory):
    """One line of a new customer's cart, added at the product's price of now."""

    class Meta:
        model = CartItem

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    price_when_added = factory.SelfAttribute("product.price")


class ShipmentFactory(DjangoModelFactory):
    """A CJ대한통운 parcel of a (shipped) order, sent a day ago; give delivered_at for a delivered one."""

    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory, status=OrderStatus.SHIPPED)
    carrier = Carrier.CJ
    tracking_number = factory.Sequence(lambda n: f"{600000000000 + n}")
    shipped_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    delivered_at = None
    shipped_by = "staff:staff@c4ang.com"
