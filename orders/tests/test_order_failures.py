"""Failures an app can act on: a cancelled order says why in a code and a readable message; a
checkout that cannot be sold is refused before any order exists, naming each line's product; a
shortage that races past that look cancels the order naming the product; cancelling a cancelled
order again answers it as it is."""

import uuid
from decimal import Decimal

import pytest

from c4ang.errors import DomainError
from conftest import ORDERS, client_for, in_threads, order_line, place_order
from orders.models import Order, OrderEvent, OrderNumberCounter
from payments.models import Payment
from products.models import Product
from saga import services as saga_services
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def nothing_placed() -> tuple[int, int, int, int]:
    """Orders, order numbers given out, sagas and payments: all 0 when a checkout was refused whole."""
    numbers = sum(OrderNumberCounter.objects.values_list("last_number", flat=True))
    return Order.objects.count(), numbers, SagaInstance.objects.count(), Payment.objects.count()


# --- cancel codes and messages ----------------------------------------------------------------


def test_a_paid_order_has_no_cancel_code_or_message(customer_client, product_factory):
    body = place_order(customer_client, [order_line(product_factory())]).json()

    assert (body["status"], body["cancel_code"], body["cancel_message"]) == ("PAID", None, None)


def test_a_declined_payment_cancels_with_the_pgs_own_words(customer_client, product_factory):
    product = product_factory(stock=5)

    body = place_order(customer_client, [order_line(product, 2)], pay_with="tok_decline").json()

    assert (body["status"], body["cancel_code"]) == ("CANCELLED", "payment_declined")
    assert body["cancel_message"] == "Payment declined: 한도초과 혹은 잔액부족으로 결제에 실패했습니다."
    assert stock_of(product) == 5


def test_a_failure_of_no_known_reason_is_placement_failed_with_its_message(
    customer_client, staff_client, product_factory, replace_saga_step
):
    class LabelPrinterJammed(DomainError):
        code = "label_printer_jammed"
        message = "The label printer is jammed."

    def jammed(context):
        raise LabelPrinterJammed()

    replace_saga_step("mark_paid", action=jammed)
    body = place_order(customer_client, [order_line(product_factory())]).json()

    assert (body["cancel_code"], body["cancel_message"]) == (
        "placement_failed",
        "Placement failed: The label printer is jammed.",
    )
    staff = staff_client.get(f"{ORDERS}staff/{body['id']}/").json()
    # Staff see which error it was; the customer's answer never parses codes out of a note.
    assert staff["cancel_note"] == "label_printer_jammed: The label printer is jammed."
    assert staff["events"][-1]["code"] == "placement_failed"


def test_a_customers_words_stay_with_staff(customer_client, staff_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()

    cancelled = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {"reason": "단순 변심"}, format="json").json()

    assert (cancelled["cancel_code"], cancelled["cancel_message"]) == (
        "customer_cancelled",
        "Cancelled by the customer",
    )
    assert "단순 변심" not in str(cancelled)
    staff = staff_client.get(f"{ORDERS}staff/{order['id']}/").json()
    assert (staff["cancel_code"], staff["cancel_note"]) == ("customer_cancelled", "단순 변심")


# --- refused before an order exists -----------------------------------------------------------


def test_a_shortage_known_at_checkout_is_a_409_naming_each_short_line(customer_client, product_factory):
    earphones = product_factory(name="무선 이어폰 프로", price=Decimal(129000), stock=3)
    case = product_factory(name="이어폰 케이스", stock=10)
    cable = product_factory(name="USB-C 케이블", stock=0)

    response = place_order(
        customer_client, [order_line(earphones, 5), order_line(case, 2), order_line(cable, 1)], key="checkout-1"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["message"] == "Not enough stock of 무선 이어폰 프로, USB-C 케이블: lower the quantities of the order."
    assert body["errors"] == [
        {
            "field": "items.0.quantity",
            "code": "insufficient_stock",
            "message": "무선 이어폰 프로: 3 in stock, 5 ordered.",
            "product_id": str(earphones.pk),
            "product_name": "무선 이어폰 프로",
            "available": 3,
        },
        {
            "field": "items.2.quantity",
            "code": "insufficient_stock",
            "message": "USB-C 케이블: 0 in stock, 1 ordered.",
            "product_id": str(cable.pk),
            "product_name": "USB-C 케이블",
            "available": 0,
        },
    ]
    assert nothing_placed() == (0, 0, 0, 0)
    assert [stock_of(product) for product in (earphones, case, cable)] == [3, 10, 0]


def test_the_same_idempotency_key_places_the_order_once_the_stock_is_back(customer_client, product_factory):
    earphones = product_factory(name="무선 이어폰 프로", stock=1)

    refused = place_order(customer_client, [order_line(earphones, 2)], key="checkout-2")
    Product.objects.filter(pk=earphones.pk).update(stock=5)
    placed = place_order(customer_client, [order_line(earphones, 2)], key="checkout-2")
    again = place_order(customer_client, [order_line(earphones, 2)], key="checkout-2")

    assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_stock")
    assert (placed.status_code, placed.json()["status"], placed.has_header("Idempotent-Replayed")) == (
        201,
        "PAID",
        False,
    )
    assert (again.status_code, again["Idempotent-Replayed"], again.json()["id"]) == (201, "true", placed.json()["id"])
    assert Order.objects.count() == 1
    assert stock_of(earphones) == 3


def test_a_product_off_sale_or_unknown_is_a_409_naming_it(customer_client, product_factory):
    kept = product_factory(name="무선 충전기")
    gone = product_factory(name="단종된 이어폰", is_active=False)
    unknown = uuid.uuid4()

    response = place_order(
        customer_client, [order_line(kept), order_line(gone, 2), {"product_id": str(unknown), "quantity": 1}]
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "product_unavailable"
    assert body["message"] == f"Not for sale: 단종된 이어폰, {unknown}. Remove them from the order."
    assert body["errors"] == [
        {
            "field": "items.1.product_id",
            "code": "product_unavailable",
            "message": "단종된 이어폰 is no longer for sale.",
            "product_id": str(gone.pk),
            "product_name": "단종된 이어폰",
        },
        {
            "field": "items.2.product_id",
            "code": "product_unavailable",
            "message": f"No product {unknown} is for sale.",
            "product_id": str(unknown),
        },
    ]
    assert nothing_placed() == (0, 0, 0, 0)


def test_an_unsellable_line_is_refused_before_a_short_one(customer_client, product_factory):
    short = product_factory(stock=0)
    gone = product_factory(is_active=False)

    response = place_order(customer_client, [order_line(short), order_line(gone)])

    assert (response.status_code, response.json()["code"]) == (409, "product_unavailable")
    assert [error["field"] for error in response.json()["errors"]] == ["items.1.product_id"]


# --- a shortage inside the saga (a race past the checkout's look) -----------------------------


def test_a_shortage_found_by_the_reservation_cancels_the_order_naming_the_product(
    customer_client, product_factory, monkeypatch
):
    earphones = product_factory(name="무선 이어폰 프로", stock=5)
    saga_start = saga_services.saga_start

    def another_order_took_units_after_the_check(**kwargs):
        Product.objects.filter(pk=earphones.pk).update(stock=1)
        return saga_start(**kwargs)

    monkeypatch.setattr(saga_services, "saga_start", another_order_took_units_after_the_check)
    response = place_order(customer_client, [order_line(earphones, 2)])

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["cancel_code"]) == ("CANCELLED", "insufficient_stock")
    assert body["cancel_message"] == "Not enough stock: 무선 이어폰 프로 has 1 in stock, 2 ordered."
    detail = customer_client.get(f"{ORDERS}{body['id']}/").json()
    assert [(entry["to_status"], entry["code"], entry["message"]) for entry in detail["history"]] == [
        ("PENDING", None, "Order placed"),
        ("CANCELLED", "insufficient_stock", "Not enough stock: 무선 이어폰 프로 has 1 in stock, 2 ordered."),
    ]
    assert stock_of(earphones) == 1
    assert Payment.objects.count() == 0


# --- cancelling again -------------------------------------------------------------------------


def test_cancelling_a_cancelled_order_again_answers_it_as_it_is(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_order(customer_client, [order_line(product, 2)]).json()
    url = f"{ORDERS}{order['id']}/cancel/"

    first = customer_client.post(url, {"reason": "단순 변심"}, format="json")
    again = customer_client.post(url, {"reason": "다시 한 번"}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.json()["cancel_code"] == "customer_cancelled"
    assert list(OrderEvent.objects.filter(to_status="CANCELLED").values_list("note", flat=True)) == ["단순 변심"]
    assert stock_of(product) == 5
    assert Payment.objects.get().status == "REFUNDED"


def test_cancelling_an_order_its_payment_failed_keeps_that_reason(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())], pay_with="tok_decline").json()

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_code"]) == ("CANCELLED", "payment_declined")
    assert OrderEvent.objects.filter(to_status="CANCELLED").count() == 1


def test_another_customers_cancelled_order_is_still_a_404(customer_factory, product_factory):
    owner = client_for(customer_factory().user)
    order = place_order(owner, [order_line(product_factory())], pay_with="tok_decline").json()

    response = client_for(customer_factory().user).post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")


# Two cancels waiting on each other's row locks are caught only in the PostgreSQL pass of CI.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_cancels_both_answer_the_cancelled_order(customer, product_factory):
    product = product_factory(stock=5)
    order = place_order(client_for(customer.user), [order_line(product, 2)]).json()

    def cancel():
        return client_for(customer.user).post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    responses = in_threads([cancel, cancel])

    assert [response.status_code for response in responses] == [200, 200]
    assert {response.json()["status"] for response in responses} == {"CANCELLED"}
    assert OrderEvent.objects.filter(to_status="CANCELLED").count() == 1
    assert stock_of(product) == 5
    assert Payment.objects.get().status == "REFUNDED"
