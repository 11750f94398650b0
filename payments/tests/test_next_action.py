"""An order says what its app does next (`next_action`) and shows its payment (`payment`): an app
pays an order knowing nothing of the gateway but what those say. The gateway's knowledge (client key,
customerKey, confirm URL, the sandbox's keys) is the payments module's."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conftest import client_for, order_line, place_order
from orders.models import Order
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
CUSTOMER_KEY = re.compile(r"^[A-Za-z0-9\-_=.@]{2,50}$")


def order_of(client, order: dict) -> dict:
    response = client.get(f"{ORDERS}{order['id']}/")
    assert response.status_code == 200, response.content
    return response.json()


def payments_queries(queries) -> int:
    return sum(1 for query in queries if 'FROM "payments"' in query["sql"])


def test_a_card_order_waiting_for_its_payment_says_how_to_pay_it(customer, customer_client, product_factory):
    earphones = product_factory(name="무선 이어폰 프로", price=Decimal("129000"))
    case, strap = product_factory(name="이어폰 케이스"), product_factory(name="스트랩")
    lines = [order_line(earphones), order_line(case), order_line(strap)]

    order = place_order(customer_client, lines, pay_with=None).json()

    assert order["payment"] is None
    action = order["next_action"]
    assert action == {
        "type": "confirm_payment",
        "expires_at": action["expires_at"],
        "confirm_payment": {
            "gateway": "fake",
            "client_key": "",
            "order_id": order["id"],
            "amount": 149000,
            "currency": "KRW",
            "order_name": "무선 이어폰 프로 외 2건",
            "customer_key": action["confirm_payment"]["customer_key"],
            "confirm_url": "/api/v1/payments/confirm/",
            "sandbox_payment_keys": {"approve": "tok_approve", "decline": "tok_decline", "timeout": "tok_timeout"},
        },
        "virtual_account": None,
    }
    assert parse_datetime(action["expires_at"]) == Order.objects.get().payment_due_at
    assert order_of(customer_client, order)["next_action"] == action


def test_the_customer_key_is_opaque_and_stable_per_customer(
    customer, customer_client, customer_factory, product_factory
):
    product = product_factory()
    first = place_order(customer_client, [order_line(product)], pay_with=None).json()
    second = place_order(customer_client, [order_line(product)], pay_with=None).json()
    other = place_order(client_for(customer_factory().user), [order_line(product)], pay_with=None).json()

    keys = [order["next_action"]["confirm_payment"]["customer_key"] for order in (first, second, other)]

    assert keys[0] == keys[1] != keys[2]
    assert all(CUSTOMER_KEY.match(key) for key in keys)
    assert keys[0] not in (str(customer.pk), customer.pk.hex)  # not the customer's id, which staff pages show


def test_one_line_is_named_by_its_product_alone(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory(name="무선 이어폰 프로"), 2)], pay_with=None)

    assert order.json()["next_action"]["confirm_payment"]["order_name"] == "무선 이어폰 프로"


def test_at_toss_the_app_gets_the_widgets_client_key_and_no_sandbox_keys(customer_client, product_factory, settings):
    settings.PAYMENT_GATEWAY, settings.TOSS_SECRET_KEY = "toss", "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
    settings.TOSS_CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"

    order = place_order(customer_client, [order_line(product_factory())], pay_with=None).json()

    confirm = order["next_action"]["confirm_payment"]
    assert (confirm["gateway"], confirm["client_key"], confirm["sandbox_payment_keys"]) == (
        "toss",
        "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq",
        None,
    )


def test_an_app_pays_an_order_by_following_its_next_action_alone(customer_client, product_factory):
    """The app knows the API's shapes, not the gateway: where to confirm, with what, and the keys to
    use all come from the order."""
    order = place_order(customer_client, [order_line(product_factory(price=Decimal("129000")))], pay_with=None).json()

    def pay_with(outcome: str):
        confirm = order_of(customer_client, order)["next_action"]["confirm_payment"]
        body = {
            "paymentKey": confirm["sandbox_payment_keys"][outcome],
            "orderId": confirm["order_id"],
            "amount": confirm["amount"],
        }
        return customer_client.post(confirm["confirm_url"], body, format="json")

    declined = pay_with("decline")

    assert declined.status_code == 402
    assert declined.json()["errors"] == [
        {"field": None, "code": "REJECT_CARD_PAYMENT", "message": "한도초과 혹은 잔액부족으로 결제에 실패했습니다."}
    ]
    after_decline = order_of(customer_client, order)
    assert after_decline["status"] == "PENDING"
    assert after_decline["next_action"]["type"] == "confirm_payment"  # another card, until expires_at
    assert {key: after_decline["payment"][key] for key in ("method", "status", "amount", "currency")} == {
        "method": "card",
        "status": "FAILED",
        "amount": 129000,
        "currency": "KRW",
    }
    assert (after_decline["payment"]["failure_code"], after_decline["payment"]["failure_message"]) == (
        "REJECT_CARD_PAYMENT",
        "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
    )

    paid = pay_with("approve")

    assert paid.status_code == 200, paid.content
    after = order_of(customer_client, order)
    assert after["status"] == "PAID"
    assert after["next_action"] == {
        "type": "none",
        "expires_at": None,
        "confirm_payment": None,
        "virtual_account": None,
    }
    approved = Payment.objects.get(payment_key="tok_approve")
    assert after["payment"]["id"] == paid.json()["id"] == str(approved.pk)
    assert (after["payment"]["status"], after["payment"]["failure_code"]) == ("APPROVED", "")


def test_an_unanswered_attempt_leaves_the_app_to_confirm_again(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())], pay_with=None).json()
    body = {"paymentKey": "tok_timeout", "orderId": order["id"], "amount": order["total_amount"]}
    assert customer_client.post("/api/v1/payments/confirm/", body, format="json").status_code == 504

    shown = order_of(customer_client, order)

    assert (shown["payment"]["status"], shown["payment"]["failure_code"]) == ("PENDING", "")
    assert shown["next_action"]["type"] == "confirm_payment"


def test_a_virtual_account_order_says_where_to_deposit(customer, customer_client, product_factory, staff_client):
    product = product_factory(price=Decimal("129000"))

    order = place_order(
        customer_client,
        [order_line(product)],
        pay_with="tok_va_deposit_later",
        payment_method="virtual_account",
        bank="88",
    ).json()

    account = Payment.objects.get()
    action = order["next_action"]
    assert action == {
        "type": "deposit_to_virtual_account",
        "expires_at": action["expires_at"],
        "confirm_payment": None,
        "virtual_account": {
            "bank": "88",
            "bank_name": "Shinhan Bank",
            "account_number": account.account_number,
            "holder_name": customer.name,
            "due_at": action["virtual_account"]["due_at"],
            "amount": 129000,
            "currency": "KRW",
        },
    }
    assert parse_datetime(action["expires_at"]) == Order.objects.get().payment_due_at
    assert parse_datetime(action["virtual_account"]["due_at"]) == account.due_at
    assert (order["payment"]["method"], order["payment"]["status"]) == ("virtual_account", "WAITING")

    deposited = staff_client.post("/api/v1/payments/staff/fake-deposit/", {"order": order["id"]}, format="json")

    assert deposited.status_code == 200, deposited.content
    after = order_of(customer_client, order)
    assert (after["status"], after["next_action"]["type"], after["payment"]["status"]) == ("PAID", "none", "APPROVED")


def test_paid_and_cancelled_orders_have_nothing_to_do(customer_client, product_factory):
    product = product_factory()
    paid = place_order(customer_client, [order_line(product)]).json()
    declined = place_order(customer_client, [order_line(product)], pay_with="tok_decline_REJECT_CARD_COMPANY").json()

    assert (paid["status"], paid["next_action"]["type"], paid["payment"]["status"]) == ("PAID", "none", "APPROVED")
    assert (declined["status"], declined["next_action"]["type"]) == ("CANCELLED", "none")
    # The one-call checkout's decline is shown on the order's payment: the PG's code and its message.
    assert (declined["payment"]["status"], declined["payment"]["failure_code"]) == ("FAILED", "REJECT_CARD_COMPANY")
    assert declined["payment"]["failure_message"] == "The sandbox declined this payment."


def test_the_order_shows_its_approved_attempt_over_a_newer_one(product_factory, customer_client):
    """An attempt settled late (the PG took money for it after another one paid) is not the order's payment."""
    order = place_order(customer_client, [order_line(product_factory())]).json()
    approved = Payment.objects.get()
    late = PaymentFactory(order=Order.objects.get(), status="REFUNDED")
    Payment.objects.filter(pk=late.pk).update(created_at=timezone.now() + timedelta(seconds=1))

    assert order_of(customer_client, order)["payment"]["id"] == str(approved.pk)


def test_a_list_reads_the_payments_of_its_whole_page_at_once(customer_client, product_factory):
    product = product_factory(stock=50)
    place_order(customer_client, [order_line(product)])
    with CaptureQueriesContext(connection) as one:
        assert len(customer_client.get(ORDERS).json()["results"]) == 1
    for token in ("tok_approve", "tok_decline", None):
        place_order(customer_client, [order_line(product)], pay_with=token)

    with CaptureQueriesContext(connection) as four:
        listed = customer_client.get(ORDERS).json()["results"]

    assert [order["next_action"]["type"] for order in listed] == ["confirm_payment", "none", "none", "none"]
    assert [order["payment"] and order["payment"]["status"] for order in listed] == [
        None,
        "FAILED",
        "APPROVED",
        "APPROVED",
    ]
    assert payments_queries(four.captured_queries) == payments_queries(one.captured_queries) == 1
    assert len(four.captured_queries) == len(one.captured_queries)


def test_the_detail_reads_its_payment_once(customer_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()

    with CaptureQueriesContext(connection) as detail:
        order_of(customer_client, order)

    assert payments_queries(detail.captured_queries) == 1


def test_staff_see_the_same_payment_and_next_action(customer_client, staff_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())], pay_with=None).json()

    staff_view = staff_client.get(f"{ORDERS}staff/{order['id']}/").json()
    listed = staff_client.get(f"{ORDERS}staff/").json()["results"]

    assert (staff_view["payment"], staff_view["next_action"]) == (None, order["next_action"])
    assert [each["next_action"] for each in listed] == [order["next_action"]]
