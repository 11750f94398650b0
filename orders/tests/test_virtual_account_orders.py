"""Orders paid by virtual account (가상계좌), end to end through the API: the account issued at
checkout with the order's own deadline as its due date, the order waiting PENDING (stock held)
for the deposit, PAID on a deposit, expired (stock back, account closed) when none came in time,
and a deposit that lands too late refunded. With the fake PG and with the Toss sandbox."""

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import ORDERS, order_line, place_order
from orders import services as order_services
from orders.models import Order, OrderEvent
from payments import services as payment_services
from payments.constants import VIRTUAL_ACCOUNT_CANCELLED, VIRTUAL_ACCOUNT_EXPIRED
from payments.models import Payment
from payments.tests.toss_sandbox import KST, VIRTUAL_ACCOUNT
from products.models import Product
from saga import services as saga_services
from saga.models import SagaEvent, SagaInstance

pytestmark = pytest.mark.django_db

DEPOSIT_CALLBACK = "/api/v1/payments/webhooks/toss/deposit/"
WEBHOOK = "/api/v1/payments/webhooks/toss/"


@pytest.fixture(autouse=True)
def verify_clock(monkeypatch):
    """The webhooks' verification windows on a stopped clock: a test never crosses a real boundary."""
    monkeypatch.setattr(payment_services, "_clock", lambda: 1_800_000_000.0)


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def place_by_deposit(client, product, *, quantity: int = 2, scenario: str | None = None, bank: str = "88"):
    """Place an order of `quantity` of `product` to be paid into a virtual account at `bank`."""
    return place_order(
        client, [order_line(product, quantity)], pay_with=scenario, payment_method="virtual_account", bank=bank
    )


def expire_all(after: timedelta) -> int:
    return order_services.order_expire_unpaid(now=timezone.now() + after)


# --- the fake PG ------------------------------------------------------------------------------------


def test_a_virtual_account_order_waits_for_the_deposit_with_the_account_shown(
    customer, customer_client, product_factory, settings
):
    product = product_factory(price=Decimal("20000"), stock=5)

    before = timezone.now()
    response = place_by_deposit(customer_client, product)

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert (body["status"], body["payment_method"], body["total_amount"]) == ("PENDING", "virtual_account", 43000)
    # Its own deadline: ORDER_VIRTUAL_ACCOUNT_DAYS (3) days, the account's due date at the PG.
    days = timedelta(days=settings.ORDER_VIRTUAL_ACCOUNT_DAYS)
    assert before + days <= order.payment_due_at <= timezone.now() + days
    account = body["virtual_account"]
    assert (account["bank"], account["bank_name"], account["holder_name"]) == ("88", "Shinhan Bank", customer.name)
    assert account["account_number"]
    assert account["due_at"] == order.payment_due_at.replace(microsecond=0).astimezone(KST).isoformat()
    assert stock_of(product) == 3
    payment = Payment.objects.get()
    assert (payment.status, payment.method, payment.amount) == ("WAITING", "virtual_account", Decimal(43000))
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.lease_owner) == ("STARTED", "")
    assert SagaEvent.objects.order_by("created_at", "id").last().event_type == "STEP_WAITING"
    assert customer_client.get(f"{ORDERS}{order.pk}/").json()["virtual_account"] == account


def test_the_deposit_pays_the_order(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_by_deposit(customer_client, product, scenario="tok_va_deposit_later").json()
    out = StringIO()

    call_command("fake_deposit", order["order_number"], stdout=out)

    paid = customer_client.get(f"{ORDERS}{order['id']}/").json()
    assert paid["status"] == "PAID"
    assert paid["virtual_account"] == order["virtual_account"]
    assert "the payment is APPROVED" in out.getvalue()
    assert Payment.objects.get().status == "APPROVED"
    assert list(OrderEvent.objects.values_list("from_status", "to_status", "actor")) == [
        ("", "PENDING", f"customer:{Order.objects.get().customer.email}"),
        ("PENDING", "PAID", "system:place_order"),
    ]
    assert SagaInstance.objects.get().status == "COMPLETED"
    assert stock_of(product) == 3


def test_a_deposit_at_once_pays_the_order_at_checkout(customer_client, product_factory):
    product = product_factory(stock=5)

    body = place_by_deposit(customer_client, product, scenario="tok_va_deposit_now").json()

    assert body["status"] == "PAID"
    assert body["virtual_account"]["bank"] == "88"
    assert Payment.objects.get().status == "APPROVED"
    assert stock_of(product) == 3


def test_an_account_refused_at_issue_cancels_the_order(customer_client, product_factory):
    product = product_factory(stock=5)

    body = place_by_deposit(customer_client, product, scenario="tok_decline").json()

    assert (body["status"], body["cancel_code"], body["virtual_account"]) == ("CANCELLED", "payment_declined", None)
    assert Payment.objects.get().status == "FAILED"
    assert stock_of(product) == 5


def test_each_method_expires_by_its_own_deadline(customer_client, product_factory):
    product = product_factory(stock=10)
    by_card = place_order(customer_client, [order_line(product)], pay_with=None).json()
    by_deposit = place_by_deposit(customer_client, product, scenario="tok_va_never").json()

    after_31_minutes = expire_all(timedelta(minutes=31))
    card_status = Order.objects.get(pk=by_card["id"]).status
    deposit_status = Order.objects.get(pk=by_deposit["id"]).status
    after_3_days = expire_all(timedelta(days=3, minutes=1))

    assert (after_31_minutes, card_status, deposit_status) == (1, "CANCELLED", "PENDING")
    assert after_3_days == 1
    expired = Order.objects.get(pk=by_deposit["id"])
    assert (expired.status, expired.cancel_reason, expired.stock_reserved) == ("CANCELLED", "payment_expired", False)
    account = Payment.objects.get(order_id=expired.pk)
    assert (account.status, account.failure_code) == ("FAILED", VIRTUAL_ACCOUNT_CANCELLED)
    assert stock_of(product) == 10
    with pytest.raises(CommandError):
        call_command("fake_deposit", by_deposit["order_number"])


def test_the_deposit_window_is_configurable(customer_client, product_factory, settings):
    settings.ORDER_VIRTUAL_ACCOUNT_DAYS = 1
    product = product_factory(stock=5)
    place_by_deposit(customer_client, product)

    assert expire_all(timedelta(hours=23)) == 0
    assert expire_all(timedelta(days=1, minutes=1)) == 1
    assert stock_of(product) == 5


def test_a_virtual_account_order_cannot_be_confirmed_with_a_card(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_by_deposit(customer_client, product).json()

    response = customer_client.post(
        "/api/v1/payments/confirm/",
        {"paymentKey": "tok_approve", "orderId": order["id"], "amount": order["total_amount"]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "order_not_payable"
    assert list(Payment.objects.values_list("status", "method")) == [("WAITING", "virtual_account")]
    assert Order.objects.get().status == "PENDING"


def test_a_cancelled_virtual_account_order_closes_its_account(customer_client, product_factory):
    product = product_factory(stock=5)
    order = place_by_deposit(customer_client, product).json()

    cancelled = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json").json()

    assert (cancelled["status"], cancelled["virtual_account"]) == ("CANCELLED", None)
    account = Payment.objects.get()
    assert (account.status, account.failure_code) == ("FAILED", VIRTUAL_ACCOUNT_CANCELLED)
    assert stock_of(product) == 5
    with pytest.raises(CommandError):
        call_command("fake_deposit", order["order_number"])


def test_checkout_from_the_cart_by_virtual_account(customer, customer_client, product_factory):
    from orders.models import Cart, CartItem

    product = product_factory(price=Decimal("60000"), stock=5)
    cart = Cart.objects.create(customer=customer)
    CartItem.objects.create(cart=cart, product=product, quantity=1, price_when_added=product.price)

    order = place_order(
        customer_client, None, from_cart=True, pay_with=None, payment_method="virtual_account", bank="20"
    )
    call_command("fake_deposit", order.json()["order_number"], stdout=StringIO())

    assert (order.json()["status"], order.json()["virtual_account"]["bank_name"]) == ("PENDING", "Woori Bank")
    assert Order.objects.get().status == "PAID"
    assert CartItem.objects.count() == 0


# --- the Toss sandbox ---------------------------------------------------------------------------------


def test_toss_issues_the_account_due_when_the_order_expires_and_its_deposit_pays_the_order(
    customer, customer_client, api_client, product_factory, toss_sandbox
):
    product = product_factory(price=Decimal("45000"), stock=5)

    body = place_by_deposit(customer_client, product, bank="81").json()
    order = Order.objects.get()
    account = Payment.objects.get()
    issued = toss_sandbox.calls("issue")[0].body
    callback = toss_sandbox.deposit(account.payment_key)
    answers = [api_client.post(DEPOSIT_CALLBACK, callback, format="json") for _ in range(7)]

    assert body["status"] == "PENDING"
    assert body["virtual_account"]["bank_name"] == "Hana Bank"
    assert (
        body["virtual_account"]["account_number"]
        == toss_sandbox.payment(account.payment_key)["virtualAccount"]["accountNumber"]
    )
    assert (issued["orderId"], issued["amount"], issued["bank"]) == (str(order.pk), 90000, "81")
    assert issued["customerName"] == customer.name
    assert issued["orderName"] == f"{product.name}"
    assert issued["dueDate"] == order.payment_due_at.astimezone(KST).replace(microsecond=0, tzinfo=None).isoformat()
    assert [answer.status_code for answer in answers] == [200] * 7
    assert Order.objects.get().status == "PAID"
    assert OrderEvent.objects.filter(to_status="PAID").count() == 1
    assert Payment.objects.get().status == "APPROVED"
    assert toss_sandbox.charges == [account.payment_key]
    assert toss_sandbox.refunds == []
    assert stock_of(product) == 3


def test_an_unpaid_toss_account_expires_with_its_order(customer_client, product_factory, toss_sandbox):
    product = product_factory(price=Decimal("45000"), stock=5)
    place_by_deposit(customer_client, product)
    account = Payment.objects.get()

    assert expire_all(timedelta(days=3, minutes=1)) == 1

    order = Order.objects.get()
    assert (order.status, order.cancel_reason) == ("CANCELLED", "payment_expired")
    assert toss_sandbox.payment(account.payment_key)["status"] == "CANCELED"
    assert Payment.objects.get().status == "FAILED"
    assert toss_sandbox.charges == []
    assert stock_of(product) == 5


def test_a_deposit_that_lands_as_the_order_expires_is_refunded(
    customer_client, api_client, product_factory, toss_sandbox
):
    product = product_factory(price=Decimal("45000"), stock=5)
    place_by_deposit(customer_client, product)
    account = Payment.objects.get()
    # The customer deposits at the last moment; Toss's callback is still on its way when the order expires.
    callback = toss_sandbox.deposit(account.payment_key)

    expired = expire_all(timedelta(days=3, minutes=1))
    late = api_client.post(DEPOSIT_CALLBACK, callback, format="json")

    assert expired == 1
    assert late.status_code == 200
    order = Order.objects.get()
    assert (order.status, order.cancel_reason) == ("CANCELLED", "payment_expired")
    assert Payment.objects.get().status == "REFUNDED"
    assert toss_sandbox.charges == [account.payment_key]
    assert toss_sandbox.refunds == [account.payment_key]
    assert toss_sandbox.payment(account.payment_key)["status"] == "CANCELED"
    assert stock_of(product) == 5


def test_a_deposit_callback_for_an_order_already_expired_is_refunded(
    customer_client, api_client, product_factory, toss_sandbox, settings
):
    """The order expired while the account stayed open at Toss (its close unanswered); the
    customer then deposits: the callback finds the order cancelled, and the deposit goes back."""
    product = product_factory(price=Decimal("45000"), stock=5)
    place_by_deposit(customer_client, product)
    account = Payment.objects.get()
    toss_sandbox.fault("cancel", "timeout", times=3)
    expire_all(timedelta(days=3, minutes=1))  # the close goes unanswered: retried by recovery later
    assert Order.objects.get().status == "CANCELLED"
    assert toss_sandbox.payment(account.payment_key)["status"] == "WAITING_FOR_DEPOSIT"

    late = api_client.post(DEPOSIT_CALLBACK, toss_sandbox.deposit(account.payment_key), format="json")
    refunded = Payment.objects.get().status
    # Recovery then finishes the order's compensation: the stock goes back.
    saga_services.saga_recover(now=timezone.now() + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS + 1))

    assert late.status_code == 200
    assert refunded == "REFUNDED"
    assert Order.objects.get().status == "CANCELLED"
    assert toss_sandbox.refunds == [account.payment_key]
    assert SagaInstance.objects.get().status == "COMPENSATED"
    assert stock_of(product) == 5


def test_an_account_toss_closes_cancels_its_waiting_order_at_once(
    customer_client, api_client, product_factory, toss_sandbox
):
    product = product_factory(price=Decimal("45000"), stock=5)
    place_by_deposit(customer_client, product)
    account = Payment.objects.get()
    toss_sandbox.expire(account.payment_key)

    response = api_client.post(WEBHOOK, toss_sandbox.webhook(account.payment_key), format="json")

    assert response.status_code == 200
    order = Order.objects.get()
    assert (order.status, order.cancel_reason, order.cancel_note) == (
        "CANCELLED",
        "payment_expired",
        VIRTUAL_ACCOUNT_EXPIRED,
    )
    assert Payment.objects.get().status == "FAILED"
    assert stock_of(product) == 5


def test_a_virtual_account_chosen_in_the_widget_waits_for_its_deposit_until_its_due_date(
    customer_client, api_client, product_factory, toss_sandbox
):
    """A card order's widget also offers 가상계좌: the confirm issues the account, and the order,
    now paid by deposit, waits for it until the account's due date instead of the widget's minutes."""
    product = product_factory(price=Decimal("45000"), stock=5)
    order = place_order(customer_client, [order_line(product)], pay_with=None).json()
    key = toss_sandbox.widget_pay(order["id"], 48000, method=VIRTUAL_ACCOUNT)

    confirmed = customer_client.post(
        "/api/v1/payments/confirm/", {"paymentKey": key, "orderId": order["id"], "amount": "48000"}, format="json"
    )

    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "WAITING")
    waiting = Order.objects.get()
    due = datetime.fromisoformat(toss_sandbox.payment(key)["virtualAccount"]["dueDate"])
    assert (waiting.status, waiting.payment_method, waiting.payment_due_at) == ("PENDING", "virtual_account", due)
    assert customer_client.get(f"{ORDERS}{order['id']}/").json()["virtual_account"]["account_number"]
    assert expire_all(timedelta(minutes=31)) == 0  # a card order's deadline has passed; the account's has not

    response = api_client.post(DEPOSIT_CALLBACK, toss_sandbox.deposit(key), format="json")

    assert response.json() == {"processed": True}
    assert Order.objects.get().status == "PAID"
    assert toss_sandbox.charges == [key]
    assert stock_of(product) == 4
