"""Races on PostgreSQL with real threads and connections: the last units never oversell, and
concurrent replays of one Idempotency-Key make one order and one charge."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from conftest import ORDERS, client_for, in_threads, order_line, place_order
from orders.models import Order
from payments.models import Payment
from products.models import Product
from saga.models import SagaInstance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# PostgreSQL allows 100 connections on the CI machine, shared with other test runs: the orders
# run from a pool of this many threads, each with its own connection.
THREADS = 32


# An oversell is caught only in the PostgreSQL pass of CI (postgres): SQLite runs one writer at a time.
def test_100_orders_for_20_units_sell_exactly_20(customer_factory, product_factory):
    product = product_factory(price=Decimal("1000"), stock=20)
    clients = [client_for(customer_factory().user) for _ in range(10)]
    lowest_stock_seen = []
    selling = threading.Event()

    def watch_stock():
        try:
            while not selling.is_set():
                lowest_stock_seen.append(Product.objects.get(pk=product.pk).stock)
        finally:
            connection.close()

    def order(number):
        return lambda: place_order(clients[number % 10], [order_line(product)])

    watcher = threading.Thread(target=watch_stock)
    watcher.start()
    responses = in_threads([order(number) for number in range(100)], THREADS)
    selling.set()
    watcher.join(timeout=30)

    # The 80 that found no stock were refused: at checkout once it showed none (409, no order), or
    # by the saga's reservation when they raced past that look (the order CANCELLED).
    placed = [response for response in responses if response.status_code == 201]
    refused = [response for response in responses if response.status_code == 409]
    assert len(placed) + len(refused) == 100
    assert {response.json()["code"] for response in refused} <= {"insufficient_stock"}
    statuses = [response.json()["status"] for response in placed]
    assert statuses.count("PAID") == 20
    assert statuses.count("CANCELLED") == len(placed) - 20
    assert Product.objects.get(pk=product.pk).stock == 0
    assert min(lowest_stock_seen) >= 0
    cancelled = Order.objects.filter(status="CANCELLED")
    assert cancelled.count() == len(placed) - 20
    assert not cancelled.filter(stock_reserved=True).exists()
    assert set(cancelled.values_list("cancel_reason", flat=True)) <= {"insufficient_stock"}
    # Stock is conserved: what was on the shelf is now sold to paid orders.
    assert Order.objects.filter(status="PAID", stock_reserved=True).count() == 20
    assert Payment.objects.filter(status="APPROVED").count() == 20
    assert Payment.objects.exclude(status="APPROVED").count() == 0
    assert SagaInstance.objects.filter(status="COMPLETED").count() == 20
    assert SagaInstance.objects.filter(status="COMPENSATED").count() == len(placed) - 20


# A double charge is caught only in the PostgreSQL pass of CI (postgres): SQLite runs one writer at a time.
def test_10_concurrent_replays_of_one_key_make_one_order_and_one_charge(customer, product_factory):
    product = product_factory(price=Decimal("25000"), stock=5)

    def replay():
        return place_order(client_for(customer.user), [order_line(product, 2)], key="checkout-7f3a")

    responses = in_threads([replay] * 10, 10)

    assert [response.status_code for response in responses] == [201] * 10
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum(response.get("Idempotent-Replayed") == "true" for response in responses) == 9
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert SagaInstance.objects.count() == 1
    assert Order.objects.get().status == "PAID"
    assert Product.objects.get(pk=product.pk).stock == 3


# Stock released for a shipped order is caught only in the PostgreSQL pass of CI (postgres).
@pytest.mark.parametrize("attempt", range(3))
def test_cancel_racing_ship_ends_consistent(customer, staff_user, product_factory, attempt):
    product = product_factory(stock=5)
    customer_client, staff_client = client_for(customer.user), client_for(staff_user)
    order = place_order(customer_client, [order_line(product, 2)]).json()

    cancel, ship = in_threads(
        [
            lambda: customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json"),
            lambda: staff_client.post(
                f"{ORDERS}staff/{order['id']}/status/",
                {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"},
                format="json",
            ),
        ],
        2,
    )

    final = Order.objects.get()
    payment = Payment.objects.get()
    stock = Product.objects.get(pk=product.pk).stock
    assert sorted([cancel.status_code, ship.status_code]) == [200, 409]
    if final.status == "SHIPPED":
        assert (payment.status, stock, cancel.status_code) == ("APPROVED", 3, 409)
    else:
        assert (final.status, payment.status, stock, ship.status_code) == ("CANCELLED", "REFUNDED", 5, 409)


# Money kept on a cancelled order is caught only in the PostgreSQL pass of CI (postgres).
@pytest.mark.parametrize("attempt", range(3))
def test_cancel_racing_confirm_never_leaves_money_on_a_cancelled_order(customer, product_factory, attempt):
    product = product_factory(price=Decimal("15000"), stock=5)
    client = client_for(customer.user)
    order = place_order(client, [order_line(product)], pay_with=None).json()

    in_threads(
        [
            lambda: client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json"),
            lambda: client.post(
                "/api/v1/payments/confirm/",
                {"paymentKey": "tok_approve", "orderId": order["id"], "amount": order["total_amount"]},
                format="json",
            ),
        ],
        2,
    )

    final = Order.objects.get()
    payments = list(Payment.objects.values_list("status", flat=True))
    stock = Product.objects.get(pk=product.pk).stock
    assert final.status in ("PAID", "CANCELLED")
    if final.status == "PAID":
        assert (payments, stock) == (["APPROVED"], 4)
    else:
        assert "APPROVED" not in payments
        assert stock == 5


# Caught only in the PostgreSQL pass of CI (postgres): two confirms of one order with two cards at once.
@pytest.mark.parametrize("attempt", range(3))
def test_two_cards_confirmed_at_once_make_one_approved_payment(customer, product_factory, toss_sandbox, attempt):
    product = product_factory(price=Decimal("15000"), stock=5)
    client = client_for(customer.user)
    order = place_order(client, [order_line(product)], pay_with=None).json()
    cards = [toss_sandbox.widget_pay(order["id"], 18000) for _ in range(2)]  # with the shipping fee

    def confirm(card):
        body = {"paymentKey": card, "orderId": order["id"], "amount": order["total_amount"]}
        return lambda: client.post("/api/v1/payments/confirm/", body, format="json")

    answers = in_threads([confirm(card) for card in cards], 2)

    statuses = sorted(answer.status_code for answer in answers)
    refused = next(answer for answer in answers if answer.status_code != 200)
    assert statuses == [200, 409]
    # At the same moment: the other runner holds the saga; a moment later: the order is paid already.
    assert refused.json()["code"] in ("saga_busy", "order_not_payable")
    assert list(Payment.objects.values_list("status", flat=True)) == ["APPROVED"]
    assert len(toss_sandbox.charges) == 1
    assert Order.objects.get().status == "PAID"
    assert Product.objects.get(pk=product.pk).stock == 4
