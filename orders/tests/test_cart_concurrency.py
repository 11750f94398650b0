"""Races on one cart on PostgreSQL, with real threads and connections: concurrent adds sum into one
line of one cart, and the line and quantity bounds hold when the last places are taken at once."""

from decimal import Decimal

import pytest
from django.conf import settings

from conftest import client_for, in_threads
from orders.models import Cart, CartItem
from orders.tests.factories import CartFactory, CartItemFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ITEMS = "/api/v1/orders/cart/items/"


def adding(customer, product, quantity: int):
    client = client_for(customer.user)
    return lambda: client.post(ITEMS, {"product_id": str(product.pk), "quantity": quantity}, format="json")


# Two carts or two lines are caught only in the PostgreSQL pass of CI (postgres): SQLite runs one writer at a time.
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_first_adds_of_one_product_make_one_cart_with_one_line(customer, product_factory, attempt):
    product = product_factory(price=Decimal("3000"), stock=500)
    quantities = list(range(1, 13))

    responses = in_threads([adding(customer, product, quantity) for quantity in quantities])

    # One add created the cart and the line; the others added to it.
    assert sorted(response.status_code for response in responses) == [200] * 11 + [201]
    assert Cart.objects.filter(customer=customer).count() == 1
    line = CartItem.objects.get()
    assert (line.product_id, line.quantity) == (product.pk, sum(quantities))
    last_seen = max(responses, key=lambda response: response.json()["lines"][0]["quantity"])
    assert last_seen.json()["lines"][0]["quantity"] == sum(quantities)


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_adds_of_new_products_stop_at_the_line_limit(customer, product_factory, attempt):
    cart = CartFactory(customer=customer)
    for _ in range(settings.ORDER_MAX_LINES - 2):
        CartItemFactory(cart=cart)
    newcomers = [product_factory() for _ in range(6)]

    responses = in_threads([adding(customer, product, 1) for product in newcomers])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 201, 409, 409, 409, 409]
    refused = {response.json()["code"] for response in responses if response.status_code == 409}
    assert refused == {"cart_line_limit_reached"}
    assert CartItem.objects.filter(cart=cart).count() == settings.ORDER_MAX_LINES


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_adds_to_one_line_stop_at_the_quantity_limit(customer, product_factory, attempt):
    product = product_factory(stock=2000)
    line = CartItemFactory(
        cart=CartFactory(customer=customer), product=product, quantity=settings.ORDER_MAX_QUANTITY - 9
    )

    responses = in_threads([adding(customer, product, 3) for _ in range(8)])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 3 + [409] * 5
    line.refresh_from_db()
    assert line.quantity == settings.ORDER_MAX_QUANTITY
