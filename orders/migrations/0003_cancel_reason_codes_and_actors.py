"""Cancellation reasons become a code plus a note, and audit actors `kind:identity`.

Earlier rows kept one text: `customer_cancelled: 마음이 바뀜`, `Cancelled by staff` (the admin),
a failed step's `insufficient_stock: …`; and actors `customer`, `system`, `pg`, a staff email or
`staff:<email>`. Each is mapped once, here.
"""

from django.db import migrations, models

CANCEL_CHOICES = [
    ("customer_cancelled", "Cancelled by the customer"),
    ("staff_cancelled", "Cancelled by staff"),
    ("staff_refund", "Refunded by staff"),
    ("payment_expired", "Not paid in time"),
    ("payment_cancelled", "Payment cancelled at the PG"),
    ("insufficient_stock", "Not enough stock"),
    ("product_unavailable", "Product no longer for sale"),
    ("customer_inactive", "Customer account inactive"),
    ("payment_declined", "Payment declined"),
    ("payment_timeout", "The PG did not answer"),
    ("order_not_payable", "Paid after it could no longer be paid"),
    ("recovery_gave_up", "Recovery gave up after too many attempts"),
    ("placement_failed", "Placement failed"),
]
CODES = {code for code, _ in CANCEL_CHOICES}
BATCH = 2000


def reason_of(text: str) -> tuple[str, str]:
    if text == "Cancelled by staff":
        return "staff_cancelled", ""
    code, _, note = text.partition(":")
    code, note = code.strip(), note.strip()
    if code == "recovery":
        return "recovery_gave_up", note
    if code in CODES:
        return code, note
    return "placement_failed", text


def actor_of(actor: str, customer_email: str) -> str:
    if actor == "customer":
        return f"customer:{customer_email}"
    if actor == "system":
        return "system:place_order"
    if actor == "pg":
        return "pg:toss"
    if ":" in actor:
        return actor
    return f"staff:{actor}"


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    orders = []
    for order in Order.objects.exclude(cancel_reason="").only("id", "cancel_reason").iterator(chunk_size=BATCH):
        order.cancel_reason, order.cancel_note = reason_of(order.cancel_reason)
        order.cancel_note = order.cancel_note[:200]
        orders.append(order)
    Order.objects.bulk_update(orders, ["cancel_reason", "cancel_note"], batch_size=BATCH)
    events = []
    rows = OrderEvent.objects.values_list("id", "actor", "to_status", "note", "order__customer__email")
    for event_id, actor, to_status, note, email in rows.iterator(chunk_size=BATCH):
        event = OrderEvent(id=event_id, actor=actor_of(actor, email), reason="", note=note)
        if to_status == "CANCELLED" and note:
            event.reason, event.note = reason_of(note)
            event.note = event.note[:200]
        events.append(event)
    OrderEvent.objects.bulk_update(events, ["actor", "reason", "note"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("orders", "0002_commerce_core"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="cancel_note",
            field=models.CharField(blank=True, help_text="The canceller's words, or what failed.", max_length=200),
        ),
        migrations.AddField(
            model_name="orderevent",
            name="reason",
            field=models.CharField(blank=True, choices=CANCEL_CHOICES, max_length=30),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="actor",
            field=models.CharField(
                help_text="Who made the change, as kind:identity (staff:kim@c4ang.com).", max_length=300
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="order",
            name="cancel_reason",
            field=models.CharField(blank=True, choices=CANCEL_CHOICES, max_length=30),
        ),
    ]
