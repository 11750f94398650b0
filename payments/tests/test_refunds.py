"""Refunds as rows: partial refunds through the PG's partial cancel that never exceed what was paid,
their own Idempotency-Key reused by recovery when the PG did not answer, the full cancellation of
what is left, cancels made in Toss's dashboard recorded from its webhook, and the staff API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from c4ang.actors import Actor, ActorKind
from conftest import in_threads, order_line, place_order
from orders.models import Order
from orders.tests.factories import OrderFactory
from payments import gateways, selectors
from payments import services as payment_services
from payments.constants import RefundReason
from payments.errors import (
    PaymentNotRefundable,
    RefundAmountInvalid,
    RefundDeclined,
    RefundExceedsPaid,
    RefundOperationReused,
)
from payments.models import Payment, PaymentEvent, Refund
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
PAYMENTS = "/api/v1/payments/"
CONFIRM = "/api/v1/payments/confirm/"
WEBHOOK = "/api/v1/payments/webhooks/toss/"
STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")
TOTAL = 90000  # two of 45,000 won, shipped free


class VerifyClock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def next_window(self) -> None:
        self.now += payment_services.WEBHOOK_VERIFY_WINDOW_S


@pytest.fixture(autouse=True)
def verify_clock(monkeypatch) -> VerifyClock:
    clock = VerifyClock()
    monkeypatch.setattr(payment_services, "_clock", clock)
    return clock


@pytest.fixture
def paid_order(customer_client, product_factory):
    """A PAID order of the fake PG (tok_approve): 90,000 won."""
    product = product_factory(price=Decimal("45000"), stock=5)
    order = place_order(customer_client, [order_line(product, 2)]).json()
    assert (order["status"], order["total_amount"]) == ("PAID", 90000)
    return Order.objects.get(pk=order["id"])


@pytest.fixture
def toss_paid(toss_sandbox, customer_client, product_factory):
    """A PAID order paid at the Toss sandbox: (order, paymentKey)."""
    product = product_factory(price=Decimal("45000"), stock=5)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    body = {"paymentKey": key, "orderId": order["id"], "amount": order["total_amount"]}
    assert customer_client.post(CONFIRM, body, format="json").json()["status"] == "APPROVED"
    return Order.objects.get(pk=order["id"]), key


def refund(order, amount, operation="partial-cancel:1", reason=RefundReason.PARTIAL_CANCEL, **kwargs):
    return payment_services.payment_refund_amount(
        order_id=order.pk, amount=Decimal(amount), reason=reason, by=STAFF, operation=operation, **kwargs
    )


def payment_of(order) -> Payment:
    return Payment.objects.get(order_id=order.pk)


def later(seconds: int = 61):
    return timezone.now() + timedelta(seconds=seconds)


# --- the rules --------------------------------------------------------------------------------------


def test_a_partial_refund_is_a_row_and_the_payment_and_order_follow(paid_order):
    made = refund(paid_order, 20000, note="한 개 취소")

    payment = payment_of(paid_order)
    assert (made.status, made.amount, made.reason, made.operation) == (
        "SUCCEEDED",
        Decimal(20000),
        "partial_cancel",
        "partial-cancel:1",
    )
    assert made.idempotency_key == "c4ang:refund:partial-cancel:1"
    assert made.pg_transaction_key.startswith("fake_cancel_")
    assert (made.requested_by, made.attempts) == ("staff:staff@c4ang.com", 1)
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", Decimal(20000))
    assert Order.objects.get(pk=paid_order.pk).refunded_amount == Decimal(20000)
    assert Order.objects.get(pk=paid_order.pk).status == "PAID"
    kinds = list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds[-2:] == ["REFUND_REQUESTED", "REFUNDED"]
    assert selectors.refunded_total_for_order(order_id=paid_order.pk) == Decimal(20000)


def test_the_same_operation_again_returns_its_refund_never_a_second(toss_sandbox, toss_paid):
    order, key = toss_paid

    first = refund(order, 30000)
    again = refund(order, 30000)

    assert again.pk == first.pk
    assert Refund.objects.count() == 1
    assert len(toss_sandbox.calls("cancel")) == 1
    assert toss_sandbox.payment(key)["balanceAmount"] == TOTAL - 30000
    assert payment_of(order).refunded_amount == Decimal(30000)


def test_the_same_operation_with_another_amount_is_refused(paid_order):
    refund(paid_order, 30000)

    with pytest.raises(RefundOperationReused) as refused:
        refund(paid_order, 40000)

    assert refused.value.field == "operation"
    assert Refund.objects.count() == 1
    assert payment_of(paid_order).refunded_amount == Decimal(30000)


def test_more_than_is_left_is_refused_and_changes_nothing(paid_order):
    refund(paid_order, 60000, operation="return:1", reason=RefundReason.RETURN)

    with pytest.raises(RefundExceedsPaid) as refused:
        refund(paid_order, 30001, operation="return:2", reason=RefundReason.RETURN)

    assert (refused.value.code, refused.value.http_status, refused.value.field) == (
        "refund_exceeds_paid",
        409,
        "amount",
    )
    assert Refund.objects.count() == 1
    payment = payment_of(paid_order)
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", Decimal(60000))


def test_refunds_adding_up_to_the_amount_make_the_payment_refunded(paid_order):
    refund(paid_order, 60000, operation="partial-cancel:1")
    refund(paid_order, 30000, operation="partial-cancel:2")

    payment = payment_of(paid_order)
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", Decimal(TOTAL))
    assert Order.objects.get(pk=paid_order.pk).refunded_amount == Decimal(TOTAL)
    with pytest.raises(RefundExceedsPaid):
        refund(paid_order, 1, operation="partial-cancel:3")


@pytest.mark.parametrize("amount", ["0", "-1000", "100.50", "NaN"])
def test_an_amount_that_is_not_whole_positive_won_is_refused(paid_order, amount):
    with pytest.raises(RefundAmountInvalid) as refused:
        refund(paid_order, amount)

    assert (refused.value.http_status, refused.value.field) == (400, "amount")
    assert Refund.objects.count() == 0
    assert payment_of(paid_order).refunded_amount == 0


def test_refunding_an_order_whose_payment_was_declined_is_refused(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_order(customer_client, [order_line(product)], pay_with="tok_decline").json()
    assert Payment.objects.get().status == "FAILED"

    with pytest.raises(PaymentNotRefundable) as refused:
        refund(Order.objects.get(pk=order["id"]), 1000)

    assert (refused.value.http_status, refused.value.field) == (409, "order_id")
    assert Refund.objects.count() == 0


# --- the PG ---------------------------------------------------------------------------------------


def test_a_partial_refund_speaks_tosss_partial_cancel(toss_sandbox, toss_paid):
    order, key = toss_paid

    made = refund(order, 25000, note="색상 변경")

    [cancel] = toss_sandbox.calls("cancel")
    assert cancel.path == f"/v1/payments/{key}/cancel"
    assert cancel.body == {"cancelReason": "partial_cancel: 색상 변경", "cancelAmount": 25000}
    assert cancel.headers["idempotency-key"] == made.idempotency_key
    [done] = toss_sandbox.cancels_done(key)
    assert made.pg_transaction_key == done["transactionKey"]
    after = toss_sandbox.payment(key)
    assert (after["status"], after["balanceAmount"]) == ("PARTIAL_CANCELED", TOTAL - 25000)


def test_a_full_cancel_after_partial_ones_refunds_exactly_the_balance(toss_sandbox, toss_paid, customer_client):
    order, key = toss_paid
    refund(order, 20000, operation="partial-cancel:1")
    refund(order, 5000, operation="partial-cancel:2")

    cancelled = customer_client.post(f"{ORDERS}{order.pk}/cancel/", {"reason": "변심"}, format="json")

    assert cancelled.json()["status"] == "CANCELLED"
    last = toss_sandbox.calls("cancel")[-1]
    assert (last.body, last.status) == ({"cancelReason": "customer_cancelled: 변심", "cancelAmount": 65000}, 200)
    payment = payment_of(order)
    assert last.headers["idempotency-key"] == f"{payment.idempotency_key}:cancel"
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", Decimal(TOTAL))
    assert (toss_sandbox.payment(key)["status"], toss_sandbox.payment(key)["balanceAmount"]) == ("CANCELED", 0)
    assert [r.reason for r in selectors.refunds_for_order(order_id=order.pk)] == [
        "cancellation",
        "partial_cancel",
        "partial_cancel",
    ]
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal(TOTAL)


def test_a_lost_answer_is_settled_by_recovery_with_one_cancel_and_the_same_key(toss_sandbox, toss_paid):
    order, key = toss_paid
    toss_sandbox.fault("cancel", "lost_answer", times=3, partial=True)  # the call and its two retries

    made = refund(order, 30000)

    assert made.status == "PENDING"
    assert payment_of(order).refunded_amount == Decimal(30000)  # reserved while unanswered
    assert Order.objects.get(pk=order.pk).refunded_amount == 0
    assert len(toss_sandbox.cancels_done(key)) == 1  # Toss did it; we do not know yet
    assert payment_services.refund_recover() == 0  # before REFUND_RETRY_SECONDS: not asked again

    assert payment_services.refund_recover(now=later()) == 1

    made.refresh_from_db()
    [done] = toss_sandbox.cancels_done(key)
    assert (made.status, made.pg_transaction_key, made.attempts) == ("SUCCEEDED", done["transactionKey"], 2)
    assert set(toss_sandbox.calls_per_key("cancel")) == {made.idempotency_key}
    calls = toss_sandbox.calls("cancel", idempotency_key=made.idempotency_key)
    assert len(calls) == 4
    assert calls[-1].replayed
    assert toss_sandbox.payment(key)["balanceAmount"] == TOTAL - 30000
    assert (payment_of(order).status, Order.objects.get(pk=order.pk).refunded_amount) == (
        "PARTIALLY_REFUNDED",
        Decimal(30000),
    )
    assert payment_services.refund_recover(now=later(200)) == 0


def test_a_refund_toss_never_received_is_made_once_by_recovery(toss_sandbox, toss_paid):
    order, key = toss_paid
    toss_sandbox.fault("cancel", "timeout", times=3)

    made = refund(order, 10000)
    assert (made.status, toss_sandbox.cancels_done(key)) == ("PENDING", [])

    assert payment_services.refund_recover(now=later()) == 1

    made.refresh_from_db()
    assert made.status == "SUCCEEDED"
    assert len(toss_sandbox.cancels_done(key)) == 1
    assert set(toss_sandbox.calls_per_key("cancel")) == {made.idempotency_key}


def test_a_refund_reserved_with_its_callers_change_is_sent_by_recovery_when_the_caller_died(toss_sandbox, toss_paid):
    """A partial cancel reserves its refund in its own transaction; if the process dies after the
    commit, before the PG was asked, the row is due at once and recovery sends it, once."""
    order, key = toss_paid
    with transaction.atomic():
        reserved = payment_services.payment_refund_reserve(
            order_id=order.pk, amount=Decimal(10000), reason=RefundReason.PARTIAL_CANCEL, by=STAFF, operation="op:1"
        )
    # ... and nothing else happens: the process is gone.
    assert (reserved.status, toss_sandbox.calls("cancel")) == ("PENDING", [])
    assert Payment.objects.get(order=order).refunded_amount == Decimal(10000)  # held, never refunded twice

    assert payment_services.refund_recover() == 1

    reserved.refresh_from_db()
    assert reserved.status == "SUCCEEDED"
    assert len(toss_sandbox.cancels_done(key)) == 1
    assert set(toss_sandbox.calls_per_key("cancel")) == {reserved.idempotency_key}
    # The caller, had it lived, would have sent it with the same operation: the same refund.
    assert refund(order, 10000, operation="op:1").pk == reserved.pk
    assert len(toss_sandbox.cancels_done(key)) == 1


def test_a_refund_reserved_in_a_transaction_that_rolls_back_leaves_nothing(toss_paid):
    order, _ = toss_paid

    @transaction.atomic
    def cancel_that_fails():
        payment_services.payment_refund_reserve(
            order_id=order.pk, amount=Decimal(10000), reason=RefundReason.PARTIAL_CANCEL, by=STAFF, operation="op:2"
        )
        raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        cancel_that_fails()

    assert Refund.objects.count() == 0
    assert Payment.objects.get(order=order).refunded_amount == 0


def test_repeating_an_unanswered_operation_asks_again_only_after_the_retry_delay(toss_sandbox, toss_paid):
    order, key = toss_paid
    toss_sandbox.fault("cancel", "lost_answer", times=3)
    pending = refund(order, 10000)

    assert refund(order, 10000).status == "PENDING"  # within the delay: not asked again
    assert len(toss_sandbox.calls("cancel")) == 3
    Refund.objects.update(retry_at=timezone.now() - timedelta(seconds=1))  # the delay is over

    assert refund(order, 10000).pk == pending.pk
    assert Refund.objects.get().status == "SUCCEEDED"
    assert len(toss_sandbox.cancels_done(key)) == 1


def test_a_refund_toss_refuses_is_failed_released_and_may_be_asked_again(toss_sandbox, toss_paid):
    order, key = toss_paid
    toss_sandbox.cancel_in_dashboard(key, amount=80000)  # our rows do not know it (no webhook yet)

    with pytest.raises(RefundDeclined) as refused:
        refund(order, 20000)

    assert refused.value.code == "refund_declined"
    assert "NOT_CANCELABLE_AMOUNT" in refused.value.message
    failed = Refund.objects.get()
    assert (failed.status, failed.failure_code) == ("FAILED", "NOT_CANCELABLE_AMOUNT")
    assert (payment_of(order).status, payment_of(order).refunded_amount) == ("APPROVED", 0)

    again = refund(order, 10000)

    assert again.pk != failed.pk
    assert again.idempotency_key == f"{failed.idempotency_key}:2"
    assert again.status == "SUCCEEDED"
    assert toss_sandbox.payment(key)["balanceAmount"] == 0


def test_a_payment_cancelled_at_toss_already_settles_the_refund(toss_sandbox, toss_paid):
    order, key = toss_paid
    toss_sandbox.cancel_in_dashboard(key)

    made = refund(order, 90000, operation="goodwill:x", reason=RefundReason.GOODWILL)

    assert made.status == "SUCCEEDED"
    assert toss_sandbox.calls("cancel")[-1].status == 400  # ALREADY_CANCELED_PAYMENT
    assert payment_of(order).status == "REFUNDED"


def test_a_partial_cancel_in_tosss_dashboard_is_recorded_from_its_webhook(toss_sandbox, toss_paid, api_client):
    order, key = toss_paid
    refund(order, 10000)
    toss_sandbox.cancel_in_dashboard(key, amount=15000, reason="전화 요청")
    delivery = toss_sandbox.webhook(key)

    assert api_client.post(WEBHOOK, delivery, format="json").json() == {"processed": True}
    assert api_client.post(WEBHOOK, delivery, format="json").json() == {"processed": False}

    dashboard = Refund.objects.get(reason="pg_dashboard")
    assert (dashboard.amount, dashboard.status, dashboard.note) == (Decimal(15000), "SUCCEEDED", "전화 요청")
    assert dashboard.pg_transaction_key == toss_sandbox.cancels_done(key)[-1]["transactionKey"]
    payment = payment_of(order)
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", Decimal(25000))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("PAID", Decimal(25000))


def test_a_full_cancel_in_tosss_dashboard_cancels_the_order_and_refunds_nothing_more(
    toss_sandbox, toss_paid, api_client
):
    order, key = toss_paid
    refund(order, 10000)
    toss_sandbox.cancel_in_dashboard(key)

    assert api_client.post(WEBHOOK, toss_sandbox.webhook(key), format="json").json() == {"processed": True}

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("CANCELLED", Decimal(TOTAL))
    assert (payment_of(order).status, payment_of(order).refunded_amount) == ("REFUNDED", Decimal(TOTAL))
    assert len(toss_sandbox.calls("cancel")) == 1  # only our partial one: the compensation found nothing left


def test_a_webhook_reporting_a_cancel_while_ours_is_unanswered_is_deferred(toss_sandbox, toss_paid, api_client):
    order, key = toss_paid
    toss_sandbox.fault("cancel", "lost_answer", times=3)
    assert refund(order, 10000).status == "PENDING"

    deferred = api_client.post(WEBHOOK, toss_sandbox.webhook(key), format="json")

    assert (deferred.status_code, deferred.json()["code"]) == (409, "webhook_deferred")
    assert Refund.objects.count() == 1
    assert payment_services.refund_recover(now=later()) == 1
    assert api_client.post(WEBHOOK, toss_sandbox.webhook(key), format="json").json() == {"processed": True}
    assert Refund.objects.count() == 1  # Toss's one cancel was ours
    assert payment_of(order).refunded_amount == Decimal(10000)


def test_a_refund_account_is_sent_as_refund_receive_account(toss_sandbox, toss_paid):
    order, _ = toss_paid
    account = gateways.RefundAccount(bank="88", account_number="110123456789", holder_name="김민준")

    made = refund(order, 5000, refund_account=account)

    [cancel] = toss_sandbox.calls("cancel")
    assert cancel.body["refundReceiveAccount"] == {
        "bank": "88",
        "accountNumber": "110123456789",
        "holderName": "김민준",
    }
    assert (made.refund_bank, made.refund_account_number) == ("88", "110123456789")


# --- recovery, schedule, totals -------------------------------------------------------------------


def test_the_recover_refunds_command_and_beat_entry(paid_order):
    Payment.objects.filter(order_id=paid_order.pk).update(payment_key="tok_refund_timeout")
    assert refund(paid_order, 1000).status == "PENDING"
    Payment.objects.filter(order_id=paid_order.pk).update(payment_key="tok_approve")  # the PG answers again
    Refund.objects.update(retry_at=timezone.now() - timedelta(seconds=1))

    call_command("recover_refunds")

    assert Refund.objects.get().status == "SUCCEEDED"
    task = PeriodicTask.objects.get(name="recover-refunds")
    assert (task.task, task.crontab.minute, task.crontab.hour) == ("payments.tasks.recover_refunds", "*", "*")


def test_refund_daily_totals_count_succeeded_refunds_by_day(paid_order):
    refund(paid_order, 1000, operation="partial-cancel:1")
    refund(paid_order, 2000, operation="partial-cancel:2")
    with pytest.raises(RefundExceedsPaid):
        refund(paid_order, 90000, operation="partial-cancel:3")

    totals = selectors.refund_daily_totals(since=timezone.now() - timedelta(days=1))

    assert totals == {timezone.localdate(): {"count": 2, "amount": Decimal(3000)}}


# --- API ------------------------------------------------------------------------------------------


def fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def goodwill(client, payment, body, key="gw-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{PAYMENTS}staff/{payment.pk}/refunds/", body, format="json", **headers)


def test_staff_goodwill_refund_api(staff_client, customer_client, paid_order):
    payment = payment_of(paid_order)

    made = goodwill(staff_client, payment, {"amount": "5000", "note": "배송 지연 보상"})
    again = goodwill(staff_client, payment, {"amount": "5000", "note": "배송 지연 보상"})

    assert made.status_code == 201, made.content
    assert made.json()["status"] == "SUCCEEDED"
    assert (made.json()["reason"], made.json()["amount"], made.json()["note"]) == (
        "goodwill",
        5000,
        "배송 지연 보상",
    )
    assert made.json()["operation"] == f"goodwill:{payment.pk}:gw-1"
    assert made.json()["requested_by"] == "staff:staff@c4ang.com"
    assert (again.status_code, again.json()["id"]) == (201, made.json()["id"])
    assert Refund.objects.count() == 1
    mine = customer_client.get(f"{PAYMENTS}{payment.pk}/").json()
    assert (mine["status"], mine["refunded_amount"]) == ("PARTIALLY_REFUNDED", 5000)
    assert [(r["amount"], r["reason"], r["status"]) for r in mine["refunds"]] == [(5000, "goodwill", "SUCCEEDED")]
    assert "idempotency_key" not in mine["refunds"][0]


def test_goodwill_refund_bad_input_is_a_4xx_and_changes_nothing(staff_client, customer_client, paid_order):
    payment = payment_of(paid_order)

    no_key = goodwill(staff_client, payment, {"amount": "5000"}, key=None)
    fraction = goodwill(staff_client, payment, {"amount": "10.5"})
    zero = goodwill(staff_client, payment, {"amount": "0"})
    too_much = goodwill(staff_client, payment, {"amount": "90001"})
    reused = [
        goodwill(staff_client, payment, {"amount": "100"}, key="k"),
        goodwill(staff_client, payment, {"amount": "200"}, key="k"),
    ]
    customer = goodwill(customer_client, payment, {"amount": "5000"})
    declined = goodwill(staff_client, PaymentFactory(status="FAILED"), {"amount": "100"})

    assert (no_key.status_code, fields(no_key)) == (400, ["Idempotency-Key"])
    assert (fraction.status_code, fields(fraction)) == (400, ["amount"])
    assert (zero.status_code, fields(zero)) == (400, ["amount"])
    assert (too_much.status_code, too_much.json()["code"]) == (409, "refund_exceeds_paid")
    assert (reused[1].status_code, reused[1].json()["code"]) == (409, "idempotency_key_reused")
    assert customer.status_code == 403
    assert (declined.status_code, declined.json()["code"]) == (409, "payment_not_refundable")
    assert Refund.objects.count() == 1  # the first of the reused key only
    assert payment_of(paid_order).refunded_amount == Decimal(100)


def test_an_unanswered_goodwill_refund_is_accepted_pending(staff_client, paid_order, settings):
    payment = payment_of(paid_order)
    Payment.objects.filter(pk=payment.pk).update(payment_key="tok_refund_timeout")

    response = goodwill(staff_client, payment, {"amount": "3000"})

    assert (response.status_code, response.json()["status"]) == (202, "PENDING")


def test_staff_refund_list_filters_and_query_budget(staff_client, paid_order, django_assert_num_queries):
    refund(paid_order, 1000, operation="partial-cancel:1")
    refund(paid_order, 2000, operation="return:1", reason=RefundReason.RETURN)
    other = OrderFactory(status="PAID", items_amount=Decimal(50000))
    PaymentFactory(order=other, status="APPROVED", payment_key="tok_approve")
    refund(other, 3000, operation="partial-cancel:2")

    with django_assert_num_queries(2):  # staff user, page
        listed = staff_client.get(f"{PAYMENTS}staff/refunds/")
    by_order = staff_client.get(f"{PAYMENTS}staff/refunds/", {"order_id": str(paid_order.pk)})
    by_reason = staff_client.get(f"{PAYMENTS}staff/refunds/", {"reason": "return"})
    by_status = staff_client.get(f"{PAYMENTS}staff/refunds/", {"status": "FAILED"})
    bad = staff_client.get(f"{PAYMENTS}staff/refunds/", {"status": "DONE"})

    assert [r["amount"] for r in listed.json()["results"]] == [3000, 2000, 1000]
    assert [r["amount"] for r in by_order.json()["results"]] == [2000, 1000]
    assert [r["operation"] for r in by_reason.json()["results"]] == ["return:1"]
    assert by_status.json()["results"] == []
    assert (bad.status_code, fields(bad)) == (400, ["status"])


# --- races (PostgreSQL) ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_what_was_paid():
    order = OrderFactory(status="PAID", items_amount=Decimal(TOTAL))
    payment = PaymentFactory(order=order, status="APPROVED", payment_key="tok_approve")

    def attempt(n):
        def call():
            try:
                return refund(order, 20000, operation=f"partial-cancel:{n}").status
            except RefundExceedsPaid:
                return "exceeds"

        return call

    outcomes = in_threads([attempt(n) for n in range(8)])

    assert sorted(outcomes) == ["SUCCEEDED"] * 4 + ["exceeds"] * 4
    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.status) == (Decimal(80000), "PARTIALLY_REFUNDED")
    assert selectors.refunded_total_for_order(order_id=order.pk) == Decimal(80000)
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal(80000)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_operation_asked_concurrently_refunds_once():
    order = OrderFactory(status="PAID", items_amount=Decimal(TOTAL))
    payment = PaymentFactory(order=order, status="APPROVED", payment_key="tok_approve")

    ids = in_threads([lambda: refund(order, 30000, operation="return:7").pk for _ in range(6)])

    assert len(set(ids)) == 1
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal(30000)


def test_the_admin_shows_refunds_inline_and_in_their_changelist(admin_client, paid_order):
    made = refund(paid_order, 4000, note="포장 파손")
    payment = payment_of(paid_order)

    changelist = admin_client.get("/admin/payments/refund/", {"status": "SUCCEEDED"})
    page = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/")

    assert changelist.status_code == page.status_code == 200
    assert str(made.pk)[:8] in changelist.content.decode()
    assert made.pg_transaction_key in page.content.decode()
    assert made.idempotency_key in page.content.decode()


def test_refunds_are_counted_by_reason_and_outcome(paid_order):
    from prometheus_client import REGISTRY

    def sample(name, outcome):
        labels = {"reason": "return", "outcome": outcome}
        return REGISTRY.get_sample_value(name, labels) or 0

    before = (sample("c4ang_refunds_total", "succeeded"), sample("c4ang_refunds_won_total", "succeeded"))

    refund(paid_order, 7000, operation="return:9", reason=RefundReason.RETURN)

    after = (sample("c4ang_refunds_total", "succeeded"), sample("c4ang_refunds_won_total", "succeeded"))
    assert (after[0] - before[0], after[1] - before[1]) == (1, 7000)
