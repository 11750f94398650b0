"""How payment failures are answered: a decline's 402 carries the PG's own code and message in
`errors`; a confirm repeated after no answer (504) answers what became of the attempt, never
charging twice; `?updated_since=` on the customer's payments, for polling."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from c4ang.actors import Actor
from conftest import order_line, place_order
from payments import services as payment_services
from payments.models import Payment, Refund
from payments.tests.two_step import TOTAL, confirm, expire_unpaid_orders, order_status, stock_of

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments/"


# --- 402: the PG's code and message ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        ("tok_decline", "REJECT_CARD_PAYMENT", "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
        ("tok_decline_INVALID_CARD_EXPIRATION", "INVALID_CARD_EXPIRATION", "The sandbox declined this payment."),
    ],
)
def test_a_declined_confirm_names_the_pgs_code_and_message(customer_client, pending_order, token, code, message):
    order, _ = pending_order

    declined = confirm(customer_client, order, token)
    repeated = confirm(customer_client, order, token)

    assert declined.status_code == 402
    assert declined.json() == {
        "code": "payment_declined",
        "message": f"The payment was declined: {code}: {message}",
        "errors": [{"field": None, "code": code, "message": message}],
    }
    assert repeated.json() == declined.json()
    assert order_status(order) == "PENDING"


def test_a_toss_decline_carries_tosss_own_words(toss_sandbox, customer_client, pending_order):
    order, _ = pending_order
    card = toss_sandbox.widget_pay(order["id"], TOTAL, decline="REJECT_CARD_COMPANY")

    declined = confirm(customer_client, order, card)

    assert declined.status_code == 402
    assert declined.json()["errors"] == [
        {"field": None, "code": "REJECT_CARD_COMPANY", "message": "결제 승인이 거절되었습니다."}
    ]
    assert toss_sandbox.charges == []


# --- confirming again after no answer --------------------------------------------------------------


def test_confirming_again_after_a_lost_answer_answers_the_approval(toss_sandbox, customer_client, pending_order):
    """Toss approved, and its answers were lost: the repeat asks Toss again with the attempt's key
    and answers the payment, charged once."""
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "lost_answer", times=3)
    assert confirm(customer_client, order, key).status_code == 504

    again = confirm(customer_client, order, key)

    assert again.status_code == 200, again.content
    assert again.json()["status"] == "APPROVED"
    assert toss_sandbox.charges == [key]
    assert len({call.headers["idempotency-key"] for call in toss_sandbox.calls("confirm")}) == 1
    assert order_status(order) == "PAID"
    assert stock_of(product) == 1


def test_confirming_again_once_the_order_expired_answers_that_nothing_was_charged(
    toss_sandbox, customer_client, pending_order
):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "timeout", times=3)
    assert confirm(customer_client, order, key).status_code == 504
    assert expire_unpaid_orders() == 1  # the attempt is settled by a lookup: Toss approved nothing
    calls = len(toss_sandbox.calls())

    again = confirm(customer_client, order, key)

    assert again.status_code == 409
    assert again.json()["code"] == "order_not_payable"
    assert again.json()["errors"][0]["field"] == "paymentKey"
    assert len(toss_sandbox.calls()) == calls  # settled already: Toss is not asked, never confirmed again
    assert toss_sandbox.charges == []
    assert list(Payment.objects.values_list("status", "failure_code")) == [("FAILED", "")]
    assert (order_status(order), stock_of(product)) == ("CANCELLED", 3)


def test_confirming_again_settles_an_attempt_its_cancelled_order_left_unsettled(
    toss_sandbox, customer_client, pending_order
):
    """Toss approved, the answers were lost, and the order expired while Toss could not be asked
    either: the repeat asks Toss about the attempt (never confirms it again) and, its order being
    cancelled, refunds what Toss took: the answer is the refunded payment, not another 504."""
    order, _ = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "lost_answer", times=3)
    assert confirm(customer_client, order, key).status_code == 504
    toss_sandbox.fault("lookup", "timeout", times=3)
    assert expire_unpaid_orders() == 1
    assert (order_status(order), Payment.objects.get().status) == ("CANCELLED", "PENDING")
    confirms = len(toss_sandbox.calls("confirm"))

    again = confirm(customer_client, order, key)

    assert again.status_code == 200, again.content
    assert (again.json()["status"], again.json()["refunded_amount"]) == ("REFUNDED", TOTAL)
    assert len(toss_sandbox.calls("confirm")) == confirms
    assert (toss_sandbox.charges, toss_sandbox.refunds) == ([key], [key])
    assert list(Refund.objects.values_list("reason", "status", "amount")) == [
        ("late_payment", "SUCCEEDED", Decimal(TOTAL))
    ]
    assert order_status(order) == "CANCELLED"


def test_a_repeat_that_toss_still_cannot_answer_stays_a_timeout(toss_sandbox, customer_client, pending_order):
    order, _ = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "lost_answer", times=3)
    assert confirm(customer_client, order, key).status_code == 504
    toss_sandbox.fault("lookup", "timeout", times=6)
    assert expire_unpaid_orders() == 1

    again = confirm(customer_client, order, key)

    assert (again.status_code, again.json()["code"]) == (504, "payment_timeout")
    assert Payment.objects.get().status == "PENDING"
    assert toss_sandbox.refunds == []


def test_the_one_call_checkouts_timeout_answers_its_settled_attempt(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_order(customer_client, [order_line(product)], pay_with="tok_timeout").json()
    assert (order["status"], order["payment"]["status"], order["payment"]["failure_code"]) == (
        "CANCELLED",
        "FAILED",
        "",
    )

    again = confirm(customer_client, order, "tok_timeout")

    assert (again.status_code, again.json()["code"]) == (409, "order_not_payable")
    assert stock_of(product) == 5


# --- ?updated_since= ---------------------------------------------------------------------------------


def test_the_payments_list_keeps_those_changed_since(customer_client, product_factory):
    product = product_factory(stock=10)
    old, recent = (place_order(customer_client, [order_line(product)]).json() for _ in range(2))
    a_day_ago = timezone.now() - timedelta(days=1)
    Payment.objects.filter(order_id=old["id"]).update(updated_at=a_day_ago)
    since = (a_day_ago + timedelta(hours=1)).isoformat()

    changed = customer_client.get(PAYMENTS, {"updated_since": since})
    everything = customer_client.get(PAYMENTS)

    assert changed.status_code == 200
    assert [payment["order_id"] for payment in changed.json()["results"]] == [recent["id"]]
    assert [payment["order_id"] for payment in everything.json()["results"]] == [recent["id"], old["id"]]


def test_a_refund_settling_later_makes_its_payment_changed(customer_client, product_factory):
    """A refund answered after its reservation (recovery) changes the payment then too, also when
    the payment's status stays PARTIALLY_REFUNDED: a poller sees the refund settle."""
    order = place_order(customer_client, [order_line(product_factory(price=Decimal("20000")), 3)]).json()
    by = Actor.system("test")
    payment_services.payment_refund_amount(
        order_id=order["id"], amount=Decimal(5000), reason="goodwill", by=by, operation="goodwill:first"
    )
    payment_services.payment_refund_reserve(
        order_id=order["id"], amount=Decimal(3000), reason="goodwill", by=by, operation="goodwill:second"
    )
    Payment.objects.update(updated_at=timezone.now() - timedelta(days=1))
    since = (timezone.now() - timedelta(minutes=1)).isoformat()
    assert customer_client.get(PAYMENTS, {"updated_since": since}).json()["results"] == []

    assert payment_services.refund_recover() == 1

    [changed] = customer_client.get(PAYMENTS, {"updated_since": since}).json()["results"]
    assert changed["status"] == "PARTIALLY_REFUNDED"
    assert [(refund["amount"], refund["status"]) for refund in changed["refunds"]] == [
        (3000, "SUCCEEDED"),
        (5000, "SUCCEEDED"),
    ]


def test_an_unreadable_updated_since_is_a_400_naming_it(customer_client):
    response = customer_client.get(PAYMENTS, {"updated_since": "yesterday"})

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["updated_since"]


def test_a_misspelt_filter_is_a_400_not_the_whole_list(customer_client):
    response = customer_client.get(PAYMENTS, {"updated_after": timezone.now().isoformat()})

    assert (response.status_code, response.json()["code"]) == (400, "unknown_parameter")
    assert [error["field"] for error in response.json()["errors"]] == ["updated_after"]
