"""A payment keeps its order's customer, so that a customer's payments are read without joining
the orders table; earlier payments take it from their order."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Order = apps.get_model("orders", "Order")
    Payment.objects.update(
        customer_id=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("customer_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("orders", "0003_cancel_reason_codes_and_actors"),
        ("payments", "0002_commerce_core"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="customer",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="customers.customer"
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="payment",
            name="customer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="customers.customer"
            ),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["customer", "-created_at"], name="payments_customer_created_idx"),
        ),
    ]
