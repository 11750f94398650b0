"""Finding orders: customers by status and period (days in shop time), staff by order number,
recipient and phone, in the API and the admin; the lists' query budgets."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import ORDERS, order_line, place_order
from orders.models import Order
from orders.tests.factories import OrderFactory
from payments.constants import Bank, PaymentMethod, PaymentStatus
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

KST = ZoneInfo("Asia/Seoul")


def placed_at(order: Order, *when: int) -> Order:
    """Move an order to a moment in shop time (KST): year, month, day, hour, minute, second."""
    Order.objects.filter(pk=order.pk).update(created_at=datetime(*when, tzinfo=KST))
    return order


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [order["id"] for order in response.json()["results"]]


@pytest.fixture
def november(customer):
    """The customer's orders around the end of November (KST): named by when and how they stand."""
    return {
        "oct31_late": placed_at(OrderFactory(customer=customer, status="PAID"), 2026, 10, 31, 23, 59, 59),
        "nov01_early": placed_at(OrderFactory(customer=customer, status="CANCELLED"), 2026, 11, 1, 0, 0, 0),
        "nov15": placed_at(OrderFactory(customer=customer, status="PAID"), 2026, 11, 15, 12, 0, 0),
        "nov30_late": placed_at(OrderFactory(customer=customer, status="DELIVERED"), 2026, 11, 30, 23, 59, 59),
        "dec01_early": placed_at(OrderFactory(customer=customer, status="PAID"), 2026, 12, 1, 0, 0, 0),
    }


def test_customers_list_their_orders_placed_in_a_period_of_kst_days_both_inclusive(customer_client, november):
    def listed(**filters) -> set[str]:
        return set(ids(customer_client.get(ORDERS, filters)))

    def named(*names) -> set[str]:
        return {str(november[name].pk) for name in names}

    assert listed(placed_from="2026-11-01", placed_to="2026-11-30") == named("nov01_early", "nov15", "nov30_late")
    assert listed(placed_from="2026-11-30") == named("nov30_late", "dec01_early")
    assert listed(placed_to="2026-10-31") == named("oct31_late")
    assert listed(placed_from="2026-11-15", placed_to="2026-11-15") == named("nov15")
    assert listed() == set(named(*november))


def test_customers_list_their_orders_of_one_status_in_a_period(customer_client, november):
    paid = ids(customer_client.get(ORDERS, {"status": "PAID"}))
    paid_in_november = ids(
        customer_client.get(ORDERS, {"status": "PAID", "placed_from": "2026-11-01", "placed_to": "2026-11-30"})
    )

    # Newest first.
    assert paid == [str(november[name].pk) for name in ("dec01_early", "nov15", "oct31_late")]
    assert paid_in_november == [str(november["nov15"].pk)]


def test_another_customers_orders_never_show_in_a_filtered_list(customer_client, customer_factory, november):
    placed_at(OrderFactory(customer=customer_factory(), status="PAID"), 2026, 11, 15, 13, 0, 0)

    listed = ids(customer_client.get(ORDERS, {"placed_from": "2026-11-15", "placed_to": "2026-11-15"}))

    assert listed == [str(november["nov15"].pk)]


@pytest.mark.parametrize(
    ("filters", "field", "code"),
    [
        ({"placed_from": "2026-12-02", "placed_to": "2026-12-01"}, "placed_to", "period_reversed"),
        ({"placed_from": "yesterday"}, "placed_from", "invalid"),
        ({"placed_to": "2026-13-01"}, "placed_to", "invalid"),
        ({"status": "LOST"}, "status", "invalid_choice"),
    ],
)
def test_a_bad_list_filter_is_a_400_naming_it(customer_client, staff_client, filters, field, code):
    for response in (customer_client.get(ORDERS, filters), staff_client.get(f"{ORDERS}staff/", filters)):
        assert response.status_code == 400
        assert [(error["field"], error["code"]) for error in response.json()["errors"]] == [(field, code)]


@pytest.fixture
def shipped_orders(customer_factory):
    """Orders of three customers, to three recipients."""
    return {
        "minjun": OrderFactory(
            customer=customer_factory(),
            order_number="20261201-000123",
            shipping_recipient="김민준",
            shipping_phone="010-1234-5678",
        ),
        "seoyeon": OrderFactory(
            customer=customer_factory(),
            order_number="20261201-000124",
            shipping_recipient="이서연",
            shipping_phone="02-123-4567",
        ),
        "minseo": OrderFactory(
            customer=customer_factory(),
            order_number="20261202-000001",
            shipping_recipient="김민서",
            shipping_phone="031-9999-5678",
        ),
    }


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("20261201-000124", ["seoyeon"]),
        ("20261201-", ["minjun", "seoyeon"]),
        (" 20261202-000001 ", ["minseo"]),
        ("이서연", ["seoyeon"]),
        ("김민", ["minjun", "minseo"]),
        ("01012345678", ["minjun"]),
        ("010 1234 5678", ["minjun"]),
        ("021234567", ["seoyeon"]),
        ("5678", ["minjun", "minseo"]),
        ("박지호", []),
        ("20261203", []),
    ],
)
def test_staff_find_orders_by_number_recipient_and_phone(staff_client, shipped_orders, q, found):
    listed = ids(staff_client.get(f"{ORDERS}staff/", {"q": q}))

    assert sorted(listed) == sorted(str(shipped_orders[name].pk) for name in found)


def test_staff_search_combines_with_the_status_filter(staff_client, shipped_orders):
    Order.objects.filter(pk=shipped_orders["minseo"].pk).update(status="PAID")

    listed = ids(staff_client.get(f"{ORDERS}staff/", {"q": "김민", "status": "PAID"}))

    assert listed == [str(shipped_orders["minseo"].pk)]


def test_staff_find_orders_in_the_admin_by_number_recipient_and_phone(client, staff_user, shipped_orders):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    def found(q: str) -> list[str]:
        page = client.get("/admin/orders/order/", {"q": q})
        assert page.status_code == 200
        return [name for name, order in shipped_orders.items() if order.order_number in page.content.decode()]

    assert found("20261201-000124") == ["seoyeon"]
    assert found("이서연") == ["seoyeon"]
    assert found("031-9999") == ["minseo"]


def test_the_admin_shows_the_number_method_and_shipping_snapshot(client, staff_user, customer):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    order = OrderFactory(
        customer=customer,
        order_number="20261201-000777",
        payment_method=PaymentMethod.VIRTUAL_ACCOUNT,
        shipping_recipient="김민준",
        shipping_phone="010-1234-5678",
        shipping_postal_code="06236",
        shipping_road_address="서울특별시 강남구 테헤란로 152",
        shipping_address_detail="12층",
        delivery_memo="부재 시 경비실",
    )

    listing = client.get("/admin/orders/order/").content.decode()
    detail = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "20261201-000777" in listing
    assert "Virtual account (가상계좌)" in listing
    for shown in (
        "20261201-000777",
        "서울특별시 강남구 테헤란로 152",
        "12층",
        "부재 시 경비실",
        "010-1234-5678",
        "06236",
    ):
        assert shown in detail


def virtual_account_order(customer) -> Order:
    """A PENDING order waiting for the deposit into its virtual account."""
    order = OrderFactory(customer=customer, payment_method=PaymentMethod.VIRTUAL_ACCOUNT)
    PaymentFactory(
        order=order,
        customer=customer,
        amount=order.total_amount,
        status=PaymentStatus.WAITING,
        method=PaymentMethod.VIRTUAL_ACCOUNT,
        bank=Bank.SHINHAN,
        account_number="X0000012345678",
        holder_name=customer.name,
        due_at=order.payment_due_at,
    )
    return order


@pytest.mark.parametrize("size", [2, 6])
def test_the_order_lists_have_a_fixed_query_budget_with_virtual_accounts(
    customer, customer_client, staff_client, product_factory, django_assert_num_queries, size
):
    products = [product_factory(stock=50) for _ in range(2)]
    for _ in range(size // 2):
        place_order(customer_client, [order_line(product) for product in products])
        virtual_account_order(customer)

    # auth user, customer, orders page, their items, their payments, the virtual accounts of the page's orders
    with django_assert_num_queries(6):
        listed = customer_client.get(ORDERS).json()["results"]
    # staff user, orders page, their items, their payments, the virtual accounts
    with django_assert_num_queries(5):
        staff_listed = staff_client.get(f"{ORDERS}staff/").json()["results"]

    assert len(listed) == len(staff_listed) == size
    accounts = [order["virtual_account"] for order in listed if order["payment_method"] == "virtual_account"]
    assert len(accounts) == size // 2
    assert {(account["bank"], account["bank_name"]) for account in accounts} == {("88", "Shinhan Bank")}
    assert all(order["virtual_account"] is None for order in listed if order["payment_method"] == "card")


def test_a_list_without_virtual_account_orders_asks_payments_only_for_their_summaries(
    customer_client, product_factory, django_assert_num_queries
):
    product = product_factory(stock=10)
    for _ in range(3):
        place_order(customer_client, [order_line(product)])

    with django_assert_num_queries(5):  # auth user, customer, orders page, their items, their payments
        customer_client.get(ORDERS)


def test_an_order_detail_shows_its_virtual_account(customer, customer_client, django_assert_num_queries):
    order = virtual_account_order(customer)

    # auth user, customer, order, items, history, its payments, its virtual account
    with django_assert_num_queries(7):
        body = customer_client.get(f"{ORDERS}{order.pk}/").json()

    assert body["virtual_account"] == {
        "bank": "88",
        "bank_name": "Shinhan Bank",  # 신한은행 in Korean
        "account_number": "X0000012345678",
        "holder_name": customer.name,
        "due_at": order.payment_due_at.astimezone(KST).isoformat(),
    }
    assert body["total_amount"] == int(order.total_amount)
