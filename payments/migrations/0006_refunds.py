"""Refunds as rows (amount, reason, operation, Idempotency-Key, PG transaction key, status), a
payment's refunded_amount (checked <= amount) and PARTIALLY_REFUNDED."""

import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_address_book"),
        ("orders", "0007_fulfilment_and_returns"),
        ("payments", "0005_virtual_accounts"),
    ]

    operations = [
        migrations.CreateModel(
            name="Refund",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_column="refund_id", default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=10)),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("partial_cancel", "Partial cancellation (부분취소)"),
                            ("return", "Return (반품)"),
                            ("cancellation", "Order cancelled (전체취소)"),
                            ("goodwill", "Staff goodwill refund"),
                            ("late_payment", "Late payment of an unused attempt"),
                            ("pg_dashboard", "Cancelled at the PG"),
                        ],
                        max_length=20,
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200)),
                ("operation", models.CharField(max_length=200)),
                ("idempotency_key", models.CharField(max_length=300, unique=True)),
                ("pg_transaction_key", models.CharField(blank=True, max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[("PENDING", "Pending"), ("SUCCEEDED", "Succeeded"), ("FAILED", "Failed")],
                        default="PENDING",
                        max_length=10,
                    ),
                ),
                ("failure_code", models.CharField(blank=True, max_length=100)),
                ("failure_message", models.CharField(blank=True, max_length=500)),
                (
                    "refund_bank",
                    models.CharField(
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
                ("refund_account_number", models.CharField(blank=True, max_length=30)),
                ("refund_holder_name", models.CharField(blank=True, max_length=100)),
                ("requested_by", models.CharField(max_length=200)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("retry_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "db_table": "refunds",
                "ordering": ["-created_at"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="payment",
            name="payments_one_approved_per_order",
        ),
        migrations.AddField(
            model_name="payment",
            name="refunded_amount",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=10),
        ),
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=[
                    ("PENDING", "Pending"),
                    ("WAITING", "Waiting"),
                    ("APPROVED", "Approved"),
                    ("PARTIALLY_REFUNDED", "Partially Refunded"),
                    ("FAILED", "Failed"),
                    ("REFUNDED", "Refunded"),
                ],
                default="PENDING",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("APPROVED", "PARTIALLY_REFUNDED"))),
                fields=("order",),
                name="payments_one_approved_per_order",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("refunded_amount__gte", 0), ("refunded_amount__lte", models.F("amount"))),
                name="payments_refunded_within_amount",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="order",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="orders.order"),
        ),
        migrations.AddField(
            model_name="refund",
            name="payment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="refunds", to="payments.payment"
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["order", "created_at"], name="refunds_order_created_idx"),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["payment", "status"], name="refunds_payment_status_idx"),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["status", "retry_at"], name="refunds_status_retry_idx"),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["created_at"], name="refunds_created_idx"),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["operation"], name="refunds_operation_idx"),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(condition=models.Q(("amount__gt", 0)), name="refunds_amount_positive"),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["PENDING", "SUCCEEDED"])),
                fields=("operation",),
                name="refunds_one_live_per_operation",
            ),
        ),
    ]
