"""Virtual accounts under concurrency: real threads on PostgreSQL, each with its own connection,
against the Toss sandbox. One account per order however many issue at once; a deposit callback
delivered many times at once is verified with one lookup and changes the payment once."""

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import in_threads, order_line, place_order
from orders.models import Order
from payments import services as payment_services
from payments.models import Payment, PaymentEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEPOSIT_CALLBACK = "/api/v1/payments/webhooks/toss/deposit/"
THREADS = 7


@pytest.fixture
def unpaid_order(customer_client, product_factory):
    product = product_factory(price=Decimal("45000"), stock=3)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()
    assert order["status"] == "PENDING"
    return order


def take_virtual_account(order, customer) -> Payment:
    return payment_services.payment_take_virtual_account(
        order_id=UUID(order["id"]),
        customer_id=customer.pk,
        amount=Decimal(order["total_amount"]),
        order_name="무선 이어폰 외 1건",
        customer_name="김민준",
        bank="88",
        due_at=(timezone.now() + timedelta(days=3)).replace(microsecond=0),
    )


def test_concurrent_issues_of_one_order_make_one_account(toss_sandbox, customer, unpaid_order):
    payments = in_threads([lambda: take_virtual_account(unpaid_order, customer) for _ in range(THREADS)])

    assert {payment.pk for payment in payments} == {Payment.objects.get().pk}
    assert {payment.status for payment in payments} == {"WAITING"}
    assert {payment.account_number for payment in payments} == {Payment.objects.get().account_number}
    [issued] = toss_sandbox.payments().values()
    assert issued["virtualAccount"]["accountNumber"] == Payment.objects.get().account_number


def test_a_deposit_callback_delivered_at_once_many_times_changes_the_payment_once(toss_sandbox, customer, unpaid_order):
    payment = take_virtual_account(unpaid_order, customer)
    callback = toss_sandbox.deposit(payment.payment_key)

    responses = in_threads(
        [lambda: APIClient().post(DEPOSIT_CALLBACK, callback, format="json") for _ in range(THREADS)]
    )

    # Each is answered 200 or deferred (409: Toss resends it); none fails.
    assert {response.status_code for response in responses} <= {200, 409}, [r.content for r in responses]
    assert any(response.status_code == 200 and response.json()["processed"] for response in responses)
    assert len(toss_sandbox.calls("lookup")) == 1
    assert PaymentEvent.objects.filter(payment=payment, kind="DEPOSITED").count() == 1
    assert Payment.objects.get().status == "APPROVED"
    assert Order.objects.get(pk=unpaid_order["id"]).status == "PAID"
    assert toss_sandbox.charges == [payment.payment_key]
    assert toss_sandbox.refunds == []
