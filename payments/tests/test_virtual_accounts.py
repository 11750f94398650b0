"""Virtual accounts (가상계좌) against the stateful Toss sandbox (the `toss_sandbox` fixture) and the
fake PG: issued once (Toss's server-side issue, our due date), a deposit reported by Toss's
DEPOSIT_CALLBACK (its secret checked, the payment fetched from Toss before anything changes) or by
PAYMENT_STATUS_CHANGED, an account closed at Toss when its order is cancelled or expires, and a
deposit that lands for a cancelled order refunded.

The orders here are placed through the API unpaid (the saga waits at its payment step), and the
saga's payment step for a virtual account is played by calling `payment_take_virtual_account` as
it does; what the order then does (PAID, refunded) is the orders module's answer, through the
handlers it registers with payments.hooks."""

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.utils import timezone

from conftest import order_line, place_order
from orders import services as order_services
from orders.models import Order
from payments import gateways, selectors
from payments import services as payment_services
from payments.constants import VIRTUAL_ACCOUNT_CANCELLED, VIRTUAL_ACCOUNT_EXPIRED, Bank
from payments.errors import PaymentDeclined, PaymentTimedOut
from payments.models import Payment, PaymentEvent, WebhookEvent
from payments.tests.toss_sandbox import VIRTUAL_ACCOUNT, send
from products.models import Product
from saga import services as saga_services
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
PAYMENTS = "/api/v1/payments/"
DEPOSIT_CALLBACK = "/api/v1/payments/webhooks/toss/deposit/"
WEBHOOK = "/api/v1/payments/webhooks/toss/"
TOTAL = 90000  # two of 45,000 won, shipped free


class VerifyClock:
    """The webhooks' verification windows, on a clock the test moves (never a real boundary mid-test)."""

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


@pytest.fixture
def unpaid_order(customer_client, product_factory):
    """An order PENDING at its payment step, with its stock held."""
    product = product_factory(price=Decimal("45000"), stock=3)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()
    assert (order["status"], Decimal(order["total_amount"])) == ("PENDING", TOTAL)
    return order, product


def due_in_days(days: int = 3):
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0)


def take_virtual_account(order, customer, *, bank: str = Bank.SHINHAN, due_at=None, sandbox_token=None) -> Payment:
    """What the saga's payment step does for an order paid by virtual account."""
    return payment_services.payment_take_virtual_account(
        order_id=UUID(order["id"]),
        customer_id=customer.pk,
        amount=Decimal(order["total_amount"]),
        order_name="무선 이어폰 외 1건",
        customer_name="김민준",
        bank=bank,
        due_at=due_at or due_in_days(),
        sandbox_token=sandbox_token,
    )


def order_status(order) -> str:
    return Order.objects.get(pk=order["id"]).status


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def event_kinds(payment) -> list[str]:
    return list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))


def cancel(client, order):
    return client.post(f"{ORDERS}{order['id']}/cancel/", {"reason": "단순 변심"}, format="json")


def expire_unpaid_orders() -> int:
    return order_services.order_expire_unpaid(now=timezone.now() + timedelta(minutes=31))


@pytest.fixture
def waiting_account(toss_sandbox, customer, unpaid_order):
    """The order's virtual account issued by Toss, waiting for the deposit."""
    order, product = unpaid_order
    payment = take_virtual_account(order, customer)
    assert payment.status == "WAITING"
    return order, product, payment


# --- issuing ----------------------------------------------------------------------------------------


def test_issue_speaks_tosss_server_side_contract(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order
    due_at = due_in_days(3)

    payment = take_virtual_account(order, customer, due_at=due_at)

    [call] = toss_sandbox.calls()
    assert (call.endpoint, call.method, call.path, call.status) == ("issue", "POST", "/v1/virtual-accounts", 200)
    assert call.headers["authorization"] == toss_sandbox.authorization
    assert call.headers["idempotency-key"] == payment.idempotency_key == f"c4ang:{order['id']}:virtual-account"
    assert call.body == {
        "amount": TOTAL,
        "orderId": order["id"],
        "orderName": "무선 이어폰 외 1건",
        "customerName": "김민준",
        "bank": "88",
        "dueDate": timezone.localtime(due_at, gateways.KST).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    issued = toss_sandbox.payment(payment.payment_key)
    payment.refresh_from_db()
    assert (payment.status, payment.method, payment.provider) == ("WAITING", "virtual_account", "toss")
    assert (payment.bank, payment.bank_name, payment.holder_name) == ("88", "Shinhan Bank", "김민준")
    assert payment.account_number == issued["virtualAccount"]["accountNumber"]
    assert payment.due_at == due_at
    assert payment.secret == issued["secret"]
    assert payment.pg_transaction_id == payment.payment_key == issued["paymentKey"]
    assert event_kinds(payment) == ["REQUESTED", "ISSUED"]
    assert toss_sandbox.charges == []
    assert order_status(order) == "PENDING"


def test_a_repeat_returns_the_account_and_never_issues_a_second(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order
    first = take_virtual_account(order, customer)

    again = take_virtual_account(order, customer)

    assert again.pk == first.pk
    assert (again.status, again.account_number) == ("WAITING", first.account_number)
    assert len(toss_sandbox.calls("issue")) == 1
    assert Payment.objects.count() == 1
    assert len(toss_sandbox.payments()) == 1


@pytest.mark.parametrize("fault", ["500", "503", "429", "409"])
def test_an_issue_toss_fails_to_answer_is_retried_with_the_same_key(toss_sandbox, customer, unpaid_order, fault):
    order, _ = unpaid_order
    toss_sandbox.fault("issue", fault)

    payment = take_virtual_account(order, customer)

    calls = toss_sandbox.calls("issue")
    assert [call.status for call in calls] == [int(fault), 200]
    assert {call.headers["idempotency-key"] for call in calls} == {payment.idempotency_key}
    assert payment.status == "WAITING"
    assert len(toss_sandbox.payments()) == 1


def test_a_lost_answer_is_asked_again_with_the_same_key_and_gets_the_same_account(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order
    toss_sandbox.fault("issue", "lost_answer", times=3)

    with pytest.raises(PaymentTimedOut):
        take_virtual_account(order, customer)

    attempt = Payment.objects.get()
    assert (attempt.status, attempt.payment_key, attempt.account_number) == ("PENDING", "", "")
    [issued] = toss_sandbox.payments().values()  # Toss did issue it: only its answers were lost
    assert issued["status"] == "WAITING_FOR_DEPOSIT"

    payment = take_virtual_account(order, customer)

    assert payment.pk == attempt.pk
    assert (payment.status, payment.payment_key) == ("WAITING", issued["paymentKey"])
    assert payment.account_number == issued["virtualAccount"]["accountNumber"]
    assert payment.secret == issued["secret"]
    assert [call.replayed for call in toss_sandbox.calls("issue")] == [False, True, True, True]
    assert len(toss_sandbox.payments()) == 1
    assert event_kinds(payment) == ["REQUESTED", "TIMED_OUT", "REQUESTED", "ISSUED"]


@pytest.mark.parametrize(("bank", "code"), [("90", "INVALID_BANK"), ("88", "DUPLICATED_ORDER_ID")])
def test_a_refused_issue_is_a_decline_and_a_repeat_answers_it_again(toss_sandbox, customer, unpaid_order, bank, code):
    order, _ = unpaid_order
    if code == "DUPLICATED_ORDER_ID":
        toss_sandbox.widget_pay(order["id"], TOTAL)  # Toss already has a payment of this orderId

    with pytest.raises(PaymentDeclined) as declined:
        take_virtual_account(order, customer, bank=bank)
    with pytest.raises(PaymentDeclined) as again:
        take_virtual_account(order, customer, bank=bank)

    assert declined.value.context["pg_code"] == again.value.context["pg_code"] == code
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code, payment.account_number, payment.secret) == ("FAILED", code, "", "")
    assert len(toss_sandbox.calls("issue")) == 1


def test_a_due_date_toss_does_not_take_is_refused(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order

    with pytest.raises(PaymentDeclined):
        take_virtual_account(order, customer, due_at=due_in_days(31))

    assert Payment.objects.get().failure_code == "INVALID_REQUEST"
    assert toss_sandbox.payments() == {}


def test_an_amount_with_a_fractional_part_is_refused_before_toss_is_called(toss_sandbox):
    with pytest.raises(gateways.AmountNotWholeWon):
        gateways.gateway("toss").issue_virtual_account(
            order_id="order-1",
            amount=Decimal("90000.50"),
            order_name="상품",
            customer_name="김민준",
            bank="88",
            due_at=due_in_days(),
            idempotency_key="k-1",
        )

    assert toss_sandbox.calls() == []


# --- deposits ---------------------------------------------------------------------------------------


def test_the_deposit_callback_is_verified_with_toss_and_pays_the_order(toss_sandbox, api_client, waiting_account):
    order, product, payment = waiting_account
    callback = toss_sandbox.deposit(payment.payment_key)

    response = api_client.post(DEPOSIT_CALLBACK, callback, format="json")

    assert (response.status_code, response.json()) == (200, {"processed": True})
    [lookup] = toss_sandbox.calls("lookup")
    assert lookup.path == f"/v1/payments/{payment.payment_key}"
    payment.refresh_from_db()
    assert payment.status == "APPROVED"
    assert event_kinds(payment) == ["REQUESTED", "ISSUED", "DEPOSITED"]
    assert WebhookEvent.objects.get().event_type == "DEPOSIT_CALLBACK"
    assert order_status(order) == "PAID"
    assert SagaInstance.objects.get().status == "COMPLETED"
    assert stock_of(product) == 1
    assert (toss_sandbox.charges, toss_sandbox.refunds) == ([payment.payment_key], [])


def test_after_the_deposit_the_payment_step_returns_the_approved_payment(
    toss_sandbox, api_client, customer, waiting_account
):
    order, _, payment = waiting_account
    api_client.post(DEPOSIT_CALLBACK, toss_sandbox.deposit(payment.payment_key), format="json")
    calls = len(toss_sandbox.calls())

    again = take_virtual_account(order, customer)

    assert (again.pk, again.status) == (payment.pk, "APPROVED")
    assert len(toss_sandbox.calls()) == calls


def test_a_deposit_callback_repeated_seven_times_is_processed_once(
    toss_sandbox, api_client, waiting_account, verify_clock
):
    order, _, payment = waiting_account
    callback = toss_sandbox.deposit(payment.payment_key)

    answers = []
    for _ in range(7):  # Toss resends a callback until it gets a 200, up to 7 times
        answers.append(api_client.post(DEPOSIT_CALLBACK, callback, format="json").json())
        verify_clock.next_window()

    assert answers == [{"processed": True}] + [{"processed": False}] * 6
    assert len(toss_sandbox.calls("lookup")) == 1
    assert WebhookEvent.objects.count() == 1
    assert event_kinds(payment).count("DEPOSITED") == 1
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"


@pytest.mark.django_db(transaction=True)
def test_toss_delivers_the_deposit_callback_to_the_live_server(toss_sandbox, waiting_account, live_server):
    order, _, payment = waiting_account
    url = f"{live_server.url}{DEPOSIT_CALLBACK}"

    callback = toss_sandbox.deposit(payment.payment_key, callback_url=url)
    resent = [send(url, callback) for _ in range(6)]

    assert resent == [(200, {"processed": False})] * 6
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"
    assert len(toss_sandbox.calls("lookup")) == 1


def test_a_deposit_callback_with_a_wrong_secret_is_refused_and_changes_nothing(
    toss_sandbox, api_client, waiting_account
):
    order, _, payment = waiting_account
    callback = toss_sandbox.deposit(payment.payment_key)

    wrong = api_client.post(DEPOSIT_CALLBACK, {**callback, "secret": "ps_guessed"}, format="json")
    missing = api_client.post(DEPOSIT_CALLBACK, {**callback, "secret": ""}, format="json")
    other_script = api_client.post(DEPOSIT_CALLBACK, {**callback, "secret": "ps_비밀"}, format="json")

    assert (wrong.status_code, wrong.json()["code"]) == (400, "webhook_invalid")
    assert missing.status_code == 400
    assert "secret" in [error["field"] for error in missing.json()["errors"]]
    assert (other_script.status_code, other_script.json()["code"]) == (400, "webhook_invalid")
    assert WebhookEvent.objects.count() == 0
    assert toss_sandbox.calls("lookup") == []
    assert Payment.objects.get().status == "WAITING"
    assert order_status(order) == "PENDING"


def test_a_callback_with_the_secret_is_still_only_a_hint(toss_sandbox, api_client, waiting_account):
    """The secret proves the sender saw the account, not that anything was paid: Toss says
    WAITING_FOR_DEPOSIT, so nothing changes."""
    order, _, payment = waiting_account
    forged = {
        "createdAt": "2026-12-01T10:00:00.000000",
        "secret": payment.secret,
        "status": "DONE",
        "transactionKey": "txrd_forged",
        "orderId": order["id"],
    }

    response = api_client.post(DEPOSIT_CALLBACK, forged, format="json")

    assert response.json() == {"processed": True}
    assert len(toss_sandbox.calls("lookup")) == 1
    assert Payment.objects.get().status == "WAITING"
    assert order_status(order) == "PENDING"
    assert toss_sandbox.charges == []


def test_a_deposit_callback_for_an_unknown_order_is_stored_nowhere_and_asks_nothing(toss_sandbox, api_client):
    body = {
        "createdAt": "2026-12-01T10:00:00.000000",
        "secret": "ps_anything",
        "status": "DONE",
        "transactionKey": "txrd_1",
        "orderId": "00000000-0000-0000-0000-000000000000",
    }

    unknown = api_client.post(DEPOSIT_CALLBACK, body, format="json")
    not_ours = api_client.post(DEPOSIT_CALLBACK, {**body, "orderId": "gwZjZXrOdVFyobTPibJkE"}, format="json")

    assert (unknown.json(), not_ours.json()) == ({"processed": False}, {"processed": False})
    assert WebhookEvent.objects.count() == 0
    assert toss_sandbox.calls() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"secret": "ps_1", "status": "DONE", "orderId": "x"}, "createdAt"),
        ({"createdAt": "t", "secret": "ps_1", "status": "DONE"}, "orderId"),
        ({"createdAt": "t", "secret": "ps_1", "orderId": "x"}, "status"),
        ({"createdAt": "t", "secret": "ps_1", "status": "DONE", "orderId": "x\x00"}, "orderId"),
    ],
)
def test_malformed_deposit_callbacks_are_400(toss_sandbox, api_client, body, field):
    response = api_client.post(DEPOSIT_CALLBACK, body, format="json")

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert WebhookEvent.objects.count() == 0


def test_deposit_callbacks_over_the_cap_are_refused_unread(toss_sandbox, api_client, waiting_account):
    _, _, payment = waiting_account
    callback = toss_sandbox.deposit(payment.payment_key)

    response = api_client.post(DEPOSIT_CALLBACK, {**callback, "padding": "x" * 8192}, format="json")

    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
    assert WebhookEvent.objects.count() == 0
    assert Payment.objects.get().status == "WAITING"


def test_a_deposit_callback_at_the_payment_webhook_is_handled_the_same(toss_sandbox, api_client, waiting_account):
    order, _, payment = waiting_account
    callback = toss_sandbox.deposit(payment.payment_key)
    delivery = {"eventType": "DEPOSIT_CALLBACK", "createdAt": callback["createdAt"], "data": callback}

    first = api_client.post(WEBHOOK, delivery, format="json")
    at_the_deposit_url = api_client.post(DEPOSIT_CALLBACK, callback, format="json")

    assert (first.json(), at_the_deposit_url.json()) == ({"processed": True}, {"processed": False})
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"


def test_payment_status_changed_reports_a_deposit_too(toss_sandbox, api_client, waiting_account):
    order, _, payment = waiting_account
    toss_sandbox.deposit(payment.payment_key)  # the deposit callback got lost

    response = api_client.post(WEBHOOK, toss_sandbox.webhook(payment.payment_key), format="json")

    assert response.json() == {"processed": True}
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"


@pytest.mark.parametrize(
    ("at_toss", "failure_code"),
    [("expire", VIRTUAL_ACCOUNT_EXPIRED), ("cancel_in_dashboard", VIRTUAL_ACCOUNT_CANCELLED)],
)
def test_an_account_closed_at_toss_is_failed_by_its_webhook(
    toss_sandbox, api_client, waiting_account, at_toss, failure_code
):
    order, product, payment = waiting_account
    getattr(toss_sandbox, at_toss)(payment.payment_key)

    response = api_client.post(WEBHOOK, toss_sandbox.webhook(payment.payment_key), format="json")

    assert response.json() == {"processed": True}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("FAILED", failure_code)
    assert selectors.virtual_accounts_for_orders(order_ids=[UUID(order["id"])]) == {}
    assert toss_sandbox.refunds == []
    # Nothing was paid: the order waits for its own deadline (orders' expiry).
    assert order_status(order) == "PENDING"
    assert stock_of(product) == 1


# --- cancelled, expired, and late deposits ----------------------------------------------------------


def test_cancelling_the_order_closes_its_account_at_toss(toss_sandbox, customer_client, waiting_account):
    order, product, payment = waiting_account

    response = cancel(customer_client, order)

    assert response.json()["status"] == "CANCELLED"
    [lookup, close] = [call for call in toss_sandbox.calls() if call.endpoint in ("lookup", "cancel")]
    assert lookup.path == f"/v1/payments/{payment.payment_key}"
    assert close.body == {"cancelReason": "customer_cancelled: 단순 변심", "cancelAmount": TOTAL}
    assert close.headers["idempotency-key"] == f"{payment.idempotency_key}:close"
    assert toss_sandbox.payment(payment.payment_key)["status"] == "CANCELED"
    assert toss_sandbox.refunds == []  # nobody paid into it: nothing to give back
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("FAILED", VIRTUAL_ACCOUNT_CANCELLED)
    assert event_kinds(payment)[-1] == "VOIDED"
    assert stock_of(product) == 3
    with pytest.raises(ValueError, match="takes no deposit"):
        toss_sandbox.deposit(payment.payment_key)  # the bank refuses it: no deposit can land
    # our own failure, stored as its code and told in the customer's language
    assert payment.failure_message == ""
    told = {
        language: customer_client.get(f"{ORDERS}{order['id']}/", HTTP_ACCEPT_LANGUAGE=language).json()["payment"]
        for language in ("ko", "en")
    }
    assert told["ko"]["failure_message"] == "입금 전에 가상계좌가 닫혔습니다."
    assert told["en"]["failure_message"] == "The virtual account was closed before any deposit."


def test_an_expired_order_closes_its_account(toss_sandbox, waiting_account):
    order, product, payment = waiting_account

    assert expire_unpaid_orders() == 1

    assert toss_sandbox.payment(payment.payment_key)["status"] == "CANCELED"
    assert toss_sandbox.calls("cancel")[0].body["cancelReason"] == "payment_expired"
    assert Payment.objects.get().status == "FAILED"
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3


def test_an_account_toss_expired_first_is_voided_without_a_cancel(toss_sandbox, waiting_account):
    order, _, payment = waiting_account
    toss_sandbox.expire(payment.payment_key)

    assert expire_unpaid_orders() == 1

    assert toss_sandbox.calls("cancel") == []
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("FAILED", VIRTUAL_ACCOUNT_EXPIRED)
    assert order_status(order) == "CANCELLED"


def test_a_deposit_before_the_expiry_whose_callback_comes_late_is_refunded_once(
    toss_sandbox, api_client, waiting_account
):
    order, product, payment = waiting_account
    callback = toss_sandbox.deposit(payment.payment_key)  # paid in time; the callback is delayed

    assert expire_unpaid_orders() == 1  # the order expires first: the lookup finds the deposit

    assert toss_sandbox.refunds == [payment.payment_key]
    assert Payment.objects.get().status == "REFUNDED"
    assert order_status(order) == "CANCELLED"
    assert stock_of(product) == 3

    late = api_client.post(DEPOSIT_CALLBACK, callback, format="json")

    assert late.json() == {"processed": True}
    assert toss_sandbox.refunds == [payment.payment_key]  # not twice
    assert Payment.objects.get().status == "REFUNDED"
    assert order_status(order) == "CANCELLED"


def test_a_deposit_for_an_order_cancelled_while_toss_was_unreachable_is_refunded(
    toss_sandbox, api_client, customer_client, waiting_account, settings
):
    order, product, payment = waiting_account
    toss_sandbox.fault("lookup", "503", times=3)
    assert cancel(customer_client, order).json()["status"] == "CANCELLED"
    assert Payment.objects.get().status == "WAITING"  # the account could not be closed: still open
    assert SagaInstance.objects.get().status == "COMPENSATING"
    callback = toss_sandbox.deposit(payment.payment_key)

    response = api_client.post(DEPOSIT_CALLBACK, callback, format="json")

    assert response.json() == {"processed": True}
    assert toss_sandbox.refunds == [payment.payment_key]
    assert toss_sandbox.payment(payment.payment_key)["status"] == "CANCELED"
    payment.refresh_from_db()
    assert payment.status == "REFUNDED"
    assert event_kinds(payment)[-3:] == ["DEPOSITED", "REFUND_REQUESTED", "REFUNDED"]
    assert order_status(order) == "CANCELLED"

    # The saga's compensation, retried by recovery, finds nothing left to refund and releases the stock.
    later = timezone.now() + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS + 1)
    assert saga_services.saga_recover(now=later) == {"COMPENSATED": 1}
    assert stock_of(product) == 3
    assert toss_sandbox.refunds == [payment.payment_key]


@pytest.mark.parametrize("fault", ["timeout", "lost_answer"])
def test_an_issue_never_answered_is_settled_when_the_order_is_cancelled(
    toss_sandbox, customer, customer_client, unpaid_order, fault
):
    order, _ = unpaid_order
    toss_sandbox.fault("issue", fault, times=3)
    with pytest.raises(PaymentTimedOut):
        take_virtual_account(order, customer)

    assert cancel(customer_client, order).json()["status"] == "CANCELLED"

    # Asked again with its own key, Toss answers with the one account of this order; it is closed.
    [issued] = toss_sandbox.payments().values()
    assert issued["status"] == "CANCELED"
    assert {call.headers["idempotency-key"] for call in toss_sandbox.calls("issue")} == {
        f"c4ang:{order['id']}:virtual-account"
    }
    payment = Payment.objects.get()
    assert (payment.status, payment.payment_key) == ("FAILED", issued["paymentKey"])
    assert toss_sandbox.charges == toss_sandbox.refunds == []


def test_an_issue_toss_refuses_on_the_repeat_is_voided(toss_sandbox, customer, customer_client, unpaid_order):
    order, _ = unpaid_order
    toss_sandbox.fault("issue", "timeout", times=3)
    with pytest.raises(PaymentTimedOut):
        take_virtual_account(order, customer)
    toss_sandbox.widget_pay(order["id"], TOTAL)  # so that Toss refuses the orderId when asked again

    assert cancel(customer_client, order).json()["status"] == "CANCELLED"

    assert Payment.objects.get().status == "FAILED"
    assert toss_sandbox.calls("cancel") == []


# --- a virtual account chosen in the widget (the card path) -----------------------------------------


def test_a_widget_payment_answered_waiting_for_deposit_is_waiting_not_approved(
    toss_sandbox, api_client, customer, unpaid_order
):
    order, _ = unpaid_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL, method=VIRTUAL_ACCOUNT)

    payment = payment_services.payment_take(
        order_id=UUID(order["id"]), customer_id=customer.pk, amount=Decimal(TOTAL), payment_key=key
    )

    issued = toss_sandbox.payment(key)
    assert (payment.status, payment.method, payment.bank) == ("WAITING", "virtual_account", "88")
    assert (payment.account_number, payment.secret) == (issued["virtualAccount"]["accountNumber"], issued["secret"])
    assert selectors.payment_approved_for_order(order_id=UUID(order["id"])) is None
    assert toss_sandbox.charges == []
    # Repeated, it is the same attempt, answered as it is.
    again = payment_services.payment_take(
        order_id=UUID(order["id"]), customer_id=customer.pk, amount=Decimal(TOTAL), payment_key=key
    )
    assert (again.pk, again.status, len(toss_sandbox.calls("confirm"))) == (payment.pk, "WAITING", 1)

    response = api_client.post(DEPOSIT_CALLBACK, toss_sandbox.deposit(key), format="json")

    assert response.json() == {"processed": True}
    assert Payment.objects.get().status == "APPROVED"
    assert order_status(order) == "PAID"


def test_a_lost_confirm_answer_of_a_widget_virtual_account_is_read_back(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order
    key = toss_sandbox.widget_pay(order["id"], TOTAL, method=VIRTUAL_ACCOUNT)
    toss_sandbox.fault("confirm", "lost_answer")

    payment = payment_services.payment_take(
        order_id=UUID(order["id"]), customer_id=customer.pk, amount=Decimal(TOTAL), payment_key=key
    )

    # The retry with the same key got the first answer: the account.
    assert payment.status == "WAITING"
    assert payment.account_number == toss_sandbox.payment(key)["virtualAccount"]["accountNumber"]


def test_another_card_after_a_widget_virtual_account_closes_the_account_first(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order
    account = toss_sandbox.widget_pay(order["id"], TOTAL, method=VIRTUAL_ACCOUNT)
    take = {"order_id": UUID(order["id"]), "customer_id": customer.pk, "amount": Decimal(TOTAL)}
    assert payment_services.payment_take(**take, payment_key=account).status == "WAITING"
    card = toss_sandbox.widget_pay(order["id"], TOTAL)

    paid = payment_services.payment_take(**take, payment_key=card)

    assert paid.status == "APPROVED"
    assert toss_sandbox.payment(account)["status"] == "CANCELED"
    assert sorted(Payment.objects.values_list("payment_key", "status", "failure_code")) == sorted(
        [(account, "FAILED", VIRTUAL_ACCOUNT_CANCELLED), (card, "APPROVED", "")]
    )
    assert toss_sandbox.charges == [card]
    assert toss_sandbox.refunds == []


def test_another_card_after_a_widget_account_paid_into_is_not_charged(toss_sandbox, customer, unpaid_order):
    order, _ = unpaid_order
    account = toss_sandbox.widget_pay(order["id"], TOTAL, method=VIRTUAL_ACCOUNT)
    take = {"order_id": UUID(order["id"]), "customer_id": customer.pk, "amount": Decimal(TOTAL)}
    payment_services.payment_take(**take, payment_key=account)
    toss_sandbox.deposit(account)  # its callback not here yet
    card = toss_sandbox.widget_pay(order["id"], TOTAL)

    paid = payment_services.payment_take(**take, payment_key=card)

    assert (paid.payment_key, paid.status) == (account, "APPROVED")
    assert toss_sandbox.charges == [account]
    assert toss_sandbox.payment(card)["status"] == "IN_PROGRESS"  # never confirmed
    assert Payment.objects.count() == 1


# --- reads --------------------------------------------------------------------------------------------


def test_virtual_accounts_for_orders_reads_them_in_one_query(
    toss_sandbox, customer, customer_client, product_factory, django_assert_num_queries
):
    orders = [
        place_order(customer_client, [order_line(product_factory(price=Decimal("45000")), 2)], pay_with=None).json()
        for _ in range(3)
    ]
    waiting, paid, closed = (take_virtual_account(order, customer) for order in orders)
    toss_sandbox.deposit(paid.payment_key)
    payment_services.payment_void_for_order(order_id=closed.order_id, reason="test")  # closed at Toss
    payment_services.webhook_process(
        provider="toss",
        event_id="e-1",
        event_type="PAYMENT_STATUS_CHANGED",
        payload=toss_sandbox.webhook(paid.payment_key),
    )
    card_order = place_order(customer_client, [order_line(product_factory(), 1)]).json()

    with django_assert_num_queries(1):
        accounts = selectors.virtual_accounts_for_orders(
            order_ids=[UUID(order["id"]) for order in [*orders, card_order]]
        )
    with django_assert_num_queries(0):
        assert selectors.virtual_accounts_for_orders(order_ids=[]) == {}

    assert {order_id: account.status for order_id, account in accounts.items()} == {
        waiting.order_id: "WAITING",
        paid.order_id: "APPROVED",
    }
    account = accounts[waiting.order_id]
    assert (account.bank, account.bank_name, account.holder_name) == ("88", "Shinhan Bank", "김민준")
    assert account.account_number == waiting.account_number
    assert account.due_at == waiting.due_at


def test_the_customer_sees_the_account_never_its_secret(toss_sandbox, customer_client, waiting_account):
    _, _, payment = waiting_account

    listed = customer_client.get(PAYMENTS).json()["results"]
    detail = customer_client.get(f"{PAYMENTS}{payment.pk}/").json()

    assert listed == [detail]
    assert (detail["status"], detail["method"]) == ("WAITING", "virtual_account")
    assert detail["virtual_account"] == {
        "bank": "88",
        "bank_name": "Shinhan Bank",
        "account_number": payment.account_number,
        "holder_name": "김민준",
        "due_at": timezone.localtime(payment.due_at).isoformat(),
    }
    assert payment.secret not in str(listed) + str(detail)


def test_a_card_payment_shows_no_account(customer_client, product_factory):
    place_order(customer_client, [order_line(product_factory(), 1)])

    [payment] = customer_client.get(PAYMENTS).json()["results"]

    assert (payment["method"], payment["virtual_account"]) == ("card", None)


def test_the_admin_shows_the_account_and_hides_its_secret(client, staff_user, toss_sandbox, waiting_account):
    _, _, payment = waiting_account
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    listed = client.get("/admin/payments/payment/").content.decode()
    detail = client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()

    assert f"Shinhan Bank {payment.account_number}" in listed
    assert payment.account_number in detail
    assert payment.secret not in listed + detail
