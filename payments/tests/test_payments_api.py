"""The two-step (Toss-style) flow through POST /payments/confirm, own payments, staff refunds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import client_for, order_line, place_order
from orders import place_order as place_order_steps
from orders import services as order_services
from orders.models import Order
from payments.models import Payment
from products.models import Product
from saga.models import SagaEvent, SagaInstance

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
PAYMENTS = "/api/v1/payments/"
CONFIRM = "/api/v1/payments/confirm/"


@pytest.fixture
def pending_order(customer_client, product_factory):
    product = product_factory(price=Decimal("35000"), stock=4)
    response = place_order(customer_client, [order_line(product, 2)], pay_with=None)
    assert response.json()["status"] == "PENDING"
    return response.json(), product


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def confirm(client, order, key="tok_approve", amount=None):
    body = {"paymentKey": key, "orderId": order["id"], "amount": amount or order["total_amount"]}
    return client.post(CONFIRM, body, format="json")


def test_order_without_token_waits_with_stock_held(pending_order):
    _, product = pending_order

    assert stock_of(product) == 2
    assert Payment.objects.count() == 0
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.current_step, saga.lease_owner, saga.lease_expires_at) == ("STARTED", 2, "", None)
    assert SagaEvent.objects.order_by("created_at").last().event_type == "STEP_WAITING"


def test_confirm_pays_the_order_and_a_repeat_returns_the_same_payment(customer_client, pending_order):
    order, product = pending_order

    first = confirm(customer_client, order)
    again = confirm(customer_client, order)

    assert first.status_code == 200, first.content
    assert first.json()["status"] == "APPROVED"
    assert first.json()["amount"] == 70000
    assert again.json() == first.json()
    assert Order.objects.get().status == "PAID"
    assert Payment.objects.count() == 1
    assert SagaInstance.objects.get().status == "COMPLETED"
    assert stock_of(product) == 2


@pytest.mark.parametrize("amount", [69999, "70001", "0"])
def test_a_tampered_amount_is_refused_before_the_pg(customer_client, pending_order, amount):
    order, _ = pending_order

    response = confirm(customer_client, order, amount=amount)

    assert response.status_code == 400
    assert response.json()["code"] == "amount_mismatch"
    assert response.json()["errors"][0]["field"] == "amount"
    assert Payment.objects.count() == 0
    assert Order.objects.get().status == "PENDING"


def test_a_declined_confirm_keeps_the_order_pending_for_another_attempt(customer_client, pending_order):
    order, product = pending_order

    response = confirm(customer_client, order, key="tok_decline")
    again = confirm(customer_client, order, key="tok_decline")

    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    assert "REJECT_CARD_PAYMENT" in response.json()["message"]
    assert again.json() == response.json()
    assert Order.objects.get().status == "PENDING"
    assert stock_of(product) == 2
    assert list(Payment.objects.values_list("payment_key", "status")) == [("tok_decline", "FAILED")]
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.current_step, saga.lease_owner) == ("STARTED", 2, "")

    paid = confirm(customer_client, order, key="tok_approve")

    assert paid.json()["status"] == "APPROVED"
    assert Order.objects.get().status == "PAID"
    assert sorted(Payment.objects.values_list("payment_key", "status")) == [
        ("tok_approve", "APPROVED"),
        ("tok_decline", "FAILED"),
    ]
    assert SagaInstance.objects.get().status == "COMPLETED"
    assert stock_of(product) == 2


def test_a_timed_out_confirm_keeps_the_order_pending_until_it_expires(customer_client, pending_order):
    order, product = pending_order

    response = confirm(customer_client, order, key="tok_timeout")

    assert response.status_code == 504
    assert response.json()["code"] == "payment_timeout"
    assert Order.objects.get().status == "PENDING"
    assert Payment.objects.get().status == "PENDING"
    assert stock_of(product) == 2

    assert order_services.order_expire_unpaid(now=timezone.now() + timedelta(minutes=31)) == 1

    # The compensation asked the PG about the unanswered attempt: nothing was taken.
    assert Order.objects.get().status == "CANCELLED"
    assert Payment.objects.get().status == "FAILED"
    assert stock_of(product) == 4


def test_concurrent_confirms_answer_saga_busy(customer_client, pending_order, replace_saga_step):
    order, _ = pending_order
    answers = []

    def confirm_while_running(context):
        answers.append(confirm(customer_client, order, key="tok_approve"))  # the same order, meanwhile
        return place_order_steps.take_payment(context)

    replace_saga_step("take_payment", action=confirm_while_running)

    first = confirm(customer_client, order)

    [meanwhile] = answers
    assert (meanwhile.status_code, meanwhile.json()["code"]) == (409, "saga_busy")
    assert first.json()["status"] == "APPROVED"
    assert Payment.objects.count() == 1


def test_a_confirm_while_the_order_is_being_cancelled_answers_saga_not_waiting(customer_client, pending_order):
    order, _ = pending_order
    saga = SagaInstance.objects.get()
    SagaInstance.objects.filter(pk=saga.pk).update(status="COMPENSATING")  # its compensation is due, not run yet

    response = confirm(customer_client, order)

    assert (response.status_code, response.json()["code"]) == (409, "saga_not_waiting")
    assert Payment.objects.count() == 0
    assert Order.objects.get().status == "PENDING"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paymentKey": "tok_approve", "orderId": "not-a-uuid", "amount": "1"}, "orderId"),
        ({"paymentKey": "tok_approve", "orderId": "00000000-0000-0000-0000-000000000000", "amount": "x"}, "amount"),
        ({"paymentKey": "tok_approve", "orderId": "00000000-0000-0000-0000-000000000000", "amount": "-5"}, "amount"),
        ({"paymentKey": "", "orderId": "00000000-0000-0000-0000-000000000000", "amount": "1"}, "paymentKey"),
        ({"orderId": "00000000-0000-0000-0000-000000000000", "amount": "1"}, "paymentKey"),
        ({"paymentKey": {"a": 1}, "orderId": "00000000-0000-0000-0000-000000000000", "amount": "1"}, "paymentKey"),
    ],
)
def test_bad_confirm_input_is_a_400(customer_client, pending_order, body, field):
    response = customer_client.post(CONFIRM, body, format="json")

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert Payment.objects.count() == 0


def test_confirming_another_customers_order_is_a_404(customer_factory, pending_order):
    order, _ = pending_order
    stranger = client_for(customer_factory().user)

    response = confirm(stranger, order)

    assert response.status_code == 404
    assert Payment.objects.count() == 0
    assert Order.objects.get().status == "PENDING"


def test_customers_see_only_their_own_payments(customer_client, customer_factory, pending_order):
    order, _ = pending_order
    payment = confirm(customer_client, order).json()
    stranger = client_for(customer_factory().user)

    assert stranger.get(f"{PAYMENTS}{payment['id']}/").status_code == 404
    assert stranger.get(PAYMENTS).json()["results"] == []
    assert customer_client.get(f"{PAYMENTS}{payment['id']}/").json()["id"] == payment["id"]
    assert [p["id"] for p in customer_client.get(PAYMENTS).json()["results"]] == [payment["id"]]


def test_payment_list_and_detail_query_budgets(customer_client, pending_order, django_assert_num_queries):
    order, _ = pending_order
    payment = confirm(customer_client, order).json()

    with django_assert_num_queries(4):  # user, customer, page, its refunds
        customer_client.get(PAYMENTS)
    with django_assert_num_queries(4):
        customer_client.get(f"{PAYMENTS}{payment['id']}/")


def test_staff_payment_list_budget(staff_client, customer_client, pending_order, django_assert_num_queries):
    confirm(customer_client, pending_order[0])

    with django_assert_num_queries(3):  # staff user, page, its refunds
        listed = staff_client.get(f"{PAYMENTS}staff/")

    assert [p["status"] for p in listed.json()["results"]] == ["APPROVED"]
    assert customer_client.get(f"{PAYMENTS}staff/").status_code == 403


def test_staff_list_the_payments_of_one_order_or_status(staff_client, customer_client, product_factory):
    product = product_factory(stock=10)
    paid = place_order(customer_client, [order_line(product)]).json()
    declined = place_order(customer_client, [order_line(product)], pay_with="tok_decline").json()

    def listed(**filters):
        response = staff_client.get(f"{PAYMENTS}staff/", filters)
        assert response.status_code == 200, response.content
        return [(p["order_id"], p["status"]) for p in response.json()["results"]]

    assert listed(order_id=paid["id"]) == [(paid["id"], "APPROVED")]
    assert listed(status="FAILED") == [(declined["id"], "FAILED")]
    assert listed(order_id=paid["id"], status="FAILED") == []
    assert listed() == [(declined["id"], "FAILED"), (paid["id"], "APPROVED")]
    assert staff_client.get(f"{PAYMENTS}staff/", {"status": "LOST"}).json()["errors"][0]["field"] == "status"


def test_staff_refund_runs_the_compensation(customer_client, staff_client, pending_order):
    order, product = pending_order
    payment = confirm(customer_client, order).json()

    refused = customer_client.post(f"{PAYMENTS}staff/{payment['id']}/refund/", {}, format="json")
    response = staff_client.post(f"{PAYMENTS}staff/{payment['id']}/refund/", {"note": "불량"}, format="json")

    assert refused.status_code == 403
    assert response.status_code == 200
    assert response.json()["status"] == "REFUNDED"
    assert (Order.objects.get().cancel_reason, Order.objects.get().cancel_note) == ("staff_refund", "불량")
    assert stock_of(product) == 4
    assert SagaInstance.objects.get().status == "COMPENSATED"


def test_refunding_a_shipped_order_is_refused(customer_client, staff_client, pending_order):
    order, product = pending_order
    payment = confirm(customer_client, order).json()
    ship = {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"}
    assert staff_client.post(f"{ORDERS}staff/{order['id']}/status/", ship, format="json").status_code == 200

    response = staff_client.post(f"{PAYMENTS}staff/{payment['id']}/refund/", {}, format="json")

    assert response.status_code == 409
    assert Payment.objects.get().status == "APPROVED"
    assert stock_of(product) == 2


def test_refund_that_the_pg_does_not_answer_is_retried_by_recovery(customer_client, product_factory, settings):
    from datetime import timedelta

    from django.utils import timezone

    from saga import services as saga_services

    settings.SAGA_MAX_ATTEMPTS = 4  # runs: placing, cancelling, two recoveries
    product = product_factory(stock=3)
    order = place_order(customer_client, [order_line(product)], pay_with="tok_refund_timeout").json()

    cancelled = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    # The order can no longer ship, but the refund is still owed: the saga keeps compensating.
    assert cancelled.json()["status"] == "CANCELLED"
    saga = SagaInstance.objects.get()
    assert saga.status == "COMPENSATING"
    assert saga.lease_owner == ""
    assert Payment.objects.get().status == "APPROVED"
    assert stock_of(product) == 2

    later = timezone.now() + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS + 1)
    assert saga_services.saga_recover(now=later) == {"COMPENSATING": 1}
    assert saga_services.saga_recover(now=later + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS + 1)) == {
        "FAILED": 1
    }
    saga.refresh_from_db()
    assert saga.status == "FAILED"
    assert "refund_failed" in saga.last_error
