"""A product with stock adjustments (its stock's audit trail) cannot be deleted: it is deactivated.
State only: Django enforces on_delete itself, no SQL changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0003_stock_adjustment_actors"),
    ]

    operations = [
        migrations.AlterField(
            model_name="stockadjustment",
            name="product",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stock_adjustments",
                to="products.product",
            ),
        ),
    ]
