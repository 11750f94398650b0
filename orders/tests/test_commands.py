"""The orders module's ops commands."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_expire_orders_cancels_stale_unpaid_orders_and_returns_their_stock(customer, product_factory):
    from datetime import timedelta

    from django.utils import timezone

    from conftest import SHIPPING_ADDRESS
    from orders import services as order_services
    from orders.models import Order
    from products.models import Product

    speaker = product_factory(stock=4)
    order, _ = order_services.order_place(
        customer_id=customer.id,
        lines=[order_services.OrderLine(product_id=speaker.id, quantity=3)],
        shipping=order_services.ShippingAddress(**SHIPPING_ADDRESS),
        payment_token=None,
        idempotency_key=None,
    )
    assert Product.objects.get(pk=speaker.pk).stock == 1
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(seconds=1))

    call_command("expire_orders")

    assert Order.objects.get(pk=order.pk).status == "CANCELLED"
    assert Product.objects.get(pk=speaker.pk).stock == 4


def test_expire_orders_refuses_a_bad_limit():
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("expire_orders", "--limit", "0")
