# An attempt is an order paid with one paymentKey: one row per (order, paymentKey), reused by the
# attempt's retries. Rows so far hold one attempt per order, so no existing data breaks it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_payment_customer"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(fields=("order", "payment_key"), name="payments_one_attempt_per_key"),
        ),
    ]
