"""Placing orders through HTTP: the saga's happy path and every failure point, idempotency,
ownership, cancellation, staff transitions and bad input."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import ORDERS, SHIPPING_ADDRESS, client_for, order_body, order_line, place_order
from orders.models import Order, OrderEvent
from payments.models import Payment, PaymentEvent
from products.models import Product
from saga.models import SagaEvent, SagaInstance

pytestmark = pytest.mark.django_db

# Staff ship an order with its carrier and tracking number.
SHIP = {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"}


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_happy_path_pays_the_order_at_catalog_prices(customer_client, customer, product_factory):
    earphones = product_factory(price=Decimal("129000"), stock=5)
    cable = product_factory(price=Decimal("9900"), stock=3)

    response = place_order(customer_client, [order_line(earphones, 2), order_line(cable, 1)])

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "PAID"
    assert body["total_amount"] == 267900
    assert sorted((item["quantity"], item["price"]) for item in body["items"]) == [(1, 9900), (2, 129000)]
    assert (stock_of(earphones), stock_of(cable)) == (3, 2)
    order = Order.objects.get()
    assert order.customer_id == customer.pk
    assert order.stock_reserved is True
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.order_id) == ("APPROVED", Decimal(267900), order.pk)
    assert list(PaymentEvent.objects.values_list("kind", flat=True)) == ["REQUESTED", "APPROVED"]
    assert list(OrderEvent.objects.values_list("from_status", "to_status")) == [("", "PENDING"), ("PENDING", "PAID")]
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.lease_owner, saga.lease_expires_at) == ("COMPLETED", "", None)
    assert [(e.step, e.event_type) for e in SagaEvent.objects.order_by("created_at")] == [
        ("create_order", "STEP_STARTED"),
        ("create_order", "STEP_COMPLETED"),
        ("reserve_stock", "STEP_STARTED"),
        ("reserve_stock", "STEP_COMPLETED"),
        ("take_payment", "STEP_STARTED"),
        ("take_payment", "STEP_COMPLETED"),
        ("mark_paid", "STEP_STARTED"),
        ("mark_paid", "STEP_COMPLETED"),
    ]


def test_client_prices_fees_and_totals_are_ignored(customer_client, product_factory):
    product = product_factory(price=Decimal("40000"))

    tampered = {"items_amount": "1", "shipping_fee": "0", "total_amount": "1", "total": "1"}
    response = customer_client.post(
        ORDERS, order_body([{**order_line(product), "price": "1"}], **tampered), format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["items_amount"], body["shipping_fee"], body["total_amount"]) == (40000, 3000, 43000)
    assert Payment.objects.get().amount == Decimal(43000)


def test_short_stock_is_refused_before_an_order_is_placed(customer_client, product_factory):
    plenty = product_factory(stock=10)
    scarce = product_factory(stock=1)

    response = place_order(customer_client, [order_line(plenty, 4), order_line(scarce, 2)])

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert [(e["field"], e["product_id"], e["available"]) for e in response.json()["errors"]] == [
        ("items.1.quantity", str(scarce.pk), 1)
    ]
    assert (stock_of(plenty), stock_of(scarce)) == (10, 1)
    assert (Order.objects.count(), Payment.objects.count(), SagaInstance.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    ("token", "failure_code", "payment_status"),
    [
        ("tok_decline", "REJECT_CARD_PAYMENT", "FAILED"),
        ("tok_decline_INVALID_CARD_EXPIRATION", "INVALID_CARD_EXPIRATION", "FAILED"),
        ("tok_timeout", "", "FAILED"),
        ("no-such-token", "NOT_FOUND_PAYMENT_SESSION", "FAILED"),
    ],
)
def test_payment_failure_releases_the_stock(customer_client, product_factory, token, failure_code, payment_status):
    product = product_factory(stock=5)

    response = place_order(customer_client, [order_line(product, 2)], pay_with=token)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "CANCELLED"
    assert body["cancel_code"] == ("payment_timeout" if token == "tok_timeout" else "payment_declined")
    assert stock_of(product) == 5
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == (payment_status, failure_code)
    assert SagaInstance.objects.get().status == "COMPENSATED"


def test_payment_approved_but_order_not_payable_is_refunded(customer_client, product_factory, replace_saga_step):
    """The PG approved, but the order could no longer be marked paid: the payment is refunded."""
    from payments.errors import OrderNotPayable

    product = product_factory(stock=5)

    def order_not_payable(context):
        raise OrderNotPayable()

    replace_saga_step("mark_paid", action=order_not_payable)
    response = place_order(customer_client, [order_line(product, 1)])

    assert response.json()["status"] == "CANCELLED"
    assert Payment.objects.get().status == "REFUNDED"
    assert stock_of(product) == 5


def test_an_idempotent_replay_returns_the_same_order(customer_client, product_factory):
    product = product_factory(stock=5)

    first = place_order(customer_client, [order_line(product, 2)], key="order-2026-001")
    again = place_order(customer_client, [order_line(product, 2)], key="order-2026-001")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert stock_of(product) == 3


def test_a_key_reused_for_another_order_is_refused(customer_client, product_factory):
    product = product_factory(stock=5)
    place_order(customer_client, [order_line(product, 2)], key="order-2026-002")

    response = place_order(customer_client, [order_line(product, 3)], key="order-2026-002")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert stock_of(product) == 3


def test_two_customers_may_use_the_same_key(customer_factory, product_factory):
    product = product_factory(stock=5)
    first, second = client_for(customer_factory().user), client_for(customer_factory().user)

    place_order(first, [order_line(product)], key="same-key")
    place_order(second, [order_line(product)], key="same-key")

    assert Order.objects.count() == 2
    assert stock_of(product) == 3


def test_inactive_customer_places_nothing(customer, product_factory):
    """A customer that fails validation (deactivated) stops the saga at its first step: nothing is left."""
    from orders import services

    product = product_factory(stock=5)
    customer.user.is_active = False
    customer.user.save()

    from customers.errors import CustomerInactive

    with pytest.raises(CustomerInactive):
        services.order_place(
            customer_id=customer.pk,
            lines=[services.OrderLine(product_id=product.pk, quantity=1)],
            shipping=services.ShippingAddress(**SHIPPING_ADDRESS),
            payment_token="tok_approve",
            idempotency_key=None,
        )

    assert Order.objects.count() == 0
    assert SagaInstance.objects.count() == 0
    assert Payment.objects.count() == 0
    assert stock_of(product) == 5


def test_unknown_customer_places_nothing(db, product_factory):
    import uuid

    from customers.errors import CustomerNotFound
    from orders import services

    product = product_factory(stock=5)

    with pytest.raises(CustomerNotFound):
        services.order_place(
            customer_id=uuid.uuid4(),
            lines=[services.OrderLine(product_id=product.pk, quantity=1)],
            shipping=services.ShippingAddress(**SHIPPING_ADDRESS),
            payment_token="tok_approve",
            idempotency_key="k",
        )

    assert (Order.objects.count(), SagaInstance.objects.count(), stock_of(product)) == (0, 0, 5)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"items": [{"product_id": "PRODUCT", "quantity": 0}]}, "items.0.quantity", "min_value"),
        ({"items": [{"product_id": "PRODUCT", "quantity": -3}]}, "items.0.quantity", "min_value"),
        ({"items": [{"product_id": "PRODUCT", "quantity": 10**12}]}, "items.0.quantity", "max_value"),
        ({"items": [{"product_id": "PRODUCT", "quantity": "two"}]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": "PRODUCT", "quantity": 1.5}]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": "not-a-uuid", "quantity": 1}]}, "items.0.product_id", "invalid"),
        ({"items": [{"product_id": [12], "quantity": 1}]}, "items.0.product_id", "invalid"),
        ({"items": [{"quantity": 1}]}, "items.0.product_id", "required"),
        ({"items": []}, "items", "empty"),
        ({"items": "PRODUCT"}, "items", "not_a_list"),
        ({}, "items", "required"),
        ({"items": [{"product_id": "PRODUCT", "quantity": 1}] * 2}, "items", "duplicate_product"),
        ({"items": [{"product_id": "PRODUCT", "quantity": 1}], "payment_token": ["x"]}, "payment_token", "invalid"),
        (
            {"items": [{"product_id": "PRODUCT", "quantity": 1}], "payment_token": "x" * 201},
            "payment_token",
            "max_length",
        ),
    ],
)
def test_bad_order_input_is_a_400_that_changes_nothing(customer_client, product_factory, body, field, code):
    product = product_factory(stock=5)
    raw = str(body).replace("'PRODUCT'", f"'{product.pk}'")
    body = {"address": SHIPPING_ADDRESS, **eval(raw)}  # noqa: S307 - the test's own literal with the product id filled in

    response = customer_client.post(ORDERS, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert (Order.objects.count(), SagaInstance.objects.count(), stock_of(product)) == (0, 0, 5)


def test_unknown_and_hidden_products_are_409(customer_client, product_factory):
    import uuid

    hidden = product_factory(is_active=False)
    visible = product_factory()

    unknown = place_order(customer_client, [order_line(visible), {"product_id": str(uuid.uuid4()), "quantity": 1}])
    off_sale = place_order(customer_client, [order_line(hidden)])

    assert unknown.status_code == 409
    assert unknown.json()["code"] == "product_unavailable"
    assert unknown.json()["errors"][0]["field"] == "items.1.product_id"
    assert off_sale.status_code == 409
    assert off_sale.json()["errors"][0]["field"] == "items.0.product_id"
    assert Order.objects.count() == 0
    assert (stock_of(hidden), stock_of(visible)) == (10, 10)


def test_order_total_above_the_money_field_is_refused(customer_client, product_factory):
    product = product_factory(price=Decimal(99999999), stock=5)

    response = place_order(customer_client, [order_line(product, 2)])

    assert response.status_code == 400
    assert response.json()["code"] == "order_too_large"
    assert Order.objects.count() == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "한글키", "with space"])
def test_malformed_idempotency_key_is_a_400(customer_client, product_factory, key):
    product = product_factory()

    response = customer_client.post(ORDERS, order_body([order_line(product)]), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Order.objects.count() == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"null"])
def test_malformed_json_is_a_400(customer_client, raw):
    response = customer_client.post(ORDERS, raw, content_type="application/json")

    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_customer_sees_only_own_orders(customer_factory, product_factory):
    product = product_factory(stock=5)
    alice, bob = client_for(customer_factory().user), client_for(customer_factory().user)
    bobs = place_order(bob, [order_line(product)]).json()

    assert alice.get(f"{ORDERS}{bobs['id']}/").status_code == 404
    assert alice.post(f"{ORDERS}{bobs['id']}/cancel/", {}, format="json").status_code == 404
    assert alice.get(ORDERS).json()["results"] == []
    assert bob.get(f"{ORDERS}{bobs['id']}/").json()["status"] == "PAID"
    assert Order.objects.get().status == "PAID"


def test_order_list_and_detail_have_fixed_query_budgets(customer_client, product_factory, django_assert_num_queries):
    products = [product_factory(stock=50) for _ in range(3)]
    for _ in range(4):
        place_order(customer_client, [order_line(product) for product in products])
    order_id = Order.objects.first().pk

    # auth user, customer, orders page, their items, their payments
    with django_assert_num_queries(5):
        listed = customer_client.get(ORDERS)
    # and the detail's history
    with django_assert_num_queries(6):
        detail = customer_client.get(f"{ORDERS}{order_id}/")

    assert len(listed.json()["results"]) == 4
    assert all(len(order["items"]) == 3 for order in listed.json()["results"])
    assert detail.status_code == 200


def test_customer_cancels_a_paid_order_refund_and_stock_back(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_order(customer_client, [order_line(product, 2)]).json()

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {"reason": "마음이 바뀜"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert (response.json()["cancel_code"], response.json()["cancel_message"]) == (
        "customer_cancelled",
        "Cancelled by the customer",
    )
    assert Order.objects.get().cancel_note == "마음이 바뀜"  # staff's to read, not the customer's answer
    assert stock_of(product) == 5
    assert Payment.objects.get().status == "REFUNDED"
    assert list(PaymentEvent.objects.values_list("kind", flat=True)) == [
        "REQUESTED",
        "APPROVED",
        "REFUND_REQUESTED",
        "REFUNDED",
    ]
    assert SagaInstance.objects.get().status == "COMPENSATED"


def test_a_shipped_order_cannot_be_cancelled(customer_client, staff_client, product_factory):
    product = product_factory(stock=5)
    order = place_order(customer_client, [order_line(product, 2)]).json()
    staff_client.post(f"{ORDERS}staff/{order['id']}/status/", SHIP, format="json")

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "order_not_cancellable"
    assert Order.objects.get().status == "SHIPPED"
    assert Payment.objects.get().status == "APPROVED"
    assert stock_of(product) == 3


def test_staff_moves_paid_orders_to_shipped_then_delivered(customer_client, staff_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()
    url = f"{ORDERS}staff/{order['id']}/status/"

    skipped = staff_client.post(url, {"status": "DELIVERED"}, format="json")
    shipped = staff_client.post(url, SHIP, format="json")
    again = staff_client.post(url, {**SHIP, "tracking_number": "123456789013"}, format="json")
    delivered = staff_client.post(url, {"status": "DELIVERED"}, format="json")
    bogus = staff_client.post(url, {"status": "PAID"}, format="json")

    assert skipped.status_code == 409
    assert skipped.json()["code"] == "invalid_status_transition"
    assert shipped.status_code == 200
    assert (again.status_code, again.json()["code"]) == (409, "order_not_shippable")
    assert delivered.json()["status"] == "DELIVERED"
    assert bogus.status_code == 400
    assert [(e["from_status"], e["to_status"]) for e in delivered.json()["events"]] == [
        (None, "PENDING"),
        ("PENDING", "PAID"),
        ("PAID", "SHIPPED"),
        ("SHIPPED", "DELIVERED"),
    ]
    assert delivered.json()["events"][2]["actor"] == "staff:staff@c4ang.com"


def test_pending_order_cannot_ship(customer_client, staff_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())], pay_with=None).json()

    response = staff_client.post(f"{ORDERS}staff/{order['id']}/status/", SHIP, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "order_not_shippable")
    assert Order.objects.get().status == "PENDING"


def test_staff_cancel_of_a_paid_order_refunds_it(customer_client, staff_client, product_factory):
    product = product_factory(stock=5)
    order = place_order(customer_client, [order_line(product, 3)]).json()

    response = staff_client.post(f"{ORDERS}staff/{order['id']}/cancel/", {"reason": "품절"}, format="json")

    assert response.status_code == 200
    assert (response.json()["cancel_code"], response.json()["cancel_note"]) == ("staff_cancelled", "품절")
    assert Payment.objects.get().status == "REFUNDED"
    assert stock_of(product) == 5


def test_staff_lists_every_order_and_customers_may_not(
    customer_factory, staff_client, product_factory, django_assert_num_queries
):
    product = product_factory(stock=5)
    alice = client_for(customer_factory().user)
    place_order(alice, [order_line(product)])
    place_order(client_for(customer_factory().user), [order_line(product)], pay_with="tok_decline")

    with django_assert_num_queries(4):  # staff user, orders page, their items, their payments
        every = staff_client.get(f"{ORDERS}staff/")
    with django_assert_num_queries(5):  # staff user, order, items, events, payments
        staff_client.get(f"{ORDERS}staff/{every.json()['results'][0]['id']}/")
    cancelled = staff_client.get(f"{ORDERS}staff/", {"status": "CANCELLED"})

    assert len(every.json()["results"]) == 2
    assert [o["status"] for o in cancelled.json()["results"]] == ["CANCELLED"]
    assert staff_client.get(f"{ORDERS}staff/", {"status": "LOST"}).status_code == 400
    assert alice.get(f"{ORDERS}staff/").status_code == 403


def test_orders_need_a_signed_in_customer(api_client, staff_client, product_factory):
    assert api_client.get(ORDERS).status_code == 401
    assert place_order(api_client, [order_line(product_factory())]).status_code == 401
    # Staff have no customer profile: they use the staff endpoints.
    assert staff_client.get(ORDERS).status_code == 404
    assert Order.objects.count() == 0


def test_order_counters_show_on_metrics(customer_client, api_client, product_factory):
    from prometheus_client import REGISTRY

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    product = product_factory(stock=2)
    before = (value("c4ang_orders_placed_total"), value("c4ang_orders_failed_total", reason="payment_declined"))

    place_order(customer_client, [order_line(product)])
    place_order(customer_client, [order_line(product)], pay_with="tok_decline")

    assert value("c4ang_orders_placed_total") - before[0] == 1
    assert value("c4ang_orders_failed_total", reason="payment_declined") - before[1] == 1
    text = api_client.get("/metrics").content.decode()
    for name in (
        "c4ang_orders_placed_total",
        "c4ang_orders_failed_total",
        "c4ang_orders_cancelled_total",
        "c4ang_saga_completed_total",
        "c4ang_saga_compensated_total",
        "c4ang_payment_approvals_total",
        "c4ang_payment_declines_total",
    ):
        assert name in text


STOCK_UPDATE = f'UPDATE "{Product._meta.db_table}"'


def stock_step_tail(statements: list[str], start: int = 0) -> tuple[list[str], int]:
    """From the first stock update at or after `start`, the statements to the end of its step's
    transaction (a savepoint in the test's transaction, the outermost one open at the update);
    and where that ends."""
    first = next(at for at in range(start, len(statements)) if statements[at].startswith(STOCK_UPDATE))
    open_savepoints = []
    for statement in statements[:first]:
        if statement.startswith("SAVEPOINT "):
            open_savepoints.append(statement.removeprefix("SAVEPOINT "))
        elif statement.startswith("RELEASE SAVEPOINT "):
            open_savepoints.pop()
    end = statements.index(f"RELEASE SAVEPOINT {open_savepoints[0]}", first)
    return statements[first:end], end


# The products' rows are locked from their update to COMMIT (bench/flash_sale.py): the saga's
# records and the order's mark are written before the stock, the step's last writes, in pk order.
@pytest.mark.parametrize("pay_with", ["tok_approve", "tok_decline"])
def test_the_stock_writes_are_the_last_of_their_step(customer_client, product_factory, pay_with):
    products = sorted((product_factory(stock=5) for _ in range(2)), key=lambda product: product.pk)

    with CaptureQueriesContext(connection) as queries:
        response = place_order(customer_client, [order_line(product) for product in products], pay_with=pay_with)

    statements = [query["sql"] for query in queries.captured_queries]
    reserved, end = stock_step_tail(statements)
    steps = [reserved]
    if pay_with == "tok_decline":  # the compensation puts the units back as the last writes of its own
        steps.append(stock_step_tail(statements, end)[0])
    for tail in steps:
        writes = [statement for statement in tail if not statement.startswith("RELEASE SAVEPOINT ")]
        assert all(write.startswith(STOCK_UPDATE) for write in writes), tail
        assert all(product.pk.hex in write.replace("-", "") for write, product in zip(writes, products, strict=True))
    assert response.json()["status"] == ("PAID" if pay_with == "tok_approve" else "CANCELLED")
    assert [stock_of(product) for product in products] == ([4, 4] if pay_with == "tok_approve" else [5, 5])
