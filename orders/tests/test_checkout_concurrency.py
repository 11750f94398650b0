"""Checkout races on PostgreSQL with real threads and connections: concurrent checkouts of one
cart make one order (with one Idempotency-Key: the others are its replays), and concurrent
checkouts never share an order number. (SQLite runs one writer at a time: these are skipped there.)"""

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conftest import client_for, in_threads, order_line, place_order
from orders.models import Cart, CartItem, Order, OrderNumberCounter
from orders.tests.test_concurrency import THREADS
from payments.models import Payment
from products.models import Product
from saga.models import SagaInstance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def full_cart(customer, product_factory):
    """The customer's cart: 2 of one product and 1 of another."""
    products = [product_factory(price=Decimal("20000"), stock=10) for _ in range(2)]
    cart = Cart.objects.create(customer=customer)
    for product, quantity in zip(products, (2, 1), strict=True):
        CartItem.objects.create(cart=cart, product=product, quantity=quantity, price_when_added=product.price)
    return products


def stocks(products) -> list[int]:
    return [Product.objects.get(pk=product.pk).stock for product in products]


# One order from one cart is caught only in the PostgreSQL pass of CI (postgres).
def test_10_concurrent_checkouts_of_one_cart_make_one_order(customer, full_cart):
    def checkout():
        return place_order(client_for(customer.user), None, from_cart=True)

    responses = in_threads([checkout] * 10, 10)

    placed = [response for response in responses if response.status_code == 201]
    refused = [response for response in responses if response.status_code != 201]
    assert len(placed) == 1
    assert placed[0].json()["status"] == "PAID"
    assert {response.status_code for response in refused} == {409}
    assert {response.json()["code"] for response in refused} <= {"cart_empty", "cart_changed"}
    assert Order.objects.count() == 1
    assert SagaInstance.objects.count() == 1
    assert Payment.objects.count() == 1
    assert CartItem.objects.count() == 0
    assert stocks(full_cart) == [8, 9]


# One order (and its replays) from one cart and key is caught only in the PostgreSQL pass of CI (postgres).
def test_10_concurrent_checkouts_of_one_cart_with_one_key_make_one_order_and_its_replays(customer, full_cart):
    def checkout():
        return place_order(client_for(customer.user), None, from_cart=True, key="cart-checkout-7f3a")

    responses = in_threads([checkout] * 10, 10)

    assert [response.status_code for response in responses] == [201] * 10
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum(response.get("Idempotent-Replayed") == "true" for response in responses) == 9
    assert Order.objects.get().status == "PAID"
    assert (SagaInstance.objects.count(), Payment.objects.count(), CartItem.objects.count()) == (1, 1, 0)
    assert stocks(full_cart) == [8, 9]


# Two orders with one number are caught only in the PostgreSQL pass of CI (postgres).
def test_50_concurrent_checkouts_get_50_distinct_order_numbers(customer_factory, product_factory):
    product = product_factory(price=Decimal("1000"), stock=100)
    clients = [client_for(customer_factory().user) for _ in range(10)]

    def checkout(number):
        return lambda: place_order(clients[number % 10], [order_line(product)])

    responses = in_threads([checkout(number) for number in range(50)], THREADS)

    assert [response.status_code for response in responses] == [201] * 50
    numbers = [response.json()["order_number"] for response in responses]
    assert len(set(numbers)) == 50
    assert sorted(Order.objects.values_list("order_number", flat=True)) == sorted(numbers)
    # Each order is numbered by its own day in KST (a run may cross midnight there), consecutively from 1.
    by_day = defaultdict(list)
    for order in Order.objects.all():
        day = timezone.localdate(order.created_at, timezone=ZoneInfo("Asia/Seoul"))
        prefix, number = order.order_number.split("-")
        assert prefix == f"{day:%Y%m%d}"
        by_day[day].append(int(number))
    for day, taken in by_day.items():
        assert sorted(taken) == list(range(1, len(taken) + 1))
        assert OrderNumberCounter.objects.get(day=day).last_number == len(taken)
