"""Orders placed before checkout get what checkout now records: an order number by their day in shop
time (in the order they were placed), their total as items amount (no shipping fee was charged), and
the payment deadline they had (ORDER_PAYMENT_TIMEOUT_MINUTES after placement)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

BATCH = 2000


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderNumberCounter = apps.get_model("orders", "OrderNumberCounter")
    shop_time = ZoneInfo(settings.TIME_ZONE)
    timeout = timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    last_numbers: dict = {}
    batch = []
    for order in Order.objects.filter(order_number__isnull=True).order_by("created_at", "pk").iterator(BATCH):
        day = order.created_at.astimezone(shop_time).date()
        last_numbers[day] = last_numbers.get(day, 0) + 1
        order.order_number = f"{day:%Y%m%d}-{last_numbers[day]:06d}"
        order.items_amount = order.total_amount
        order.payment_due_at = order.created_at + timeout
        batch.append(order)
        if len(batch) >= BATCH:
            Order.objects.bulk_update(batch, ["order_number", "items_amount", "payment_due_at"])
            batch = []
    Order.objects.bulk_update(batch, ["order_number", "items_amount", "payment_due_at"])
    OrderNumberCounter.objects.bulk_create(
        OrderNumberCounter(day=day, last_number=last) for day, last in last_numbers.items()
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_checkout")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
