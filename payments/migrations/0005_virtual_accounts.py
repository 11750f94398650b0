"""Virtual accounts (가상계좌): a payment's method, and the account the PG issued for a deposit (bank,
number, holder, due date, the secret its deposit callbacks carry); WAITING while it is open."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_payment_one_attempt_per_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="account_number",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name="payment",
            name="bank",
            field=models.CharField(
                blank=True,
                choices=[
                    ("39", "경남은행"),
                    ("34", "광주은행"),
                    ("06", "KB국민은행"),
                    ("03", "IBK기업은행"),
                    ("11", "NH농협은행"),
                    ("31", "iM뱅크(대구은행)"),
                    ("32", "부산은행"),
                    ("45", "새마을금고"),
                    ("07", "Sh수협은행"),
                    ("88", "신한은행"),
                    ("20", "우리은행"),
                    ("71", "우체국"),
                    ("37", "전북은행"),
                    ("89", "케이뱅크"),
                    ("81", "하나은행"),
                ],
                max_length=3,
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="holder_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="payment",
            name="method",
            field=models.CharField(
                choices=[("card", "Card"), ("virtual_account", "Virtual account (가상계좌)")],
                default="card",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="secret",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=[
                    ("PENDING", "Pending"),
                    ("WAITING", "Waiting"),
                    ("APPROVED", "Approved"),
                    ("FAILED", "Failed"),
                    ("REFUNDED", "Refunded"),
                ],
                default="PENDING",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="paymentevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("REQUESTED", "Requested"),
                    ("APPROVED", "Approved"),
                    ("ISSUED", "Issued"),
                    ("DEPOSITED", "Deposited"),
                    ("DECLINED", "Declined"),
                    ("TIMED_OUT", "Timed Out"),
                    ("REFUND_REQUESTED", "Refund Requested"),
                    ("REFUNDED", "Refunded"),
                    ("REFUND_FAILED", "Refund Failed"),
                    ("VOIDED", "Voided"),
                    ("SYNCED", "Synced"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "WAITING")), fields=("order",), name="payments_one_waiting_per_order"
            ),
        ),
    ]
