"""Polling orders cheaply: `?updated_since=` lists the orders that changed (updated_at moves with
everything the order response shows), and the detail answers an ETag that makes a repeat a 304
with no body while nothing changed. The enriched list and detail keep a fixed query budget."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from c4ang.actors import Actor, ActorKind
from conftest import ORDERS, client_for, order_line, place_order
from orders import services
from orders.models import Order

pytestmark = pytest.mark.django_db

CONFIRM = "/api/v1/payments/confirm/"
SHIP = {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"}


def listed_since(client, moment) -> list[str]:
    response = client.get(ORDERS, {"updated_since": moment.isoformat()})
    assert response.status_code == 200, response.content
    return [order["id"] for order in response.json()["results"]]


# --- updated_since ----------------------------------------------------------------------------


def test_updated_since_lists_the_orders_that_changed_newest_placed_first(
    customer_client, staff_client, product_factory
):
    product = product_factory(stock=10)
    first, second, third = (place_order(customer_client, [order_line(product)]).json() for _ in range(3))
    moment = timezone.now()

    staff_client.post(f"{ORDERS}staff/{first['id']}/status/", SHIP, format="json")
    customer_client.post(f"{ORDERS}{third['id']}/cancel/", {}, format="json")

    assert listed_since(customer_client, moment) == [third["id"], first["id"]]
    assert listed_since(customer_client, moment - timedelta(hours=1)) == [third["id"], second["id"], first["id"]]
    assert listed_since(customer_client, timezone.now()) == []


def test_a_failed_payment_attempt_moves_updated_at_though_the_status_stays(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())], pay_with=None).json()
    moment = timezone.now()

    declined = customer_client.post(
        CONFIRM,
        {"paymentKey": "tok_decline", "orderId": order["id"], "amount": order["total_amount"]},
        format="json",
    )

    assert declined.status_code == 402
    assert Order.objects.get().status == "PENDING"
    assert listed_since(customer_client, moment) == [order["id"]]


def test_a_received_return_moves_updated_at(customer, customer_client, staff_client, product_factory):
    staff = Actor(ActorKind.STAFF, "staff@c4ang.com")
    order = place_order(customer_client, [order_line(product_factory(), 2)]).json()
    services.order_ship(order_id=order["id"], carrier="kr.cjlogistics", tracking_number="123456789012", by=staff)
    services.order_mark_delivered(order_id=order["id"], by=staff)
    line = uuid.UUID(order["items"][0]["id"])
    asked = services.return_request(
        order_id=order["id"], customer_id=customer.pk, lines={line: 1}, reason="defective", by=staff
    )
    services.return_approve(return_id=asked.pk, by=staff)
    moment = timezone.now()

    services.return_receive(return_id=asked.pk, resellable={asked.items.get().order_item_id: True}, by=staff)

    assert listed_since(customer_client, moment) == [order["id"]]
    assert customer_client.get(f"{ORDERS}{order['id']}/").json()["items"][0]["active_quantity"] == 1


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00+09:00"])
def test_a_malformed_updated_since_is_a_400_naming_it(customer_client, value):
    response = customer_client.get(ORDERS, {"updated_since": value})

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["updated_since"]


# --- ETag and If-None-Match -------------------------------------------------------------------


def test_the_detail_is_a_304_without_a_body_while_the_order_is_unchanged(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()
    url = f"{ORDERS}{order['id']}/"

    first = customer_client.get(url)
    etag = first["ETag"]
    unchanged = customer_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag)
    assert (unchanged.status_code, unchanged.content, unchanged["ETag"]) == (304, b"", etag)


def test_a_change_answers_the_order_again_with_a_new_etag(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()
    url = f"{ORDERS}{order['id']}/"
    etag = customer_client.get(url)["ETag"]

    customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")
    changed = customer_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert changed.status_code == 200
    assert changed.json()["status"] == "CANCELLED"
    assert changed["ETag"] != etag
    assert customer_client.get(url, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304


def test_if_none_match_compares_weakly_and_takes_lists_and_a_star(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()
    url = f"{ORDERS}{order['id']}/"
    etag = customer_client.get(url)["ETag"]
    strong = etag.removeprefix("W/")

    answers = {
        given: customer_client.get(url, HTTP_IF_NONE_MATCH=given).status_code
        for given in (strong, f'"other", {etag}', "*", '"other"', 'W/"other"')
    }

    assert answers == {strong: 304, f'"other", {etag}': 304, "*": 304, '"other"': 200, 'W/"other"': 200}


def test_another_customers_order_is_a_404_whatever_the_etag(customer_factory, product_factory):
    owner = client_for(customer_factory().user)
    order = place_order(owner, [order_line(product_factory())]).json()

    response = client_for(customer_factory().user).get(f"{ORDERS}{order['id']}/", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404


# --- query budgets of the enriched responses --------------------------------------------------


@pytest.mark.parametrize("size", [2, 8])
def test_the_enriched_list_and_detail_keep_their_query_budgets(
    customer, customer_client, staff_client, product_factory, django_assert_max_num_queries, size
):
    products = [product_factory(price=Decimal(12900), stock=100) for _ in range(3)]
    kinds = [n % 4 for n in range(size)]  # paid, shipped, cancelled, waiting for a deposit
    for n, kind in enumerate(kinds):
        if kind == 3:
            place_order(customer_client, [order_line(products[0])], payment_method="virtual_account", bank="88")
            continue
        order = place_order(customer_client, [order_line(product, 2) for product in products]).json()
        if kind == 1:
            shipping = SHIP | {"tracking_number": f"12345678{n:04d}"}
            staff_client.post(f"{ORDERS}staff/{order['id']}/status/", shipping, format="json")
        elif kind == 2:
            customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    # auth user, customer, orders page (with shipments), items, payments, virtual accounts
    with django_assert_max_num_queries(6):
        listed = customer_client.get(ORDERS).json()["results"]
    # the same and the order's history
    with django_assert_max_num_queries(7):
        detail = customer_client.get(f"{ORDERS}{listed[-1]['id']}/").json()

    assert len(listed) == size
    assert sorted(order["status"] for order in listed) == sorted(
        ("PAID", "SHIPPED", "CANCELLED", "PENDING")[kind] for kind in kinds
    )
    assert sorted(len(order["items"]) for order in listed) == sorted(1 if kind == 3 else 3 for kind in kinds)
    assert detail["history"][0]["message"] == "Order placed"
