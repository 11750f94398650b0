"""Order numbers, items amounts and payment deadlines are required once every order has one."""

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_emails_in_normal_form'),
        ('orders', '0005_checkout_backfill'),
        ('saga', '0003_split_compensation_reason'),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='items_amount',
            field=models.DecimalField(decimal_places=2, max_digits=10),
        ),
        migrations.AlterField(
            model_name='order',
            name='order_number',
            field=models.CharField(max_length=20, unique=True),
        ),
        migrations.AlterField(
            model_name='order',
            name='payment_due_at',
            field=models.DateTimeField(),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('total_amount', django.db.models.expressions.CombinedExpression(models.F('items_amount'), '+', models.F('shipping_fee')))), name='orders_total_is_items_plus_fee'),
        ),
    ]
