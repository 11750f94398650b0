"""Prices are whole won (KRW has no minor unit): the table checks it from now on.

Existing rows are checked first, and a price with a fractional part stops the migration with the
list of those products; it is not rounded. Such a price is a data-entry error whose intended value
only staff know (1000.50 may be 1,000 or 1,050 won), and rounding would change, unseen, what
customers are charged. Fix each price (the admin, or the staff API), then migrate again."""

from django.db import migrations, models
from django.db.models.functions import Round

import c4ang.money

LISTED = 20


def refuse_fractional_prices(apps, schema_editor):
    Product = apps.get_model("products", "Product")
    offending = Product.objects.using(schema_editor.connection.alias).exclude(price=Round("price")).order_by("pk")
    count = offending.count()
    if not count:
        return
    rows = [f"  {pk} {name!r}: {price}" for pk, name, price in offending.values_list("pk", "name", "price")[:LISTED]]
    more = [f"  … and {count - LISTED} more"] if count > LISTED else []
    raise RuntimeError(
        "\n".join(
            [
                f"{count} product(s) have a price with a fractional part, and KRW has no minor unit.",
                "Set each to a whole number of won (admin: Products, or PATCH /api/v1/products/staff/{id}/),",
                "then run migrate again. Nothing was changed. The products:",
                *rows,
                *more,
            ]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0004_stock_adjustments_protect_their_product"),
    ]

    operations = [
        migrations.RunPython(refuse_fractional_prices, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="product",
            name="price",
            field=models.DecimalField(decimal_places=2, max_digits=10, validators=[c4ang.money.validate_whole_won]),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(price=Round("price")),
                name="products_price_whole_won",
                violation_error_code="not_whole_won",
                violation_error_message="KRW has no minor unit: a price is a whole number of won.",
            ),
        ),
    ]
