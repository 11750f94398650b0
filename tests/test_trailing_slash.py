"""A path without its trailing slash: a 308 to the slashed path, which a client repeats with the
same method and body (a 301 would have turned the POST into a GET and lost the order)."""

import pytest

from conftest import ORDERS, order_body, order_line
from orders.models import Order


@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_the_slash_is_redirected_with_its_method_kept(customer_client, product_factory, settings, debug):
    settings.DEBUG = debug  # Django's own middleware raises for such a POST in DEBUG
    body = order_body([order_line(product_factory(stock=3))])

    response = customer_client.post(ORDERS.rstrip("/"), body, format="json")

    assert response.status_code == 308
    assert response["Location"] == ORDERS
    assert Order.objects.count() == 0


def test_a_client_following_the_redirect_places_the_order(customer_client, product_factory):
    body = order_body([order_line(product_factory(stock=3), quantity=2)])

    response = customer_client.post(ORDERS.rstrip("/") + "?via=app", body, format="json", follow=True)

    assert response.redirect_chain == [(ORDERS + "?via=app", 308)]
    assert response.status_code == 201
    assert Order.objects.get().items.get().quantity == 2


def test_a_get_without_the_slash_is_redirected_too(api_client, db):
    response = api_client.get("/api/v1/products")

    assert (response.status_code, response["Location"]) == (308, "/api/v1/products/")
