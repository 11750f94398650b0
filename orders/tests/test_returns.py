"""Returns after delivery: a customer asks within the window for units of delivered lines, staff
approve or reject, receive (resellable units back on the shelf, with a stock adjustment) and
refund through the PG's partial cancel; every step an audit event; bad input and wrong steps
refused with their codes, changing nothing."""

import itertools
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from c4ang.actors import Actor, ActorKind
from conftest import client_for, order_line, place_order
from orders import services
from orders.errors import InvalidReturnTransition
from orders.models import Order, OrderItem, Return, ReturnEvent, ReturnItem, Shipment
from orders.tests.factories import OrderFactory, OrderItemFactory, ShipmentFactory
from payments import services as payment_services
from payments.models import Payment, Refund
from products.models import Product, StockAdjustment

pytestmark = pytest.mark.django_db

RETURNS = "/api/v1/orders/returns/"
STAFF_RETURNS = "/api/v1/orders/staff/returns/"
STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")


def returns_of(order_id) -> str:
    return f"/api/v1/orders/{order_id}/returns/"


_tracking_numbers = itertools.count(640000000000)


def deliver(order: Order, *, days_ago: float = 1) -> Order:
    """The paid order shipped and delivered (through the shipment services), `days_ago` days ago."""
    services.order_ship(
        order_id=order.pk, carrier="kr.cjlogistics", tracking_number=str(next(_tracking_numbers)), by=STAFF
    )
    services.order_mark_delivered(order_id=order.pk, by=STAFF)
    Shipment.objects.filter(order=order).update(delivered_at=timezone.now() - timedelta(days=days_ago))
    return Order.objects.get(pk=order.pk)


def delivered_order(client, *lines: tuple, days_ago: float = 1, pay_with: str = "tok_approve") -> Order:
    """An order of (product, quantity) lines placed and paid through the API, then delivered."""
    response = place_order(client, [order_line(product, quantity) for product, quantity in lines], pay_with=pay_with)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "PAID"
    return deliver(Order.objects.get(pk=response.json()["id"]), days_ago=days_ago)


def line_of(order: Order, product) -> OrderItem:
    return OrderItem.objects.get(order=order, product=product)


def ask(client, order: Order, *lines: tuple, reason: str = "defective", reason_text: str = ""):
    """POST a return of (order item, quantity) lines of the order."""
    items = [{"order_item_id": str(item.pk), "quantity": quantity} for item, quantity in lines]
    return client.post(
        returns_of(order.pk), {"items": items, "reason": reason, "reason_text": reason_text}, format="json"
    )


def error_of(response) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], body["errors"][0]["field"] if body["errors"] else None


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def nothing_returned() -> tuple:
    return (
        Return.objects.count(),
        ReturnItem.objects.count(),
        ReturnEvent.objects.count(),
        list(OrderItem.objects.order_by("pk").values_list("returned_quantity", flat=True)),
    )


def returns_counted(status: str) -> float:
    return REGISTRY.get_sample_value("c4ang_returns_total", {"status": status}) or 0


@pytest.fixture
def goods(product_factory):
    """Two products of ₩12,000 and ₩8,000, 10 units each."""
    return product_factory(price=Decimal("12000"), stock=10), product_factory(price=Decimal("8000"), stock=10)


@pytest.fixture
def order(customer_client, goods):
    """The customer's delivered order of 2 x ₩12,000 and 1 x ₩8,000 (₩32,000 + ₩3,000 shipping)."""
    earphones, case = goods
    return delivered_order(customer_client, (earphones, 2), (case, 1))


# --- asking for a return --------------------------------------------------------------------------


def test_a_customer_asks_to_return_units_of_a_delivered_order(customer, customer_client, order, goods):
    earphones, _ = goods
    line = line_of(order, earphones)
    requested_before = returns_counted("REQUESTED")

    response = ask(customer_client, order, (line, 1), reason="changed_mind")

    assert response.status_code == 201, response.content
    body = response.json()
    created = Return.objects.get()
    assert body == {
        "id": str(created.pk),
        "order_id": str(order.pk),
        "order_number": order.order_number,
        "status": "REQUESTED",
        "reason": "changed_mind",
        "reason_text": "",
        "staff_note": "",
        "items": [
            {
                "order_item_id": str(line.pk),
                "product_id": str(earphones.pk),
                "product_name": earphones.name,
                "quantity": 1,
                "price": 12000,
                "resellable": None,
            }
        ],
        "currency": "KRW",
        # The customer changed their mind: the return shipping fee is theirs.
        "return_shipping_fee": 3000,
        "refund_amount": 9000,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert list(created.events.values_list("from_status", "to_status", "actor")) == [
        ("", "REQUESTED", f"customer:{customer.user.email}")
    ]
    assert returns_counted("REQUESTED") == requested_before + 1
    # Nothing is returned until the parcel arrives; the stock waits for it too.
    assert line_of(order, earphones).returned_quantity == 0
    assert stock_of(earphones) == 8


@pytest.mark.parametrize(("reason", "fee", "refund"), [("defective", 0, 32000), ("other", 3000, 29000)])
def test_the_shop_keeps_the_return_shipping_fee_only_when_the_reason_is_the_customers(
    customer_client, order, goods, reason, fee, refund
):
    earphones, case = goods

    response = ask(
        customer_client,
        order,
        (line_of(order, earphones), 2),
        (line_of(order, case), 1),
        reason=reason,
        reason_text="x",
    )

    assert response.status_code == 201, response.content
    assert (response.json()["return_shipping_fee"], response.json()["refund_amount"]) == (fee, refund)


def test_the_refund_never_goes_below_zero(customer_client, product_factory):
    cheap = product_factory(price=Decimal("2000"), stock=5)
    order = delivered_order(customer_client, (cheap, 1))

    response = ask(customer_client, order, (line_of(order, cheap), 1), reason="changed_mind")

    assert response.status_code == 201, response.content
    assert (response.json()["return_shipping_fee"], response.json()["refund_amount"]) == (3000, 0)


def test_a_return_is_taken_until_the_window_closes(customer_client, goods, settings):
    earphones, _ = goods
    settings.RETURN_WINDOW_DAYS = 7
    last_day = delivered_order(customer_client, (earphones, 1), days_ago=7 - 1 / 24)
    too_late = delivered_order(customer_client, (earphones, 1), days_ago=7 + 1 / 24)

    taken = ask(customer_client, last_day, (line_of(last_day, earphones), 1))
    before = nothing_returned()
    refused = ask(customer_client, too_late, (line_of(too_late, earphones), 1))

    assert taken.status_code == 201, taken.content
    assert error_of(refused) == (409, "return_window_closed", None)
    assert nothing_returned() == before


def test_the_window_is_a_setting(customer_client, goods, settings):
    earphones, _ = goods
    settings.RETURN_WINDOW_DAYS = 14
    order = delivered_order(customer_client, (earphones, 1), days_ago=10)

    assert ask(customer_client, order, (line_of(order, earphones), 1)).status_code == 201


@pytest.mark.parametrize("status", ["PAID", "SHIPPED", "CANCELLED"])
def test_only_a_delivered_order_is_returned(customer, customer_client, product_factory, status):
    order = OrderFactory(customer=customer, status=status)
    line = OrderItemFactory(order=order, product=product_factory())
    if status == "SHIPPED":
        ShipmentFactory(order=order)

    response = ask(customer_client, order, (line, 1))

    assert error_of(response) == (409, "order_not_delivered", None)
    assert nothing_returned() == (0, 0, 0, [0])


def test_no_more_units_than_were_delivered_and_are_not_being_returned(customer_client, order, goods):
    earphones, _ = goods
    line = line_of(order, earphones)

    too_many = ask(customer_client, order, (line_of(order, goods[1]), 1), (line, 3))
    first = ask(customer_client, order, (line, 1))
    # One unit is held by the first return: one is left.
    second_too_many = ask(customer_client, order, (line, 2))
    before = nothing_returned()
    last = ask(customer_client, order, (line, 1))

    assert error_of(too_many) == (409, "return_quantity_exceeded", "items.1.quantity")
    assert "At most 2 units" in too_many.json()["message"]
    assert first.status_code == 201
    assert error_of(second_too_many) == (409, "return_quantity_exceeded", "items.0.quantity")
    assert "At most 1 units" in second_too_many.json()["message"]
    assert last.status_code == 201
    assert nothing_returned()[0] == before[0] + 1


def test_rejected_units_can_be_asked_for_again_and_returned_ones_cannot(customer_client, order, goods):
    earphones, _ = goods
    line = line_of(order, earphones)
    rejected = services.return_request(
        order_id=order.pk, customer_id=order.customer_id, lines={line.pk: 2}, reason="defective", by=STAFF
    )
    services.return_reject(return_id=rejected.pk, by=STAFF, note="사진으로 불량이 확인되지 않습니다")

    again = ask(customer_client, order, (line, 2))
    services.return_approve(return_id=again.json()["id"], by=STAFF)
    services.return_receive(return_id=again.json()["id"], resellable={line.pk: True}, by=STAFF)
    after_receipt = ask(customer_client, order, (line, 1))

    assert again.status_code == 201, again.content
    assert line_of(order, earphones).returned_quantity == 2
    assert error_of(after_receipt) == (409, "return_quantity_exceeded", "items.0.quantity")


def test_a_line_cancelled_before_shipping_cannot_be_returned(customer, customer_client, goods):
    earphones, case = goods
    placed = place_order(customer_client, [order_line(earphones, 2), order_line(case, 1)])
    order = Order.objects.get(pk=placed.json()["id"])
    # Before it shipped, the customer cancelled the case and one of the earphones (부분취소).
    services.order_cancel_lines(
        order_id=order.pk,
        lines={line_of(order, case).pk: 1, line_of(order, earphones).pk: 1},
        by=Actor(ActorKind.CUSTOMER, customer.user.email),
        customer_id=customer.pk,
    )
    order = deliver(order)

    cancelled = ask(customer_client, order, (line_of(order, case), 1))
    partly = ask(customer_client, order, (line_of(order, earphones), 2))
    rest = ask(customer_client, order, (line_of(order, earphones), 1))

    assert error_of(cancelled) == (409, "return_line_cancelled", "items.0.order_item_id")
    assert error_of(partly) == (409, "return_quantity_exceeded", "items.0.quantity")
    assert rest.status_code == 201


def test_a_line_of_another_order_is_refused_naming_it(customer_client, order, goods):
    other = delivered_order(customer_client, (goods[0], 1))
    before = nothing_returned()

    response = ask(customer_client, order, (line_of(order, goods[1]), 1), (line_of(other, goods[0]), 1))

    assert error_of(response) == (400, "return_item_not_in_order", "items.1.order_item_id")
    assert nothing_returned() == before


def test_another_customers_order_is_not_found(customer_factory, order, goods):
    stranger = client_for(customer_factory().user)

    response = ask(stranger, order, (line_of(order, goods[0]), 1))

    assert error_of(response) == (404, "order_not_found", None)
    assert Return.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"items": [], "reason": "defective"}, "items", "empty"),
        ({"items": [{"quantity": 1}], "reason": "defective"}, "items.0.order_item_id", "required"),
        ({"quantity": 0}, "items.0.quantity", "min_value"),
        ({"reason": "bored"}, "reason", "invalid_choice"),
        ({"reason": "other", "reason_text": "  "}, "reason_text", "return_reason_text_required"),
        ({"reason_text": "x" * 501}, "reason_text", "max_length"),
        ({"duplicate": True}, "items", "duplicate_line"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(customer_client, order, goods, body, field, code):
    line = {"order_item_id": str(line_of(order, goods[0]).pk), "quantity": body.pop("quantity", 1)}
    items = [line, line] if body.pop("duplicate", False) else [line]
    request = {"items": items, "reason": "defective", **body}

    response = customer_client.post(returns_of(order.pk), request, format="json")

    assert response.status_code == 400, response.content
    assert [(error["field"], error["code"]) for error in response.json()["errors"]] == [(field, code)]
    assert nothing_returned()[0] == 0


# --- staff: approve, reject, receive, refund ------------------------------------------------------


def requested(order: Order, *lines: tuple, reason: str = "defective") -> Return:
    return services.return_request(
        order_id=order.pk,
        customer_id=order.customer_id,
        lines={item.pk: quantity for item, quantity in lines},
        reason=reason,
        by=Actor(ActorKind.CUSTOMER, "customer@example.kr"),
    )


def test_staff_take_a_return_from_request_to_refund(staff_client, customer_client, order, goods):
    earphones, case = goods
    found = requested(order, (line_of(order, earphones), 2), (line_of(order, case), 1), reason="changed_mind")
    payment = Payment.objects.get(order=order, status="APPROVED")
    url = f"{STAFF_RETURNS}{found.pk}/"

    approved = staff_client.post(f"{url}approve/", {"note": "회수 접수"}, format="json")
    received = staff_client.post(
        f"{url}receive/",
        {
            "lines": [
                {"order_item_id": str(line_of(order, earphones).pk), "resellable": True},
                {"order_item_id": str(line_of(order, case).pk), "resellable": False},
            ],
            "note": "케이스 파손",
        },
        format="json",
    )
    refunded = staff_client.post(f"{url}refund/", format="json")

    assert [approved.status_code, received.status_code, refunded.status_code] == [200, 200, 200], refunded.content
    body = refunded.json()
    assert body["status"] == "REFUNDED"
    assert body["staff_note"] == "케이스 파손"
    assert {(item["product_id"], item["resellable"]) for item in body["items"]} == {
        (str(earphones.pk), True),
        (str(case.pk), False),
    }
    assert [(event["from_status"], event["to_status"], event["actor"]) for event in body["events"]] == [
        (None, "REQUESTED", "customer:customer@example.kr"),
        ("REQUESTED", "APPROVED", "staff:staff@c4ang.com"),
        ("APPROVED", "RECEIVED", "staff:staff@c4ang.com"),
        ("RECEIVED", "REFUNDED", "staff:staff@c4ang.com"),
    ]
    # The resellable units are back on the shelf with a stock adjustment; the broken case is not.
    assert (stock_of(earphones), stock_of(case)) == (10, 9)
    assert list(StockAdjustment.objects.values_list("product_id", "delta", "stock_after", "actor")) == [
        (earphones.pk, 2, 10, "staff:staff@c4ang.com")
    ]
    assert StockAdjustment.objects.get().reason == f"Return {found.pk}: resellable"
    assert (line_of(order, earphones).returned_quantity, line_of(order, case).returned_quantity) == (2, 1)
    # ₩32,000 of items less the ₩3,000 return shipping fee, as one refund row of the payment.
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.reason, refund.status) == (
        payment.pk,
        Decimal("29000"),
        "return",
        "SUCCEEDED",
    )
    assert refund.operation == f"return:{found.pk}"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", Decimal("29000"))
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("29000")
    # The customer sees it.
    mine = customer_client.get(f"{RETURNS}{found.pk}/").json()
    assert (mine["status"], mine["refund_amount"], mine["staff_note"]) == ("REFUNDED", 29000, "케이스 파손")


def test_staff_reject_with_a_note_the_customer_sees(staff_client, customer_client, order, goods):
    found = requested(order, (line_of(order, goods[0]), 1))

    without_note = staff_client.post(f"{STAFF_RETURNS}{found.pk}/reject/", {}, format="json")
    rejected = staff_client.post(f"{STAFF_RETURNS}{found.pk}/reject/", {"note": "사용 흔적이 있습니다"}, format="json")

    assert error_of(without_note) == (400, "validation_error", "note")
    assert rejected.status_code == 200
    assert customer_client.get(f"{RETURNS}{found.pk}/").json()["staff_note"] == "사용 흔적이 있습니다"
    assert list(ReturnEvent.objects.filter(to_status="REJECTED").values_list("note", flat=True)) == [
        "사용 흔적이 있습니다"
    ]


@pytest.mark.parametrize(
    ("steps", "step", "status"),
    [
        ([], "receive", "REQUESTED"),
        ([], "refund", "REQUESTED"),
        (["approve"], "approve", "APPROVED"),
        (["approve"], "reject", "APPROVED"),
        (["approve"], "refund", "APPROVED"),
        (["reject"], "approve", "REJECTED"),
        (["reject"], "receive", "REJECTED"),
        (["approve", "receive"], "receive", "RECEIVED"),
        (["approve", "receive", "refund"], "refund", "REFUNDED"),
        (["approve", "receive", "refund"], "reject", "REFUNDED"),
    ],
)
def test_a_step_out_of_order_is_a_409_and_changes_nothing(order, goods, steps, step, status):
    line = line_of(order, goods[0])
    found = requested(order, (line, 1))
    run = {
        "approve": lambda: services.return_approve(return_id=found.pk, by=STAFF),
        "reject": lambda: services.return_reject(return_id=found.pk, by=STAFF, note="불가"),
        "receive": lambda: services.return_receive(return_id=found.pk, resellable={line.pk: True}, by=STAFF),
        "refund": lambda: services.return_refund(return_id=found.pk, by=STAFF),
    }
    for done in steps:
        run[done]()
    before = (nothing_returned(), stock_of(goods[0]), Refund.objects.count(), StockAdjustment.objects.count())

    with pytest.raises(InvalidReturnTransition) as refused:
        run[step]()

    assert refused.value.field == "status"
    assert f"A return that is {status} cannot become" in refused.value.message
    assert Return.objects.get().status == status
    assert (nothing_returned(), stock_of(goods[0]), Refund.objects.count(), StockAdjustment.objects.count()) == before


def test_a_step_out_of_order_through_the_api_is_a_409(staff_client, order, goods):
    found = requested(order, (line_of(order, goods[0]), 1))

    response = staff_client.post(f"{STAFF_RETURNS}{found.pk}/refund/", format="json")

    assert error_of(response) == (409, "invalid_return_transition", "status")


@pytest.mark.parametrize("lines", ["missing", "extra", "duplicate"])
def test_receiving_needs_one_decision_per_line_of_the_return(staff_client, order, goods, lines):
    earphones, case = goods
    found = requested(order, (line_of(order, earphones), 1))
    services.return_approve(return_id=found.pk, by=STAFF)
    decision = {"order_item_id": str(line_of(order, earphones).pk), "resellable": True}
    body = {
        "missing": [{"order_item_id": str(uuid4()), "resellable": True}],
        "extra": [decision, {"order_item_id": str(line_of(order, case).pk), "resellable": True}],
        "duplicate": [decision, decision],
    }[lines]
    before = (nothing_returned(), stock_of(earphones), StockAdjustment.objects.count())

    response = staff_client.post(f"{STAFF_RETURNS}{found.pk}/receive/", {"lines": body}, format="json")

    expected = "validation_error" if lines == "duplicate" else "return_lines_mismatch"
    assert error_of(response) == (400, expected, "lines")
    assert Return.objects.get().status == "APPROVED"
    assert (nothing_returned(), stock_of(earphones), StockAdjustment.objects.count()) == before


def test_a_return_with_nothing_to_refund_is_refunded_without_the_pg(customer_client, product_factory):
    cheap = product_factory(price=Decimal("2000"), stock=5)
    order = delivered_order(customer_client, (cheap, 1))
    found = requested(order, (line_of(order, cheap), 1), reason="changed_mind")
    services.return_approve(return_id=found.pk, by=STAFF)
    services.return_receive(return_id=found.pk, resellable={line_of(order, cheap).pk: True}, by=STAFF)

    refunded = services.return_refund(return_id=found.pk, by=STAFF)

    assert refunded.status == "REFUNDED"
    assert Refund.objects.count() == 0
    assert Payment.objects.get(order=order).status == "APPROVED"


def test_a_refund_the_pg_does_not_answer_leaves_the_return_received(staff_client, customer_client, goods):
    earphones, _ = goods
    order = delivered_order(customer_client, (earphones, 1), pay_with="tok_refund_timeout")
    found = requested(order, (line_of(order, earphones), 1))
    services.return_approve(return_id=found.pk, by=STAFF)
    services.return_receive(return_id=found.pk, resellable={line_of(order, earphones).pk: True}, by=STAFF)

    first = staff_client.post(f"{STAFF_RETURNS}{found.pk}/refund/", format="json")
    again = staff_client.post(f"{STAFF_RETURNS}{found.pk}/refund/", format="json")

    assert (first.status_code, first.json()["status"]) == (202, "RECEIVED"), first.content
    assert (again.status_code, again.json()["status"]) == (202, "RECEIVED"), again.content
    # One refund row, waiting for recovery with its key; never a second one for the repeat.
    assert list(Refund.objects.values_list("amount", "status", "operation")) == [
        (Decimal("12000"), "PENDING", f"return:{found.pk}")
    ]
    assert Order.objects.get(pk=order.pk).refunded_amount == 0


def test_a_refund_the_pg_did_not_answer_is_finished_by_recovery_with_one_cancel(
    toss_sandbox, customer_client, staff_client, goods, settings
):
    earphones, _ = goods
    placed = place_order(customer_client, [order_line(earphones, 1)], pay_with=None).json()
    key = toss_sandbox.widget_pay(placed["id"], 15000)  # ₩12,000 and ₩3,000 shipping
    body = {"paymentKey": key, "orderId": placed["id"], "amount": placed["total_amount"]}
    assert customer_client.post("/api/v1/payments/confirm/", body, format="json").json()["status"] == "APPROVED"
    order = deliver(Order.objects.get(pk=placed["id"]))
    found = requested(order, (line_of(order, earphones), 1))
    services.return_approve(return_id=found.pk, by=STAFF)
    services.return_receive(return_id=found.pk, resellable={line_of(order, earphones).pk: True}, by=STAFF)
    toss_sandbox.fault("cancel", "timeout", times=1 + settings.TOSS_MAX_RETRIES)  # the call and its retries

    asked = staff_client.post(f"{STAFF_RETURNS}{found.pk}/refund/", format="json")
    recovered = payment_services.refund_recover(
        now=timezone.now() + timedelta(seconds=settings.REFUND_RETRY_SECONDS + 1)
    )

    assert (asked.status_code, asked.json()["status"]) == (202, "RECEIVED"), asked.content
    assert recovered == 1
    settled = Return.objects.get(pk=found.pk)
    assert settled.status == "REFUNDED"
    # By the staff member who asked for the refund, once recovery heard it went through.
    assert list(settled.events.filter(to_status="REFUNDED").values_list("actor", flat=True)) == [
        "staff:staff@c4ang.com"
    ]
    cancels = toss_sandbox.calls("cancel")
    assert len({call.headers["idempotency-key"] for call in cancels}) == 1
    assert {call.body["cancelAmount"] for call in cancels} == {12000}
    assert toss_sandbox.refunds == [key]  # one cancel gave money back
    assert toss_sandbox.payment(key)["balanceAmount"] == 3000
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("12000")
    assert services.return_refunds_settle(order_id=order.pk) == 0


def test_each_step_is_counted_by_status(order, goods):
    line = line_of(order, goods[0])
    counted = {status: returns_counted(status) for status in ("REQUESTED", "APPROVED", "RECEIVED", "REFUNDED")}
    found = requested(order, (line, 1))
    services.return_approve(return_id=found.pk, by=STAFF)
    services.return_receive(return_id=found.pk, resellable={line.pk: False}, by=STAFF)
    services.return_refund(return_id=found.pk, by=STAFF)

    assert {status: returns_counted(status) - before for status, before in counted.items()} == {
        "REQUESTED": 1,
        "APPROVED": 1,
        "RECEIVED": 1,
        "REFUNDED": 1,
    }


# --- lists and details ----------------------------------------------------------------------------


def returns_for_lists(customer, product_factory, count: int) -> list[Return]:
    """`count` requested returns of the customer, each of its own delivered order of two lines."""
    found = []
    for _ in range(count):
        order = OrderFactory(customer=customer, status="DELIVERED", items_amount=Decimal(20000))
        lines = [OrderItemFactory(order=order, product=product_factory()) for _ in range(2)]
        ShipmentFactory(order=order, delivered_at=timezone.now())
        found.append(requested(order, *[(line, 1) for line in lines]))
    return found


def test_customers_list_their_own_returns_newest_first(customer, customer_client, customer_factory, product_factory):
    mine = returns_for_lists(customer, product_factory, 3)
    returns_for_lists(customer_factory(), product_factory, 1)
    services.return_approve(return_id=mine[0].pk, by=STAFF)

    listed = customer_client.get(RETURNS)
    approved = customer_client.get(RETURNS, {"status": "APPROVED"})

    assert [found["id"] for found in listed.json()["results"]] == [str(found.pk) for found in reversed(mine)]
    assert [found["id"] for found in approved.json()["results"]] == [str(mine[0].pk)]
    assert len(listed.json()["results"][0]["items"]) == 2


def test_another_customers_return_is_not_found(customer_factory, customer_client, product_factory):
    theirs = returns_for_lists(customer_factory(), product_factory, 1)[0]

    response = customer_client.get(f"{RETURNS}{theirs.pk}/")

    assert error_of(response) == (404, "return_not_found", None)


@pytest.mark.parametrize("count", [1, 5])
def test_the_customers_list_has_a_fixed_query_budget(customer, product_factory, django_assert_num_queries, count):
    returns_for_lists(customer, product_factory, count)
    client = client_for(customer.user)

    with django_assert_num_queries(4):  # the user (JWT), the customer, the page with its orders, the lines
        response = client.get(RETURNS)

    assert len(response.json()["results"]) == count


def test_staff_find_returns_by_status_order_and_customer(staff_client, customer, customer_factory, product_factory):
    mine = returns_for_lists(customer, product_factory, 2)
    theirs = returns_for_lists(customer_factory(), product_factory, 1)
    services.return_approve(return_id=theirs[0].pk, by=STAFF)

    def listed(**filters) -> list[str]:
        response = staff_client.get(STAFF_RETURNS, filters)
        assert response.status_code == 200, response.content
        return [found["id"] for found in response.json()["results"]]

    assert listed(status="REQUESTED") == [str(mine[1].pk), str(mine[0].pk)]
    assert listed(status="APPROVED") == [str(theirs[0].pk)]
    assert listed(customer_id=customer.pk) == [str(mine[1].pk), str(mine[0].pk)]
    assert listed(order_id=mine[0].order_id) == [str(mine[0].pk)]
    assert error_of(staff_client.get(STAFF_RETURNS, {"status": "LOST"})) == (400, "validation_error", "status")


@pytest.mark.parametrize("count", [1, 5])
def test_the_staff_list_has_a_fixed_query_budget(
    staff_client, customer, product_factory, django_assert_num_queries, count
):
    returns_for_lists(customer, product_factory, count)

    with django_assert_num_queries(3):  # the user (JWT), the page with its orders, the lines
        response = staff_client.get(STAFF_RETURNS)

    assert len(response.json()["results"]) == count
    assert response.json()["results"][0]["customer_id"] == str(customer.pk)


def test_the_staff_detail_has_a_fixed_query_budget(staff_client, customer, product_factory, django_assert_num_queries):
    found = returns_for_lists(customer, product_factory, 1)[0]
    services.return_approve(return_id=found.pk, by=STAFF)

    with django_assert_num_queries(4):  # the user (JWT), the return with its order, the lines, the events
        response = staff_client.get(f"{STAFF_RETURNS}{found.pk}/")

    assert [event["to_status"] for event in response.json()["events"]] == ["REQUESTED", "APPROVED"]


def test_an_order_delivered_before_shipments_were_recorded_is_timed_by_its_delivered_event(
    customer, customer_client, product_factory
):
    order = OrderFactory(customer=customer, status="DELIVERED")
    line = OrderItemFactory(order=order, product=product_factory())
    event = order.events.create(from_status="SHIPPED", to_status="DELIVERED", actor="staff:kim@c4ang.com")
    assert not Shipment.objects.filter(order=order).exists()

    taken = ask(customer_client, order, (line, 1))
    order.events.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=8))
    Return.objects.all().delete()
    too_late = ask(customer_client, order, (line, 1))

    assert taken.status_code == 201, taken.content
    assert error_of(too_late) == (409, "return_window_closed", None)
