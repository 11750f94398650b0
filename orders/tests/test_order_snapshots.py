"""An order shows what was bought as it was bought: each line keeps the product's name and primary
image of that moment and its line total; the customer reads the order's history of status changes
(without staff's actors and notes). Existing rows are filled in by the migration."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import ORDERS, SHIPPING_ADDRESS, migrate, order_line, place_order
from orders.models import Order, OrderEvent, OrderItem
from products import services as product_services
from products.models import Product
from products.tests.image_files import jpeg_bytes

pytestmark = pytest.mark.django_db

SHIP = {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"}


def test_items_keep_the_products_name_image_and_line_total(customer_client, product_factory):
    earphones = product_factory(name="무선 이어폰 프로", price=Decimal(129000), stock=5)
    cable = product_factory(name="USB-C 케이블", price=Decimal(9900), stock=5)
    image = product_services.product_image_upload(product_id=earphones.pk, image=io.BytesIO(jpeg_bytes(800, 600)))

    body = place_order(customer_client, [order_line(earphones, 2), order_line(cable)]).json()

    lines = {item["product_name"]: item for item in body["items"]}
    assert lines["무선 이어폰 프로"]["product_image_url"] == f"/media/{image.variants['list']}"
    assert lines["USB-C 케이블"]["product_image_url"] == ""
    assert [
        (item["product_name"], item["quantity"], item["line_total"], item["active_quantity"]) for item in body["items"]
    ] == [
        ("무선 이어폰 프로", 2, 258000, 2),
        ("USB-C 케이블", 1, 9900, 1),
    ]
    assert sum(item["line_total"] for item in body["items"]) == body["items_amount"] == 267900


def test_a_renamed_or_discontinued_product_shows_as_it_was_ordered(customer_client, product_factory):
    earphones = product_factory(name="무선 이어폰 프로", stock=5)
    order = place_order(customer_client, [order_line(earphones)]).json()

    Product.objects.filter(pk=earphones.pk).update(name="무선 이어폰 프로 2세대", is_active=False)

    detail = customer_client.get(f"{ORDERS}{order['id']}/").json()
    listed = customer_client.get(ORDERS).json()["results"][0]
    assert detail["items"][0]["product_name"] == listed["items"][0]["product_name"] == "무선 이어폰 프로"


def test_active_quantity_leaves_out_cancelled_units(customer_client, product_factory):
    mouse = product_factory(name="무선 마우스", price=Decimal(10000), stock=10)
    order = place_order(customer_client, [order_line(mouse, 3)]).json()
    line = order["items"][0]["id"]

    customer_client.post(
        f"{ORDERS}{order['id']}/cancel-lines/", {"lines": [{"order_item_id": line, "quantity": 1}]}, format="json"
    )

    item = customer_client.get(f"{ORDERS}{order['id']}/").json()["items"][0]
    assert (item["quantity"], item["cancelled_quantity"], item["active_quantity"], item["line_total"]) == (
        3,
        1,
        2,
        30000,
    )


# --- history ----------------------------------------------------------------------------------


def test_the_detail_tells_the_orders_history_without_staff_detail(customer_client, staff_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()
    staff_client.post(f"{ORDERS}staff/{order['id']}/status/", SHIP, format="json")
    staff_client.post(f"{ORDERS}staff/{order['id']}/status/", {"status": "DELIVERED"}, format="json")

    history = customer_client.get(f"{ORDERS}{order['id']}/").json()["history"]

    assert [(entry["from_status"], entry["to_status"], entry["code"], entry["message"]) for entry in history] == [
        (None, "PENDING", None, "Order placed"),
        ("PENDING", "PAID", None, "Paid"),
        ("PAID", "SHIPPED", None, "Shipped: CJ대한통운 123456789012"),
        ("SHIPPED", "DELIVERED", None, "Delivered"),
    ]
    assert all(set(entry) == {"from_status", "to_status", "code", "message", "at"} for entry in history)
    times = [entry["at"] for entry in history]
    assert times == sorted(times)


def test_a_cancellation_in_the_history_says_why_but_not_in_staffs_words(customer_client, staff_client, product_factory):
    order = place_order(customer_client, [order_line(product_factory())]).json()
    staff_client.post(f"{ORDERS}staff/{order['id']}/cancel/", {"reason": "재고 실사 오류"}, format="json")

    detail = customer_client.get(f"{ORDERS}{order['id']}/").json()

    assert detail["history"][-1] == {
        "from_status": "PAID",
        "to_status": "CANCELLED",
        "code": "staff_cancelled",
        "message": "Cancelled by staff",
        "at": detail["history"][-1]["at"],
    }
    assert "재고 실사 오류" not in str(detail)
    events = staff_client.get(f"{ORDERS}staff/{order['id']}/").json()["events"]
    assert (events[-1]["actor"], events[-1]["note"]) == ("staff:staff@c4ang.com", "재고 실사 오류")


def test_lists_leave_the_history_to_the_detail(customer_client, product_factory):
    place_order(customer_client, [order_line(product_factory())])

    listed = customer_client.get(ORDERS).json()["results"][0]

    assert "history" not in listed
    assert listed["status"] == "PAID"


# --- the migration ----------------------------------------------------------------------------

BEFORE = [("orders", "0007_fulfilment_and_returns")]
AFTER = [("orders", "0008_order_item_snapshot_and_readable_history")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_in_names_and_messages_of_existing_rows(
    customer_factory, product_factory, latest_schema_after
):
    customer = customer_factory()
    earphones = product_factory(name="무선 이어폰 프로")
    old = migrate(BEFORE)
    OldOrder, OldEvent, OldItem = (old.get_model("orders", name) for name in ("Order", "OrderEvent", "OrderItem"))

    def old_order(number: str, **fields):
        order = OldOrder.objects.create(
            order_number=number,
            customer_id=customer.pk,
            items_amount=10000,
            total_amount=10000,
            payment_due_at=timezone.now() + timedelta(minutes=30),
            shipping_recipient=SHIPPING_ADDRESS["recipient"],
            **fields,
        )
        OldItem.objects.create(order=order, product_id=earphones.pk, quantity=1, price=10000)
        OldEvent.objects.create(order=order, from_status="", to_status="PENDING", actor="customer:kim@example.kr")
        return order

    paid = old_order("20261201-000001", status="PAID")
    OldEvent.objects.create(order=paid, from_status="PENDING", to_status="PAID", actor="system:place_order")
    OldEvent.objects.create(order=paid, from_status="PAID", to_status="SHIPPED", actor="staff:a", note="롯데택배 1")
    OldEvent.objects.create(
        order=paid,
        from_status="PAID",
        to_status="PAID",
        actor="staff:a",
        reason="staff_cancelled",
        note="1 unit(s) of 1 line(s) cancelled, 10000 won refunded (partial-cancel:9f1c): 품절",
    )
    short = old_order("20261201-000002", status="CANCELLED", cancel_reason="insufficient_stock", cancel_note="품절")
    OldEvent.objects.create(
        order=short,
        from_status="PENDING",
        to_status="CANCELLED",
        actor="system:place_order",
        reason="insufficient_stock",
        note="품절",
    )
    asked = old_order("20261201-000003", status="CANCELLED", cancel_reason="customer_cancelled", cancel_note="변심")
    OldEvent.objects.create(
        order=asked,
        from_status="PENDING",
        to_status="CANCELLED",
        actor="customer:k",
        reason="customer_cancelled",
        note="변심",
    )

    migrate(AFTER)

    assert set(OrderItem.objects.values_list("product_name", "product_image_url")) == {("무선 이어폰 프로", "")}
    orders = {order.order_number: order for order in Order.objects.all()}
    assert [(orders[number].cancel_message, orders[number].cancel_note) for number in sorted(orders)] == [
        ("", ""),
        ("Not enough stock: 품절", "품절"),
        ("Cancelled by the customer", "변심"),
    ]
    events = OrderEvent.objects.order_by("id")
    messages = {number: [e.message for e in events if e.order_id == orders[number].pk] for number in sorted(orders)}
    assert messages == {
        "20261201-000001": [
            "Order placed",
            "Paid",
            "Shipped: 롯데택배 1",
            "1 unit(s) of 1 line(s) cancelled, 10000 won refunded",
        ],
        "20261201-000002": ["Order placed", "Not enough stock: 품절"],
        "20261201-000003": ["Order placed", "Cancelled by the customer"],
    }
