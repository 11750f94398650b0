"""The data migrations of reasons and actors, run for real: back to the earlier schema, rows in
the old formats, then forward again."""

import pytest

from conftest import migrate

BEFORE = [
    ("orders", "0002_commerce_core"),
    ("payments", "0002_commerce_core"),
    ("products", "0002_stock_adjustments"),
]
AFTER = [
    ("orders", "0003_cancel_reason_codes_and_actors"),
    ("payments", "0003_payment_customer"),
    ("products", "0003_stock_adjustment_actors"),
]


@pytest.mark.django_db(transaction=True)
def test_old_reasons_and_actors_are_mapped_once(latest_schema_after):
    old = migrate(BEFORE)
    user = old.get_model("customers", "User").objects.create(email="kim@example.kr")
    customer = old.get_model("customers", "Customer").objects.create(user=user, email="kim@example.kr", name="김")
    category = old.get_model("products", "Category").objects.create(name="도서")
    product = old.get_model("products", "Product").objects.create(
        name="책", category=category, brand="민음사", price=10000, stock=3
    )
    Order = old.get_model("orders", "Order")
    reasons = [
        "customer_cancelled: 마음이 바뀜",
        "Cancelled by staff",
        "staff_refund",
        "insufficient_stock: Not enough stock of product 1.",
        "recovery: too many attempts",
        "refund_failed: the PG did not answer",
    ]
    orders = [Order.objects.create(customer=customer, total_amount=10000, cancel_reason=text) for text in reasons]
    OrderEvent = old.get_model("orders", "OrderEvent")
    actors = ["customer", "system", "pg", "staff@c4ang.com", "staff:kim@c4ang.com"]
    for actor in actors:
        OrderEvent.objects.create(order=orders[0], to_status="CANCELLED", actor=actor, note="customer_cancelled: 늦음")
    old.get_model("payments", "Payment").objects.create(
        order=orders[0], amount=10000, provider="fake", idempotency_key="c4ang:1:confirm"
    )
    old.get_model("products", "StockAdjustment").objects.create(
        product=product, delta=2, stock_after=5, reason="입고", actor="staff@c4ang.com"
    )

    new = migrate(AFTER)

    migrated = new.get_model("orders", "Order").objects.in_bulk([order.pk for order in orders])
    assert [(migrated[order.pk].cancel_reason, migrated[order.pk].cancel_note) for order in orders] == [
        ("customer_cancelled", "마음이 바뀜"),
        ("staff_cancelled", ""),
        ("staff_refund", ""),
        ("insufficient_stock", "Not enough stock of product 1."),
        ("recovery_gave_up", "too many attempts"),
        ("placement_failed", "refund_failed: the PG did not answer"),
    ]
    events = new.get_model("orders", "OrderEvent").objects.order_by("id")
    assert [(event.actor, event.reason, event.note) for event in events] == [
        ("customer:kim@example.kr", "customer_cancelled", "늦음"),
        ("system:place_order", "customer_cancelled", "늦음"),
        ("pg:toss", "customer_cancelled", "늦음"),
        ("staff:staff@c4ang.com", "customer_cancelled", "늦음"),
        ("staff:kim@c4ang.com", "customer_cancelled", "늦음"),
    ]
    assert new.get_model("payments", "Payment").objects.get().customer_id == customer.pk
    assert new.get_model("products", "StockAdjustment").objects.get().actor == "staff:staff@c4ang.com"
