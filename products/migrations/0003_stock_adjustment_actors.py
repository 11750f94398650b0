"""Stock adjustments' actors become `kind:identity`: earlier rows hold a staff email."""

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat


def forwards(apps, schema_editor):
    StockAdjustment = apps.get_model("products", "StockAdjustment")
    StockAdjustment.objects.exclude(actor__contains=":").update(actor=Concat(Value("staff:"), "actor"))


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0002_stock_adjustments"),
    ]

    operations = [
        migrations.AlterField(
            model_name="stockadjustment",
            name="actor",
            field=models.CharField(help_text="Who changed the stock, as kind:identity.", max_length=300),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
