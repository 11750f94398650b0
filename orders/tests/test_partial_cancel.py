"""Partial cancellation (부분취소) of a paid order before it ships: units of lines cancelled, their
stock back on the shelf, their refund through the PG's partial cancel with the shipping-fee rule;
cancelling every unit left is the full cancellation."""

import itertools
from decimal import Decimal

import pytest
from django.urls import reverse

from c4ang.actors import Actor, ActorKind
from conftest import ORDERS, client_for, order_line, place_order
from orders import selectors, services
from orders.models import Order, OrderEvent, OrderItem
from orders.pricing import charge_for_remaining
from payments.models import Payment, Refund
from products.models import Product
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def line_of(order: dict, product) -> str:
    return next(item["id"] for item in order["items"] if item["product_id"] == str(product.pk))


def cancel_lines(client, order: dict, lines: list[tuple[str, int]], reason: str = "", staff: bool = False):
    prefix = f"{ORDERS}staff/" if staff else ORDERS
    body = {"lines": [{"order_item_id": item_id, "quantity": units} for item_id, units in lines], "reason": reason}
    return client.post(f"{prefix}{order['id']}/cancel-lines/", body, format="json")


def refunds() -> list[tuple]:
    return list(Refund.objects.order_by("created_at").values_list("reason", "amount", "status"))


def snapshot(order_id) -> tuple:
    """What a refused partial cancel must leave as it was."""
    return (
        Order.objects.filter(pk=order_id).values_list("status", "refunded_amount", "updated_at").get(),
        list(OrderItem.objects.filter(order_id=order_id).order_by("pk").values_list("pk", "cancelled_quantity")),
        list(Product.objects.order_by("pk").values_list("pk", "stock")),
        OrderEvent.objects.filter(order_id=order_id).count(),
        list(Payment.objects.values_list("status", "refunded_amount")),
        Refund.objects.count(),
    )


@pytest.fixture
def shop(product_factory) -> dict:
    return {
        "mouse": product_factory(name="무선 마우스", price=Decimal(10000), stock=10),
        "pad": product_factory(name="마우스 패드", price=Decimal(15000), stock=10),
    }


@pytest.fixture
def order(customer_client, shop) -> dict:
    """3 mice and 1 pad: 45,000 won of items and the 3,000 won shipping fee, paid."""
    response = place_order(customer_client, [order_line(shop["mouse"], 3), order_line(shop["pad"])])
    assert (response.json()["status"], response.json()["total_amount"]) == ("PAID", 48000)
    return response.json()


def test_a_customer_cancels_a_unit_of_a_line_and_gets_its_price_back(customer_client, shop, order):
    response = cancel_lines(customer_client, order, [(line_of(order, shop["mouse"]), 1)], reason="하나만 필요해요")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "PAID"
    assert body["refunded_amount"] == 10000
    assert {item["product_id"]: item["cancelled_quantity"] for item in body["items"]} == {
        str(shop["mouse"].pk): 1,
        str(shop["pad"].pk): 0,
    }
    assert {item["returned_quantity"] for item in body["items"]} == {0}
    assert (stock_of(shop["mouse"]), stock_of(shop["pad"])) == (8, 9)
    assert refunds() == [("partial_cancel", Decimal(10000), "SUCCEEDED")]
    refund = Refund.objects.get()
    assert refund.operation.startswith("partial-cancel:")
    assert (refund.note, refund.requested_by) == ("하나만 필요해요", f"customer:{Order.objects.get().customer.email}")
    assert Payment.objects.values_list("status", "refunded_amount").get() == ("PARTIALLY_REFUNDED", Decimal(10000))
    event = OrderEvent.objects.filter(order_id=order["id"]).last()
    assert (event.from_status, event.to_status, event.reason) == ("PAID", "PAID", "customer_cancelled")
    assert event.note.startswith("1 unit(s) of 1 line(s) cancelled, 10000 won refunded (partial-cancel:")
    assert refund.operation in event.note
    assert event.note.endswith(": 하나만 필요해요")


def test_cancelling_every_unit_left_is_the_full_cancellation(customer_client, shop, order):
    cancel_lines(customer_client, order, [(line_of(order, shop["mouse"]), 1)])

    response = cancel_lines(
        customer_client, order, [(line_of(order, shop["mouse"]), 2), (line_of(order, shop["pad"]), 1)]
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_code"]) == ("CANCELLED", "customer_cancelled")
    assert response.json()["refunded_amount"] == 48000
    # Each unit went back once: the first cancel's unit then, the rest with the order.
    assert (stock_of(shop["mouse"]), stock_of(shop["pad"])) == (10, 10)
    assert refunds() == [
        ("partial_cancel", Decimal(10000), "SUCCEEDED"),
        ("cancellation", Decimal(38000), "SUCCEEDED"),  # the rest, the shipping fee included
    ]
    assert Payment.objects.values_list("status", "refunded_amount").get() == ("REFUNDED", Decimal(48000))
    assert SagaInstance.objects.get().status == "COMPENSATED"


def test_a_full_cancel_after_a_partial_one_refunds_the_balance_and_releases_the_rest(customer_client, shop, order):
    cancel_lines(customer_client, order, [(line_of(order, shop["pad"]), 1)])

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    assert response.json()["status"] == "CANCELLED"
    assert (stock_of(shop["mouse"]), stock_of(shop["pad"])) == (10, 10)
    assert [amount for _, amount, _ in refunds()] == [Decimal(15000), Decimal(33000)]
    assert Order.objects.get().refunded_amount == Decimal(48000)


def test_the_shipping_fee_is_kept_while_anything_ships(customer_client, shop, order):
    # 45,000 won of items paid 3,000 won shipping: it stays charged until nothing is left.
    cancel_lines(customer_client, order, [(line_of(order, shop["mouse"]), 3)])

    assert refunds() == [("partial_cancel", Decimal(30000), "SUCCEEDED")]
    assert Order.objects.get().refunded_amount == Decimal(30000)


def test_free_shipping_lost_by_a_cancel_is_kept_from_its_refund(customer_client, product_factory):
    monitor = product_factory(price=Decimal(30000), stock=5)
    order = place_order(customer_client, [order_line(monitor, 2)]).json()
    assert (order["shipping_fee"], order["total_amount"]) == (0, 60000)

    cancel_lines(customer_client, order, [(line_of(order, monitor), 1)])

    # 30,000 won are left, under 50,000: the customer pays 30,000 + 3,000 for them.
    assert refunds() == [("partial_cancel", Decimal(27000), "SUCCEEDED")]
    assert stock_of(monitor) == 4


def test_the_fee_kept_never_makes_the_rest_cost_more_than_free_shipping(customer_client, product_factory):
    chair, cable = product_factory(price=Decimal(48000), stock=5), product_factory(price=Decimal(3000), stock=5)
    order = place_order(customer_client, [order_line(chair), order_line(cable)]).json()
    assert order["total_amount"] == 51000

    cancel_lines(customer_client, order, [(line_of(order, cable), 1)])

    # 48,000 won are left: 48,000 + 3,000 would be more than the 50,000 that ship free.
    assert refunds() == [("partial_cancel", Decimal(1000), "SUCCEEDED")]


def test_a_cancel_whose_refund_is_all_kept_moves_no_money(customer_client, product_factory):
    chair, cable = product_factory(price=Decimal(49000), stock=5), product_factory(price=Decimal(1000), stock=5)
    order = place_order(customer_client, [order_line(chair), order_line(cable)]).json()

    response = cancel_lines(customer_client, order, [(line_of(order, cable), 1)])

    assert response.status_code == 200
    assert refunds() == []  # 49,000 + 3,000 capped at 50,000: what was paid
    assert stock_of(cable) == 5
    assert (
        OrderEvent.objects.filter(order_id=order["id"])
        .last()
        .note.startswith("1 unit(s) of 1 line(s) cancelled, 0 won refunded")
    )


def test_the_charge_never_rises_as_lines_are_cancelled(settings):
    settings.SHIPPING_FEE, settings.SHIPPING_FREE_FROM = 3000, 50000
    for items_amount, fee in ((Decimal(60000), Decimal(0)), (Decimal(45000), Decimal(3000))):
        charges = [
            charge_for_remaining(items_amount=items_amount, shipping_fee=fee, remaining_items=Decimal(remaining))
            for remaining in range(int(items_amount), 0, -500)
        ]
        assert charges[0] == items_amount + fee
        assert all(later <= earlier for earlier, later in itertools.pairwise(charges))
        # and never by more than the items cancelled: a refund is at most their price
        assert all(earlier - later <= 500 for earlier, later in itertools.pairwise(charges))


def test_staff_cancel_lines_of_any_order(staff_client, shop, order):
    response = cancel_lines(staff_client, order, [(line_of(order, shop["pad"]), 1)], reason="품절", staff=True)

    assert response.status_code == 200
    assert response.json()["events"][-1]["actor"] == "staff:staff@c4ang.com"
    assert response.json()["events"][-1]["code"] == "staff_cancelled"
    assert response.json()["events"][-1]["message"] == "1 unit(s) of 1 line(s) cancelled, ₩15,000 refunded"
    assert Refund.objects.get().requested_by == "staff:staff@c4ang.com"
    assert stock_of(shop["pad"]) == 10


@pytest.mark.parametrize(
    ("lines", "status", "code", "field"),
    [
        (lambda o, s: [(line_of(o, s["mouse"]), 4)], 409, "cancel_quantity_exceeded", "lines.0"),
        (
            lambda o, s: [(line_of(o, s["pad"]), 1), (line_of(o, s["mouse"]), 9)],
            409,
            "cancel_quantity_exceeded",
            "lines.1",
        ),
        (lambda o, s: [(line_of(o, s["mouse"]), 1), (o["other_line"], 1)], 400, "order_line_not_found", "lines.1"),
        (lambda o, s: [(line_of(o, s["mouse"]), 0)], 400, "min_value", "lines.0.quantity"),
        (lambda o, s: [(line_of(o, s["mouse"]), 1), (line_of(o, s["mouse"]), 1)], 400, "duplicate_line", "lines"),
        (lambda o, s: [], 400, "empty", "lines"),
    ],
)
def test_bad_lines_are_refused_naming_the_line_and_change_nothing(
    customer_client, product_factory, shop, order, lines, status, code, field
):
    other = place_order(customer_client, [order_line(product_factory())]).json()
    order["other_line"] = other["items"][0]["id"]
    before = snapshot(order["id"])

    response = cancel_lines(customer_client, order, lines(order, shop))

    assert response.status_code == status
    assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["code"]) == (field, code)
    assert snapshot(order["id"]) == before


def test_units_cancelled_before_cannot_be_cancelled_again(customer_client, shop, order):
    mouse = line_of(order, shop["mouse"])
    cancel_lines(customer_client, order, [(mouse, 2)])
    before = snapshot(order["id"])

    response = cancel_lines(customer_client, order, [(mouse, 2)])

    assert (response.status_code, response.json()["code"]) == (409, "cancel_quantity_exceeded")
    assert "1 unit(s) left" in response.json()["message"]
    assert snapshot(order["id"]) == before


@pytest.mark.parametrize("state", ["PENDING", "SHIPPED", "CANCELLED"])
def test_only_a_paid_orders_lines_can_be_cancelled(customer_client, staff_client, shop, state):
    pay_with = None if state == "PENDING" else "tok_approve"
    order = place_order(customer_client, [order_line(shop["mouse"], 2)], pay_with=pay_with).json()
    if state == "SHIPPED":
        ship = {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"}
        staff_client.post(f"{ORDERS}staff/{order['id']}/status/", ship, format="json")
    if state == "CANCELLED":
        customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")
    before = snapshot(order["id"])

    response = cancel_lines(customer_client, order, [(order["items"][0]["id"], 1)])

    assert (response.status_code, response.json()["code"]) == (409, "order_lines_not_cancellable")
    assert response.json()["errors"][0]["field"] == "status"
    assert Order.objects.get().status == state
    assert snapshot(order["id"]) == before


def test_another_customers_order_is_not_found(customer_factory, shop, order):
    stranger = client_for(customer_factory().user)
    before = snapshot(order["id"])

    response = cancel_lines(stranger, order, [(line_of(order, shop["mouse"]), 1)])

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
    assert snapshot(order["id"]) == before


def test_a_refund_the_pg_does_not_answer_stays_pending_and_the_lines_stay_cancelled(customer_client, shop):
    # The fake PG approves tok_refund_timeout and never answers its refunds.
    order = place_order(customer_client, [order_line(shop["mouse"], 2)], pay_with="tok_refund_timeout").json()

    response = cancel_lines(customer_client, order, [(line_of(order, shop["mouse"]), 1)])

    assert response.status_code == 200
    assert response.json()["refunded_amount"] == 0  # not yet: recovery asks the PG again
    assert refunds() == [("partial_cancel", Decimal(10000), "PENDING")]
    assert OrderItem.objects.get().cancelled_quantity == 1
    assert stock_of(shop["mouse"]) == 9
    # The amount is held for it: a full cancel now refunds only the rest.
    assert Payment.objects.get().refunded_amount == Decimal(10000)


def test_a_line_cancelled_whole_is_no_purchase(customer, customer_client, shop, order):
    cancel_lines(customer_client, order, [(line_of(order, shop["pad"]), 1)])

    assert selectors.customer_has_bought(customer_id=customer.pk, product_id=shop["pad"].pk) is False
    assert selectors.customer_has_bought(customer_id=customer.pk, product_id=shop["mouse"].pk) is True
    assert selectors.purchased_product_ids(customer_id=customer.pk, limit=10) == [shop["mouse"].pk]


def test_the_service_names_the_lines_in_their_given_order(shop, order):
    staff = Actor(ActorKind.STAFF, "staff@c4ang.com")
    lines = {OrderItem.objects.get(product=shop["pad"]).pk: 1, OrderItem.objects.get(product=shop["mouse"]).pk: 5}

    with pytest.raises(services.errors.CancelQuantityExceeded) as refused:
        services.order_cancel_lines(order_id=order["id"], lines=lines, by=staff)

    assert refused.value.field == "lines.1"


def test_the_order_output_keeps_its_query_budget_after_partial_cancels(
    customer_client, shop, order, django_assert_num_queries
):
    cancel_lines(customer_client, order, [(line_of(order, shop["mouse"]), 1)])

    # auth user, customer, the order (with its shipment), its items, its history, its payments
    with django_assert_num_queries(6):
        body = customer_client.get(f"{ORDERS}{order['id']}/").json()

    assert body["refunded_amount"] == 10000


# --- the admin ------------------------------------------------------------------------------------


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_staff_cancel_lines_on_the_order_page(staff_browser, shop, order):
    url = reverse("admin:orders_order_cancel_lines", args=[order["id"]])
    mouse, pad = OrderItem.objects.get(product=shop["mouse"]), OrderItem.objects.get(product=shop["pad"])

    change_page = staff_browser.get(reverse("admin:orders_order_change", args=[order["id"]])).content.decode()
    form_page = staff_browser.get(url).content.decode()
    refused = staff_browser.post(url, {f"cancel_{mouse.pk}": "7"}).content.decode()
    asked = {f"cancel_{mouse.pk}": "2", f"cancel_{pad.pk}": "", "reason": "재고 오류"}
    done = staff_browser.post(url, asked, follow=True)

    assert url in change_page
    assert f'name="cancel_{mouse.pk}"' in form_page
    assert 'max="3"' in form_page
    assert "cancel_quantity_exceeded" in refused
    assert "Lines cancelled." in done.content.decode()
    assert refunds() == [("partial_cancel", Decimal(20000), "SUCCEEDED")]
    assert Refund.objects.get().note == "재고 오류"
    assert (stock_of(shop["mouse"]), stock_of(shop["pad"])) == (9, 9)
    assert OrderEvent.objects.filter(order_id=order["id"]).last().actor == "staff:staff@c4ang.com"


def test_the_admin_cancel_lines_page_of_an_unknown_order_is_a_404(staff_browser):
    assert staff_browser.get("/admin/orders/order/not-an-order/cancel-lines/").status_code == 404
    url = reverse("admin:orders_order_cancel_lines", args=["00000000-0000-0000-0000-000000000000"])
    assert staff_browser.get(url).status_code == 404
