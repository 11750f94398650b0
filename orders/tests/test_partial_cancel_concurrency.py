"""Partial cancellations racing each other and the full cancellation, with real threads on
PostgreSQL: never more refunded than paid, each unit's stock released exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from conftest import ORDERS, client_for, in_threads, order_line, place_order
from orders.models import Order, OrderItem
from payments.models import Payment, Refund
from products.models import Product
from saga import services as saga_services
from saga.models import SagaInstance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def cancel_lines(client, order_id, lines: list[tuple[str, int]]):
    body = {"lines": [{"order_item_id": str(item_id), "quantity": units} for item_id, units in lines]}
    return client.post(f"{ORDERS}{order_id}/cancel-lines/", body, format="json")


def refunded_total() -> Decimal:
    return Refund.objects.filter(status="SUCCEEDED").aggregate(total=Sum("amount"))["total"] or Decimal(0)


@pytest.mark.parametrize("attempt", range(5))
def test_two_partial_cancels_and_a_full_cancel_never_refund_more_than_paid(customer, product_factory, attempt):
    mouse = product_factory(price=Decimal(10000), stock=10)
    pad = product_factory(price=Decimal(15000), stock=10)
    client = client_for(customer.user)
    order = place_order(client, [order_line(mouse, 3), order_line(pad, 2)]).json()
    assert order["total_amount"] == 60000
    mouse_line = OrderItem.objects.get(product=mouse).pk
    pad_line = OrderItem.objects.get(product=pad).pk

    first, second, full = in_threads(
        [
            lambda: cancel_lines(client, order["id"], [(mouse_line, 1)]),
            lambda: cancel_lines(client, order["id"], [(pad_line, 1), (mouse_line, 1)]),
            lambda: client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json"),
        ]
    )

    assert full.status_code == 200
    for partial in (first, second):
        assert partial.status_code in (200, 409), partial.content
        if partial.status_code == 409:  # it came after the cancellation
            assert partial.json()["code"] == "order_lines_not_cancellable"
    assert refunded_total() <= Decimal(60000)
    # A full refund that meets a partial one not answered yet waits for it: recovery finishes the cancellation.
    if SagaInstance.objects.get().status == "COMPENSATING":
        later = timezone.now() + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS + 1)
        assert saga_services.saga_recover(now=later) == {"COMPENSATED": 1}
    payment = Payment.objects.get()
    assert Order.objects.get().status == "CANCELLED"
    # Every unit is back on the shelf once: by its partial cancel or with the order, never both.
    assert Product.objects.get(pk=mouse.pk).stock == 10
    assert Product.objects.get(pk=pad.pk).stock == 10
    # Exactly what was paid went back, in one or more refunds, none still unsettled.
    assert refunded_total() == Decimal(60000)
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", Decimal(60000))
    assert Order.objects.get().refunded_amount == Decimal(60000)
    assert not Refund.objects.exclude(status="SUCCEEDED").exists()
    partial_refunds = Refund.objects.filter(reason="partial_cancel").count()
    assert partial_refunds <= sum(partial.status_code == 200 for partial in (first, second))


@pytest.mark.parametrize("attempt", range(3))
def test_two_partial_cancels_of_the_same_units_cancel_them_once(customer, product_factory, attempt):
    mouse = product_factory(price=Decimal(10000), stock=10)
    pad = product_factory(price=Decimal(15000), stock=10)
    client = client_for(customer.user)
    order = place_order(client, [order_line(mouse, 3), order_line(pad)]).json()
    mouse_line = OrderItem.objects.get(product=mouse).pk

    responses = in_threads([lambda: cancel_lines(client, order["id"], [(mouse_line, 2)]) for _ in range(2)])

    assert sorted(response.status_code for response in responses) == [200, 409]
    assert {response.json()["code"] for response in responses if response.status_code == 409} == {
        "cancel_quantity_exceeded"
    }
    assert OrderItem.objects.get(pk=mouse_line).cancelled_quantity == 2
    assert Product.objects.get(pk=mouse.pk).stock == 9  # 10 - 3 ordered + 2 cancelled
    assert list(Refund.objects.values_list("reason", "amount", "status")) == [
        ("partial_cancel", Decimal(20000), "SUCCEEDED")
    ]
    assert Order.objects.get().status == "PAID"
