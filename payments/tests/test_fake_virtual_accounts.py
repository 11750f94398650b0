"""The fake PG's virtual accounts (PAYMENT_GATEWAY=fake, the default): the order's payment token
picks a documented scenario, `manage.py fake_deposit` and the staff test endpoint deposit into an
account as its customer would, and the deposit goes the way of Toss's deposit callback."""

import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from uuid import UUID

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import client_for, order_line, place_order
from orders import services as order_services
from orders.models import Order
from payments import gateways, hooks
from payments import services as payment_services
from payments.constants import VIRTUAL_ACCOUNT_CANCELLED
from payments.errors import PaymentDeclined
from payments.models import Payment, WebhookEvent

pytestmark = pytest.mark.django_db

FAKE_DEPOSIT = "/api/v1/payments/staff/fake-deposit/"
TOTAL = 90000


@pytest.fixture
def unpaid_order(customer_client, product_factory):
    product = product_factory(price=Decimal("45000"), stock=3)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()
    assert (order["status"], Decimal(order["total_amount"])) == ("PENDING", TOTAL)
    return order


def take_virtual_account(order, customer, sandbox_token=None) -> Payment:
    """What the saga's payment step does for an order paid by virtual account."""
    return payment_services.payment_take_virtual_account(
        order_id=UUID(order["id"]),
        customer_id=customer.pk,
        amount=Decimal(order["total_amount"]),
        order_name="무선 이어폰 외 1건",
        customer_name="김민준",
        bank="20",
        due_at=timezone.now() + timedelta(days=3),
        sandbox_token=sandbox_token,
    )


def fake_deposit(order_reference: str) -> str:
    out = StringIO()
    call_command("fake_deposit", order_reference, stdout=out)
    return out.getvalue()


def order_status(order) -> str:
    return Order.objects.get(pk=order["id"]).status


@pytest.mark.parametrize("token", [None, "tok_va_deposit_later", "tok_approve"])
def test_an_account_waits_until_fake_deposit_pays_it(customer, unpaid_order, token):
    payment = take_virtual_account(unpaid_order, customer, sandbox_token=token)

    assert (payment.status, payment.provider, payment.method) == ("WAITING", "fake", "virtual_account")
    assert payment.payment_key == f"fake_va_later_{TOTAL}_{unpaid_order['id']}"
    assert (payment.bank, payment.bank_name, payment.holder_name) == ("20", "Woori Bank", "김민준")
    assert re.fullmatch(r"X\d{13}", payment.account_number)
    assert payment.secret == gateways.FakeGateway.secret_of(payment.payment_key)
    assert payment.secret.startswith("ps_")

    output = fake_deposit(unpaid_order["id"])

    assert output == f"Deposited ₩90,000 into Woori Bank {payment.account_number}: the payment is APPROVED.\n"
    payment.refresh_from_db()
    assert payment.status == "APPROVED"
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_type, event.processed_at is not None) == ("fake", "DEPOSIT_CALLBACK", True)
    assert order_status(unpaid_order) == "PAID"


def test_the_fakes_deposits_are_kept_where_any_process_reads_them(customer, unpaid_order):
    payment = take_virtual_account(unpaid_order, customer)

    fake_deposit(unpaid_order["id"])

    # Another process has another gateway object: the deposit is read back from the shared cache.
    assert gateways.FakeGateway().fetch(payment_key=payment.payment_key) == gateways.PgPayment(
        payment_key=payment.payment_key, order_id=unpaid_order["id"], status="DONE", amount=Decimal(TOTAL)
    )


def test_a_deposit_taken_whose_callback_failed_is_delivered_again(customer, unpaid_order):
    payment = take_virtual_account(unpaid_order, customer)
    gateways.FakeGateway().deposit(payment_key=payment.payment_key)  # the process died before the callback

    fake_deposit(unpaid_order["id"])

    assert Payment.objects.get().status == "APPROVED"
    assert order_status(unpaid_order) == "PAID"


def test_fake_deposit_takes_an_order_number(customer, unpaid_order, monkeypatch):
    def order_id_for_number(*, order_number: str):
        return Order.objects.filter(order_number=order_number).values_list("pk", flat=True).first()

    # The lookup the orders module offers payments' tools (registered with its other handlers).
    monkeypatch.setattr(hooks, "_handlers", replace(hooks._registered(), order_id_for_number=order_id_for_number))
    take_virtual_account(unpaid_order, customer)

    fake_deposit(unpaid_order["order_number"])

    assert Payment.objects.get().status == "APPROVED"
    with pytest.raises(CommandError, match="no virtual account"):
        fake_deposit("19990101-000001")


def test_deposit_now_is_approved_at_once(customer, unpaid_order):
    payment = take_virtual_account(unpaid_order, customer, sandbox_token="tok_va_deposit_now")

    assert (payment.status, payment.bank) == ("APPROVED", "20")
    assert payment.account_number
    with pytest.raises(CommandError, match="is APPROVED"):
        fake_deposit(unpaid_order["id"])


def test_never_refuses_deposits_and_the_account_closes_with_its_order(customer, unpaid_order):
    payment = take_virtual_account(unpaid_order, customer, sandbox_token="tok_va_never")

    with pytest.raises(CommandError, match="never takes a deposit"):
        fake_deposit(unpaid_order["id"])

    assert Payment.objects.get().status == "WAITING"
    assert order_services.order_expire_unpaid(now=timezone.now() + timedelta(minutes=31)) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("FAILED", VIRTUAL_ACCOUNT_CANCELLED)
    assert gateways.FakeGateway().fetch(payment_key=payment.payment_key).status == "CANCELED"
    assert order_status(unpaid_order) == "CANCELLED"


def test_a_deposit_is_taken_once(customer, unpaid_order):
    take_virtual_account(unpaid_order, customer)
    fake_deposit(unpaid_order["id"])

    with pytest.raises(CommandError, match="is APPROVED"):
        fake_deposit(unpaid_order["id"])

    assert WebhookEvent.objects.count() == 1


def test_a_cancelled_orders_account_takes_no_deposit(customer, customer_client, unpaid_order):
    payment = take_virtual_account(unpaid_order, customer)
    customer_client.post(f"/api/v1/orders/{unpaid_order['id']}/cancel/", {}, format="json")

    with pytest.raises(CommandError, match="is FAILED"):
        fake_deposit(unpaid_order["id"])
    with pytest.raises(gateways.GatewayDeclined, match="CANCELED"):
        gateways.FakeGateway().deposit(payment_key=payment.payment_key)

    assert order_status(unpaid_order) == "CANCELLED"


def test_the_same_order_always_gets_the_same_account(customer, unpaid_order):
    first = take_virtual_account(unpaid_order, customer)
    again = take_virtual_account(unpaid_order, customer)
    fake = gateways.FakeGateway()
    issued = [
        fake.issue_virtual_account(
            order_id=unpaid_order["id"],
            amount=Decimal(TOTAL),
            order_name="상품",
            customer_name="김민준",
            bank="20",
            due_at=timezone.now(),
            idempotency_key="k",
        )
        for _ in range(2)
    ]

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert issued[0] == issued[1]
    assert issued[0].payment_key == first.payment_key
    assert issued[0].virtual_account.account_number == first.account_number


@pytest.mark.parametrize(("token", "code"), [("tok_decline", "REJECT_CARD_PAYMENT"), ("tok_decline_X_Y", "X_Y")])
def test_decline_tokens_decline_the_issue(customer, unpaid_order, token, code):
    with pytest.raises(PaymentDeclined):
        take_virtual_account(unpaid_order, customer, sandbox_token=token)

    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code, payment.account_number) == ("FAILED", code, "")


def test_fake_deposit_refuses_to_run_in_production(customer, unpaid_order, settings):
    take_virtual_account(unpaid_order, customer)
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        fake_deposit(unpaid_order["id"])

    assert Payment.objects.get().status == "WAITING"


def test_a_toss_account_is_not_the_fakes_to_deposit_into(customer, unpaid_order, toss_sandbox, settings):
    take_virtual_account(unpaid_order, customer)
    settings.PAYMENT_GATEWAY = "fake"

    with pytest.raises(CommandError, match="no virtual account of the fake PG"):
        fake_deposit(unpaid_order["id"])

    assert Payment.objects.get().status == "WAITING"


# --- the staff test endpoint ----------------------------------------------------------------------


def test_staff_deposit_through_the_test_endpoint(customer, staff_client, customer_client, api_client, unpaid_order):
    take_virtual_account(unpaid_order, customer)

    anonymous = api_client.post(FAKE_DEPOSIT, {"order": unpaid_order["id"]}, format="json")
    as_customer = customer_client.post(FAKE_DEPOSIT, {"order": unpaid_order["id"]}, format="json")
    response = staff_client.post(FAKE_DEPOSIT, {"order": unpaid_order["id"]}, format="json")
    again = staff_client.post(FAKE_DEPOSIT, {"order": unpaid_order["id"]}, format="json")

    assert (anonymous.status_code, as_customer.status_code) == (401, 403)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["virtual_account"]["bank_name"]) == ("APPROVED", "Woori Bank")
    assert (again.status_code, again.json()["code"]) == (409, "virtual_account_not_waiting")
    assert order_status(unpaid_order) == "PAID"


def test_the_test_endpoint_answers_what_it_cannot_do(staff_client, customer_factory, product_factory):
    shopper = customer_factory()
    order = place_order(client_for(shopper.user), [order_line(product_factory(), 1)], pay_with=None).json()
    take_virtual_account(order, shopper, sandbox_token="tok_va_never")

    never = staff_client.post(FAKE_DEPOSIT, {"order": order["id"]}, format="json")
    unknown = staff_client.post(FAKE_DEPOSIT, {"order": "00000000-0000-0000-0000-000000000000"}, format="json")
    missing = staff_client.post(FAKE_DEPOSIT, {}, format="json")

    assert (never.status_code, never.json()["code"]) == (409, "deposit_refused")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "virtual_account_not_found")
    assert missing.status_code == 400
    assert [error["field"] for error in missing.json()["errors"]] == ["order"]
    assert Payment.objects.get().status == "WAITING"


@pytest.mark.parametrize("setting", [{"PAYMENT_GATEWAY": "toss", "TOSS_SECRET_KEY": "test_sk_x"}, {"PRODUCTION": True}])
def test_the_test_endpoint_exists_only_with_the_fake_outside_production(
    customer, staff_client, unpaid_order, settings, setting
):
    take_virtual_account(unpaid_order, customer)
    for name, value in setting.items():
        setattr(settings, name, value)

    response = staff_client.post(FAKE_DEPOSIT, {"order": unpaid_order["id"]}, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Payment.objects.get().status == "WAITING"
