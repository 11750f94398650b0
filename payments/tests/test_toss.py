"""The Toss Payments adapter and everything built on it, against the stateful Toss sandbox
(payments/tests/toss_sandbox.py, the `toss_sandbox` fixture): Basic auth, confirm against what the
widget paid, the stored Idempotency-Key reused on every retry of one attempt and a new one per
attempt, {code, message} errors as declines, timeouts settled by asking Toss, refunds within the
balance, and unsigned webhooks verified by a lookup, capped, throttled and matched to the payment
Toss approved."""

import json
from decimal import Decimal

import httpx
import pytest

from conftest import client_for, order_line, place_order
from payments import gateways
from payments import services as payment_services
from payments.models import Payment, PaymentEvent, WebhookEvent
from payments.tests.two_step import TOTAL, confirm, expire_unpaid_orders, order_status, stock_of
from saga.models import SagaEvent, SagaInstance

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
WEBHOOK = "/api/v1/payments/webhooks/toss/"


class VerifyClock:
    """The webhook's verification windows, on a clock the test moves (never a real boundary mid-test)."""

    def __init__(self):
        self.now = 1_800_000_000.0  # the start of a window

    def __call__(self) -> float:
        return self.now

    def next_window(self) -> None:
        self.now += payment_services.WEBHOOK_VERIFY_WINDOW_S


@pytest.fixture(autouse=True)
def verify_clock(monkeypatch) -> VerifyClock:
    clock = VerifyClock()
    monkeypatch.setattr(payment_services, "_clock", clock)
    return clock


def pay(toss, client, order) -> str:
    """Pay the order in the widget and confirm it: PAID; returns the paymentKey."""
    key = toss.widget_pay(order["id"], TOTAL)
    assert confirm(client, order, key).json()["status"] == "APPROVED"
    assert order_status(order) == "PAID"
    return key


def toss_directly(toss, path: str, body: dict, idempotency_key: str) -> httpx.Response:
    """A call to Toss that is not ours (another system of the merchant, or our own request landing late)."""
    headers = {"Authorization": toss.authorization, "Idempotency-Key": idempotency_key}
    return httpx.post(f"{toss.url}{path}", json=body, headers=headers)


# --- confirm ----------------------------------------------------------------------------------------


def test_confirm_speaks_the_documented_contract(toss_sandbox, customer_client, pending_order):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)

    response = confirm(customer_client, order, key)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "APPROVED"
    [call] = toss_sandbox.calls()
    payment = Payment.objects.get()
    assert (call.endpoint, call.status) == ("confirm", 200)
    assert call.headers["authorization"] == toss_sandbox.authorization
    assert call.headers["idempotency-key"] == payment.idempotency_key == f"c4ang:{order['id']}:confirm:{key}"
    assert call.body == {"paymentKey": key, "orderId": order["id"], "amount": TOTAL}
    assert (payment.provider, payment.pg_transaction_id, payment.payment_key) == ("toss", key, key)
    assert toss_sandbox.charges == [key]
    assert (toss_sandbox.payment(key)["status"], toss_sandbox.payment(key)["balanceAmount"]) == ("DONE", TOTAL)
    assert order_status(order) == "PAID"
    assert stock_of(product) == 1


def test_a_wrong_secret_key_is_refused_by_toss_and_charges_nothing(
    toss_sandbox, customer_client, pending_order, settings
):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    settings.TOSS_SECRET_KEY = "test_sk_not_this_merchants"

    response = confirm(customer_client, order, key)

    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    assert "UNAUTHORIZED_KEY" in response.json()["message"]
    assert [call.status for call in toss_sandbox.calls()] == [401]
    assert toss_sandbox.charges == []
    assert toss_sandbox.payment(key)["status"] == "IN_PROGRESS"
    assert order_status(order) == "PENDING"
    assert stock_of(product) == 1


@pytest.mark.parametrize(
    ("code", "http_status", "message"),
    [
        ("REJECT_CARD_PAYMENT", 403, "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
        ("INVALID_CARD_EXPIRATION", 400, "카드 정보를 다시 확인해주세요. (유효기간)"),
    ],
)
def test_a_declined_card_keeps_the_order_pending_for_another_card(
    toss_sandbox, customer_client, pending_order, code, http_status, message
):
    order, product = pending_order
    declined_card = toss_sandbox.widget_pay(order["id"], TOTAL, decline=code)

    declined = confirm(customer_client, order, declined_card)
    repeated = confirm(customer_client, order, declined_card)

    assert (declined.status_code, repeated.status_code) == (402, 402)
    assert declined.json()["code"] == "payment_declined"
    assert f"{code}: {message}" in declined.json()["message"]
    assert repeated.json() == declined.json()
    # Declines are Toss's final answer: never retried; the repeat is the same attempt, answered as stored.
    assert [call.status for call in toss_sandbox.calls()] == [http_status]
    attempt = Payment.objects.get()
    assert (attempt.status, attempt.failure_code, attempt.failure_message) == ("FAILED", code, message)
    assert order_status(order) == "PENDING"
    assert stock_of(product) == 1
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.current_step, saga.lease_owner) == ("STARTED", 2, "")
    waiting = SagaEvent.objects.filter(event_type="STEP_WAITING").order_by("created_at").last()
    assert (waiting.step, waiting.payload["attempt"], waiting.payload["code"]) == (
        "take_payment",
        declined_card,
        "payment_declined",
    )

    other_card = toss_sandbox.widget_pay(order["id"], TOTAL)
    paid = confirm(customer_client, order, other_card)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "APPROVED"
    attempts = list(Payment.objects.order_by("created_at").values_list("payment_key", "status", "idempotency_key"))
    assert attempts == [
        (declined_card, "FAILED", f"c4ang:{order['id']}:confirm:{declined_card}"),
        (other_card, "APPROVED", f"c4ang:{order['id']}:confirm:{other_card}"),
    ]
    assert toss_sandbox.charges == [other_card]
    assert order_status(order) == "PAID"
    assert stock_of(product) == 1


def test_toss_5xx_is_retried_with_the_same_idempotency_key(toss_sandbox, customer_client, pending_order):
    order, _ = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "500")
    toss_sandbox.fault("confirm", "409")

    response = confirm(customer_client, order, key)

    assert response.json()["status"] == "APPROVED"
    calls = toss_sandbox.calls("confirm")
    assert [call.status for call in calls] == [500, 409, 200]
    assert {call.headers["idempotency-key"] for call in calls} == {Payment.objects.get().idempotency_key}
    assert toss_sandbox.charges == [key]


def test_no_answer_leaves_the_attempt_unknown_and_the_order_waiting(toss_sandbox, customer_client, pending_order):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "timeout", times=3)

    response = confirm(customer_client, order, key)

    assert response.status_code == 504
    assert response.json()["code"] == "payment_timeout"
    calls = toss_sandbox.calls("confirm")
    assert len(calls) == 3  # the first try and TOSS_MAX_RETRIES retries
    assert len({call.headers["idempotency-key"] for call in calls}) == 1
    assert toss_sandbox.charges == []
    assert Payment.objects.get().status == "PENDING"
    assert order_status(order) == "PENDING"
    assert stock_of(product) == 1

    # The customer tries the same payment again: the same attempt, asked with the same key.
    again = confirm(customer_client, order, key)

    assert again.json()["status"] == "APPROVED"
    assert len({call.headers["idempotency-key"] for call in toss_sandbox.calls("confirm")}) == 1
    assert Payment.objects.get().status == "APPROVED"
    assert toss_sandbox.charges == [key]
    assert order_status(order) == "PAID"


def test_another_card_after_a_lost_answer_never_makes_a_second_approval(toss_sandbox, customer_client, pending_order):
    """Toss approved the first card, and every answer got lost: the customer, seeing a timeout,
    pays with a second card. The first attempt is asked again with its own key first: it was
    approved, it pays the order, and the second card is never charged."""
    order, product = pending_order
    first_card = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "lost_answer", times=3)
    assert confirm(customer_client, order, first_card).status_code == 504
    second_card = toss_sandbox.widget_pay(order["id"], TOTAL)

    response = confirm(customer_client, order, second_card)

    assert response.status_code == 409
    assert response.json()["code"] == "order_not_payable"
    assert response.json()["message"] == "The order was paid by an earlier payment attempt."
    assert toss_sandbox.charges == [first_card]
    assert toss_sandbox.payment(second_card)["status"] == "IN_PROGRESS"  # expires at Toss, never charged
    assert list(Payment.objects.values_list("payment_key", "status")) == [(first_card, "APPROVED")]
    assert [call.replayed for call in toss_sandbox.calls("confirm")] == [False, True, True, True]
    assert order_status(order) == "PAID"
    assert stock_of(product) == 1


def test_another_card_waits_while_an_earlier_attempt_has_no_answer(toss_sandbox, customer_client, pending_order):
    order, product = pending_order
    first_card = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "timeout", times=6)
    assert confirm(customer_client, order, first_card).status_code == 504
    second_card = toss_sandbox.widget_pay(order["id"], TOTAL)

    response = confirm(customer_client, order, second_card)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_attempt_unsettled"
    # Only the first attempt was asked (again, with its own key); the second card was not tried.
    calls = toss_sandbox.calls("confirm")
    assert len(calls) == 6
    assert {call.body["paymentKey"] for call in calls} == {first_card}
    assert list(Payment.objects.values_list("payment_key", "status")) == [(first_card, "PENDING")]
    assert toss_sandbox.charges == []
    assert order_status(order) == "PENDING"

    # Nobody pays: the order expires, and the unanswered attempt is settled by asking Toss.
    assert expire_unpaid_orders() == 1

    assert [call.endpoint for call in toss_sandbox.calls()][-1] == "lookup"
    assert list(Payment.objects.values_list("status", flat=True)) == ["FAILED"]
    assert toss_sandbox.charges == toss_sandbox.refunds == []
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3


def test_a_payment_approved_despite_the_timeout_is_refunded_when_the_order_expires(
    toss_sandbox, customer_client, pending_order
):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "lost_answer", times=3)
    assert confirm(customer_client, order, key).status_code == 504

    assert expire_unpaid_orders() == 1

    [cancel] = toss_sandbox.calls("cancel")
    payment = Payment.objects.get()
    assert cancel.body == {"cancelReason": "payment_expired", "cancelAmount": TOTAL}
    assert cancel.headers["idempotency-key"] == f"{payment.idempotency_key}:cancel"
    assert toss_sandbox.refunds == [key]
    assert (toss_sandbox.payment(key)["status"], toss_sandbox.payment(key)["balanceAmount"]) == ("CANCELED", 0)
    assert payment.status == "REFUNDED"
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3


def test_one_step_flow_a_timeout_still_cancels_and_refunds_what_was_taken(
    toss_sandbox, customer_client, product_factory
):
    product = product_factory(price=Decimal("45000"), stock=3)
    key = toss_sandbox.widget_pay(None, TOTAL)  # paid before the order had its id
    toss_sandbox.fault("confirm", "lost_answer", times=3)

    order = place_order(customer_client, [order_line(product, 2)], pay_with=key).json()

    assert (order["status"], order["cancel_code"]) == ("CANCELLED", "payment_timeout")
    [cancel] = toss_sandbox.calls("cancel")
    assert cancel.body["cancelReason"].startswith("payment_timeout")
    assert toss_sandbox.refunds == [key]
    assert Payment.objects.get().status == "REFUNDED"
    assert stock_of(product) == 3


def test_already_processed_confirm_is_read_back_from_toss(toss_sandbox, customer_client, pending_order):
    order, _ = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    body = {"paymentKey": key, "orderId": order["id"], "amount": TOTAL}
    assert toss_directly(toss_sandbox, "/v1/payments/confirm", body, "another-system-1").status_code == 200

    response = confirm(customer_client, order, key)

    assert response.json()["status"] == "APPROVED"
    assert [call.endpoint for call in toss_sandbox.calls()] == ["confirm", "confirm", "lookup"]
    assert toss_sandbox.calls("confirm")[1].status == 400  # ALREADY_PROCESSED_PAYMENT
    assert toss_sandbox.charges == [key]


def test_a_confirm_with_another_orders_payment_key_is_declined(
    toss_sandbox, customer_client, customer_factory, product_factory, pending_order
):
    """Toss says the key was processed, and its lookup says DONE for the same amount: but for
    another customer's order. That approval is not this order's payment."""
    order, _ = pending_order
    someone_elses_key = pay(toss_sandbox, customer_client, order)
    intruder = client_for(customer_factory().user)
    product = product_factory(price=Decimal("45000"), stock=2)
    own_order = place_order(intruder, [order_line(product, 2)], pay_with=None).json()

    response = confirm(intruder, own_order, someone_elses_key)

    assert response.status_code == 402
    assert "ALREADY_PROCESSED_PAYMENT" in response.json()["message"]
    assert order_status(own_order) == "PENDING"
    assert Payment.objects.get(order_id=own_order["id"]).status == "FAILED"
    assert order_status(order) == "PAID"
    assert toss_sandbox.charges == [someone_elses_key]


def test_an_already_processed_payment_of_another_amount_is_not_taken(toss_sandbox, customer_client, pending_order):
    order, _ = pending_order
    key = toss_sandbox.widget_pay(order["id"], 1000)
    body = {"paymentKey": key, "orderId": order["id"], "amount": 1000}
    assert toss_directly(toss_sandbox, "/v1/payments/confirm", body, "another-system-2").status_code == 200

    response = confirm(customer_client, order, key)

    assert response.status_code == 402
    assert "ALREADY_PROCESSED_PAYMENT" in response.json()["message"]
    assert Payment.objects.get().status == "FAILED"
    assert order_status(order) == "PENDING"


def test_an_amount_with_a_fractional_part_is_refused_before_toss_is_called(toss_sandbox):
    key = toss_sandbox.widget_pay("order-1", TOTAL)
    toss = gateways.gateway("toss")

    with pytest.raises(gateways.AmountNotWholeWon) as confirming:
        toss.confirm(payment_key=key, order_id="order-1", amount=Decimal("90000.50"), idempotency_key="k-1")
    with pytest.raises(gateways.AmountNotWholeWon):
        toss.cancel(payment_key=key, amount=Decimal("0.5"), reason="부분 취소", idempotency_key="k-2")
    with pytest.raises(gateways.AmountNotWholeWon):
        gateways.gateway("fake").confirm(
            payment_key="tok_approve", order_id="order-1", amount=Decimal("1000.50"), idempotency_key="k-3"
        )

    assert confirming.value.code == "AMOUNT_NOT_WHOLE_WON"
    assert toss_sandbox.calls() == []
    approved = toss.confirm(payment_key=key, order_id="order-1", amount=Decimal(90000), idempotency_key="k-4")
    [call] = toss_sandbox.calls()
    assert call.body["amount"] == TOTAL
    assert type(call.body["amount"]) is int
    assert (approved.status, approved.amount) == ("DONE", Decimal(TOTAL))


# --- refunds ----------------------------------------------------------------------------------------


def test_cancelling_a_paid_order_cancels_at_toss_with_its_own_key(toss_sandbox, customer_client, pending_order):
    order, product = pending_order
    key = pay(toss_sandbox, customer_client, order)

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {"reason": "단순 변심"}, format="json")

    assert response.json()["status"] == "CANCELLED"
    [cancel] = toss_sandbox.calls("cancel")
    payment = Payment.objects.get()
    assert cancel.headers["authorization"] == toss_sandbox.authorization
    assert cancel.headers["idempotency-key"] == f"{payment.idempotency_key}:cancel"
    assert cancel.body == {"cancelReason": "customer_cancelled: 단순 변심", "cancelAmount": TOTAL}
    assert toss_sandbox.refunds == [key]
    assert toss_sandbox.payment(key)["balanceAmount"] == 0
    assert payment.status == "REFUNDED"
    assert stock_of(product) == 3


def test_a_refund_larger_than_the_balance_left_at_toss_is_refused_not_forced(
    toss_sandbox, customer_client, pending_order
):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)
    toss_sandbox.cancel_in_dashboard(key, amount=30000)  # part refunded by staff at Toss

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    # The order can no longer ship; the refund of the whole amount is refused and stays owed.
    assert response.json()["status"] == "CANCELLED"
    [cancel] = toss_sandbox.calls("cancel")
    assert (cancel.body["cancelAmount"], cancel.status) == (TOTAL, 400)
    after = toss_sandbox.payment(key)
    assert (after["status"], after["balanceAmount"], len(after["cancels"])) == ("PARTIAL_CANCELED", 60000, 1)
    assert Payment.objects.get().status == "APPROVED"
    assert list(PaymentEvent.objects.values_list("kind", flat=True))[-2:] == ["REFUND_REQUESTED", "REFUND_FAILED"]
    assert SagaInstance.objects.get().status == "COMPENSATING"


# --- webhooks ---------------------------------------------------------------------------------------


def test_webhook_is_verified_with_toss_and_processed_once(toss_sandbox, customer_client, api_client, pending_order):
    order, product = pending_order
    key = pay(toss_sandbox, customer_client, order)
    toss_sandbox.cancel_in_dashboard(key)
    delivery = toss_sandbox.webhook(key)

    first = api_client.post(WEBHOOK, delivery, format="json")
    resent = api_client.post(WEBHOOK, delivery, format="json")

    assert (first.status_code, resent.status_code) == (200, 200)
    assert (first.json(), resent.json()) == ({"processed": True}, {"processed": False})
    assert len(toss_sandbox.calls("lookup")) == 1
    assert WebhookEvent.objects.count() == 1
    assert Payment.objects.get().status == "REFUNDED"
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3
    assert toss_sandbox.refunds == [key]  # the dashboard's: the order's compensation found it cancelled


@pytest.mark.django_db(transaction=True)
def test_toss_delivers_its_webhook_to_the_live_server(toss_sandbox, customer_client, pending_order, live_server):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)
    toss_sandbox.cancel_in_dashboard(key)

    status, answer = toss_sandbox.notify(f"{live_server.url}{WEBHOOK}", key)

    assert (status, answer) == (200, {"processed": True})
    assert Payment.objects.get().status == "REFUNDED"
    assert order_status(order) == "CANCELLED"


def test_a_forged_webhook_changes_nothing(toss_sandbox, customer_client, api_client, pending_order):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)
    forged = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-28T15:10:00.000000"}
    forged["data"] = {"paymentKey": key, "orderId": order["id"], "status": "CANCELED"}

    response = api_client.post(WEBHOOK, forged, format="json")

    assert response.json() == {"processed": True}
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"
    assert toss_sandbox.refunds == []


def test_a_webhook_toss_cannot_confirm_is_refused_and_verified_on_a_later_resend(
    toss_sandbox, customer_client, api_client, pending_order, verify_clock
):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)
    toss_sandbox.fault("lookup", "503", times=3)
    delivery = toss_sandbox.webhook(key)

    refused = api_client.post(WEBHOOK, delivery, format="json")
    too_soon = api_client.post(WEBHOOK, delivery, format="json")
    verify_clock.next_window()  # Toss's first resend comes a minute later
    resent = api_client.post(WEBHOOK, delivery, format="json")

    assert (refused.status_code, refused.json()["code"]) == (400, "webhook_invalid")
    assert (too_soon.status_code, too_soon.json()["code"]) == (409, "webhook_deferred")
    assert resent.json() == {"processed": True}
    assert [call.status for call in toss_sandbox.calls("lookup")] == [503, 503, 503, 200]
    assert WebhookEvent.objects.get().processed_at is not None


def test_deliveries_of_one_payment_make_one_lookup_per_window(
    toss_sandbox, customer_client, api_client, pending_order, verify_clock
):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)

    def deliver(status: str, second: int):
        body = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": f"2026-11-28T15:10:{second:02d}.000000"}
        body["data"] = {"paymentKey": key, "orderId": order["id"], "status": status}
        return api_client.post(WEBHOOK, body, format="json")

    first = deliver("DONE", 0)
    same_claim = [deliver("DONE", second) for second in range(1, 4)]
    other_claim = [deliver("CANCELED", second) for second in range(4, 7)]

    assert first.json() == {"processed": True}
    assert [response.json() for response in same_claim] == [{"processed": True}] * 3  # from that lookup
    assert [(response.status_code, response.json()["code"]) for response in other_claim] == [
        (409, "webhook_deferred")
    ] * 3
    assert len(toss_sandbox.calls("lookup")) == 1

    verify_clock.next_window()
    assert deliver("CANCELED", 4).json() == {"processed": True}  # Toss's resend: verified, still DONE

    assert len(toss_sandbox.calls("lookup")) == 2
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"


def test_a_webhook_for_an_unknown_payment_key_is_stored_nowhere_and_asks_nothing(toss_sandbox, api_client):
    body = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-28T15:10:00.000000"}
    body["data"] = {"paymentKey": "tgen_invented", "orderId": "00000000-0000-0000-0000-000000000000", "status": "DONE"}

    response = api_client.post(WEBHOOK, body, format="json")

    assert response.json() == {"processed": False}
    assert WebhookEvent.objects.count() == 0
    assert toss_sandbox.calls() == []


def test_webhook_bodies_over_the_cap_are_refused_unread(toss_sandbox, customer_client, api_client, pending_order):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)
    delivery = toss_sandbox.webhook(key)

    def padded_to(size: int) -> bytes:
        body = {**delivery, "padding": ""}
        body["padding"] = "x" * (size - len(json.dumps(body).encode()))
        return json.dumps(body).encode()

    at_the_cap = api_client.post(WEBHOOK, padded_to(8 * 1024), content_type="application/json")
    over_it = api_client.post(WEBHOOK, padded_to(8 * 1024 + 1), content_type="application/json")

    assert at_the_cap.json() == {"processed": True}
    assert over_it.status_code == 413
    assert over_it.json() == {
        "code": "request_too_large",
        "message": "A PG webhook is a few KB; this body is larger than the endpoint accepts.",
        "errors": [],
    }
    assert WebhookEvent.objects.count() == 1
    assert len(toss_sandbox.calls("lookup")) == 1


def test_webhooks_are_throttled_per_sending_ip(toss_sandbox, api_client, monkeypatch, throttle_clock):
    from rest_framework.settings import api_settings

    from c4ang.api.throttling import PgWebhookRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "pg_webhook": "3/min"}
    monkeypatch.setattr(PgWebhookRateThrottle, "THROTTLE_RATES", rates)
    body = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-28T15:10:00.000000"}
    body["data"] = {"paymentKey": "tgen_invented", "status": "DONE"}

    from_one_ip = [api_client.post(WEBHOOK, body, format="json", REMOTE_ADDR="13.124.18.147") for _ in range(4)]
    from_another = api_client.post(WEBHOOK, body, format="json", REMOTE_ADDR="13.124.46.177")

    assert [response.status_code for response in from_one_ip] == [200, 200, 200, 429]
    assert from_one_ip[3].json()["code"] == "throttled"
    assert from_another.status_code == 200
    assert WebhookEvent.objects.count() == 0


def test_a_refused_confirm_with_someone_elses_key_does_not_shadow_their_payment(
    toss_sandbox, customer_client, customer_factory, product_factory, api_client, pending_order
):
    """The attack: another customer confirms their own order with a paymentKey they saw, which
    Toss refuses. Their refused attempt is the newest row carrying the key; the real cancellation
    of that key still reaches the order Toss approved it for."""
    order, product = pending_order
    key = pay(toss_sandbox, customer_client, order)
    intruder = client_for(customer_factory().user)
    intruders_order = place_order(intruder, [order_line(product_factory(price=Decimal("45000")), 2)], pay_with=None)
    assert confirm(intruder, intruders_order.json(), key).status_code == 402
    toss_sandbox.cancel_in_dashboard(key)

    response = api_client.post(WEBHOOK, toss_sandbox.webhook(key), format="json")

    assert response.json() == {"processed": True}
    payments = dict(Payment.objects.values_list("order_id", "status"))
    assert {str(order_id): status for order_id, status in payments.items()} == {
        order["id"]: "REFUNDED",
        intruders_order.json()["id"]: "FAILED",
    }
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3
    assert order_status(intruders_order.json()) == "PENDING"


def test_an_unanswered_confirm_with_someone_elses_key_never_refunds_their_payment(
    toss_sandbox, customer_client, customer_factory, product_factory, pending_order
):
    order, _ = pending_order
    key = pay(toss_sandbox, customer_client, order)
    intruder = client_for(customer_factory().user)
    intruders_order = place_order(intruder, [order_line(product_factory(price=Decimal("45000")), 2)], pay_with=None)
    toss_sandbox.fault("confirm", "timeout", times=3, payment_key=key)
    assert confirm(intruder, intruders_order.json(), key).status_code == 504

    assert expire_unpaid_orders() == 1  # the intruder's order: its attempt is settled by a lookup

    # Toss reports the key DONE, but for the other order: the intruder's attempt was never approved.
    assert toss_sandbox.calls()[-1].endpoint == "lookup"
    assert toss_sandbox.refunds == []
    assert Payment.objects.get(order_id=intruders_order.json()["id"]).status == "FAILED"
    assert Payment.objects.get(order_id=order["id"]).status == "APPROVED"
    assert order_status(order) == "PAID"


def test_an_unanswered_attempt_that_toss_approved_pays_the_waiting_order(
    toss_sandbox, customer_client, api_client, pending_order
):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "lost_answer", times=3)
    assert confirm(customer_client, order, key).status_code == 504

    response = api_client.post(WEBHOOK, toss_sandbox.webhook(key), format="json")

    assert response.json() == {"processed": True}
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"
    assert SagaInstance.objects.get().status == "COMPLETED"
    assert stock_of(product) == 1
    assert toss_sandbox.charges == [key]


def test_an_attempt_settled_as_never_approved_and_approved_late_is_refunded(
    toss_sandbox, customer_client, api_client, pending_order
):
    order, product = pending_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL)
    toss_sandbox.fault("confirm", "timeout", times=3)
    assert confirm(customer_client, order, key).status_code == 504
    assert expire_unpaid_orders() == 1  # Toss knew of no approval: the attempt is FAILED
    attempt = Payment.objects.get()
    assert (attempt.status, toss_sandbox.payment(key)["status"]) == ("FAILED", "IN_PROGRESS")
    # Our lost request reaches Toss after all, and Toss approves it.
    late = toss_directly(
        toss_sandbox, "/v1/payments/confirm", toss_sandbox.calls("confirm")[0].body, attempt.idempotency_key
    )
    assert (late.status_code, toss_sandbox.charges) == (200, [key])

    response = api_client.post(WEBHOOK, toss_sandbox.webhook(key), format="json")

    assert response.json() == {"processed": True}
    assert toss_sandbox.refunds == [key]
    assert Payment.objects.get().status == "REFUNDED"
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3


@pytest.mark.parametrize(
    "body",
    [{}, {"eventType": "PAYMENT_STATUS_CHANGED"}, {"eventType": "X", "createdAt": "t", "data": "nope"}, []],
)
def test_malformed_webhooks_are_400(api_client, body):
    response = api_client.post(WEBHOOK, body, format="json")

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
