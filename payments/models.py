import uuid

from django.db import models
from django.db.models import Q

from payments.constants import Bank, PaymentMethod, PaymentStatus


class Payment(models.Model):
    """One payment attempt of an order at a PG; attempts are kept, never overwritten by a retry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="payment_id")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    # The order's customer, kept here so that a customer's payments are found without the orders table.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    provider = models.CharField(max_length=20)
    pg_transaction_id = models.CharField(max_length=200, blank=True)
    # What the client paid with at the PG: Toss's paymentKey, or a test token of the fake sandbox.
    payment_key = models.CharField(max_length=200, blank=True)
    # Created before the first call to the PG and reused on every retry of that call (one per attempt).
    idempotency_key = models.CharField(max_length=300, unique=True)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # A virtual account (가상계좌), as the PG issued it: where and by when the customer deposits.
    bank = models.CharField(max_length=3, choices=Bank.choices, blank=True)
    account_number = models.CharField(max_length=30, blank=True)
    holder_name = models.CharField(max_length=100, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # The PG's secret of the account: its deposit callbacks carry it. Never shown, never logged.
    secret = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payments"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status=PaymentStatus.APPROVED),
                name="payments_one_approved_per_order",
            ),
            # One account open for deposits per order: another is issued only after it is cancelled.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status=PaymentStatus.WAITING),
                name="payments_one_waiting_per_order",
            ),
            # An attempt is the order paid with one paymentKey; its retries reuse the row and its key.
            models.UniqueConstraint(fields=["order", "payment_key"], name="payments_one_attempt_per_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payments_amount_non_negative"),
        ]
        indexes = [
            models.Index(fields=["order", "status"], name="payments_order_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="payments_customer_created_idx"),
            models.Index(fields=["pg_transaction_id"], name="payments_pg_tx_idx"),
            models.Index(fields=["status", "created_at"], name="payments_status_created_idx"),
            models.Index(fields=["payment_key"], name="payments_payment_key_idx"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.id} {self.amount} ({self.status})"

    @property
    def bank_name(self) -> str:
        return Bank(self.bank).label if self.bank in Bank.values else self.bank


class PaymentEvent(models.Model):
    """Append-only audit trail of a payment: every call to the PG and its outcome."""

    class Kind(models.TextChoices):
        REQUESTED = "REQUESTED"
        APPROVED = "APPROVED"
        # A virtual account: issued (open for its deposit), then paid into.
        ISSUED = "ISSUED"
        DEPOSITED = "DEPOSITED"
        DECLINED = "DECLINED"
        TIMED_OUT = "TIMED_OUT"
        REFUND_REQUESTED = "REFUND_REQUESTED"
        REFUNDED = "REFUNDED"
        REFUND_FAILED = "REFUND_FAILED"
        VOIDED = "VOIDED"
        SYNCED = "SYNCED"

    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payment_events"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.payment_id}"


class WebhookEvent(models.Model):
    """A PG webhook delivery, stored by the PG's event id so that a resent delivery is processed once."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payment_webhook_events"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payment_webhooks_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
