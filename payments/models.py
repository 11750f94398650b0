import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from c4ang.admin_display import krw
from payments.constants import (
    PAID_STATUSES,
    Bank,
    PaymentMethod,
    PaymentStatus,
    RefundReason,
    RefundStatus,
    own_failure_message,
)


class Payment(models.Model):
    """One payment attempt of an order at a PG; attempts are kept, never overwritten by a retry."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="payment_id")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    # The order's customer, kept here so that a customer's payments are found without the orders table.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    provider = models.CharField(_("payment gateway"), max_length=20)
    pg_transaction_id = models.CharField(_("PG transaction ID"), max_length=200, blank=True)
    # What the client paid with at the PG: Toss's paymentKey, or a test token of the fake sandbox.
    payment_key = models.CharField(_("payment key"), max_length=200, blank=True)
    # Created before the first call to the PG and reused on every retry of that call (one per attempt).
    idempotency_key = models.CharField(_("idempotency key"), max_length=300, unique=True)
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True)
    # A virtual account (가상계좌), as the PG issued it: where and by when the customer deposits.
    bank = models.CharField(_("bank"), max_length=3, choices=Bank.choices, blank=True)
    account_number = models.CharField(_("account number"), max_length=30, blank=True)
    holder_name = models.CharField(_("account holder"), max_length=100, blank=True)
    due_at = models.DateTimeField(_("deposit due"), null=True, blank=True)
    # The PG's secret of the account: its deposit callbacks carry it. Never shown, never logged.
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    # What its refunds (rows) took back, reserved when a refund is asked for and released when the
    # PG refuses it: never more than the amount (a DB check; refunds reserve with a conditional update).
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=10, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "payments"
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=PAID_STATUSES),
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
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="payments_refunded_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "status"], name="payments_order_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="payments_customer_created_idx"),
            models.Index(fields=["pg_transaction_id"], name="payments_pg_tx_idx"),
            models.Index(fields=["status", "created_at"], name="payments_status_created_idx"),
            models.Index(fields=["payment_key"], name="payments_payment_key_idx"),
        ]

    def __str__(self) -> str:
        return gettext("Payment %(id)s %(amount)s (%(status)s)") % {
            "id": self.id,
            "amount": krw(self.amount),
            "status": self.get_status_display(),
        }

    @property
    def failure_text(self) -> str:
        """Why it failed, for a person: our words for our own codes (in the reader's language), else
        the PG's."""
        return own_failure_message(self.failure_code) or self.failure_message

    @property
    def bank_name(self) -> str:
        return Bank(self.bank).label if self.bank in Bank.values else self.bank


class PaymentEvent(models.Model):
    """Append-only audit trail of a payment: every call to the PG and its outcome."""

    class Kind(models.TextChoices):
        REQUESTED = "REQUESTED", pgettext_lazy("payment event", "Requested")
        APPROVED = "APPROVED", pgettext_lazy("payment event", "Approved")
        # A virtual account: issued (open for its deposit), then paid into.
        ISSUED = "ISSUED", pgettext_lazy("payment event", "Account issued")
        DEPOSITED = "DEPOSITED", pgettext_lazy("payment event", "Deposited")
        DECLINED = "DECLINED", pgettext_lazy("payment event", "Declined")
        TIMED_OUT = "TIMED_OUT", pgettext_lazy("payment event", "Timed out")
        REFUND_REQUESTED = "REFUND_REQUESTED", pgettext_lazy("payment event", "Refund requested")
        REFUNDED = "REFUNDED", pgettext_lazy("payment event", "Refunded")
        REFUND_FAILED = "REFUND_FAILED", pgettext_lazy("payment event", "Refund failed")
        VOIDED = "VOIDED", pgettext_lazy("payment event", "Voided")
        SYNCED = "SYNCED", pgettext_lazy("payment event", "Synced with the PG")

    id = models.BigAutoField(_("ID"), primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events", verbose_name=_("payment"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    detail = models.JSONField(_("detail"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "payment_events"
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.payment_id}"


class Refund(models.Model):
    """Money given back on a payment, or part of it: one business operation (a partial cancel, a
    return, the cancellation, a goodwill refund, a cancel the PG reported) and its call to the PG.

    Its Idempotency-Key is created and committed with the row before the PG is called and reused on
    every retry, so that a refund whose answer was lost is asked again and never made twice.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="refund_id")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment"))
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=20, choices=RefundReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The business operation it refunds (partial-cancel:<id>, return:<id>, ...): one live refund each.
    operation = models.CharField(_("operation"), max_length=200)
    idempotency_key = models.CharField(_("idempotency key"), max_length=300, unique=True)
    # Toss's cancels[].transactionKey of this refund, once the PG answered.
    pg_transaction_key = models.CharField(_("PG transaction key"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True)
    # Where a deposited virtual account's money goes back (Toss's refundReceiveAccount), when given.
    refund_bank = models.CharField(_("refund bank"), max_length=3, choices=Bank.choices, blank=True)
    refund_account_number = models.CharField(_("refund account number"), max_length=30, blank=True)
    refund_holder_name = models.CharField(_("refund account holder"), max_length=100, blank=True)
    requested_by = models.CharField(_("requested by"), max_length=200)
    # Calls made to the PG for it, and (PENDING) when recovery may ask again: the lease of one asker.
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "refunds"
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refunds_amount_positive"),
            # A refused refund moved nothing: the operation may be asked again, as a new row.
            models.UniqueConstraint(
                fields=["operation"],
                condition=Q(status__in=[RefundStatus.PENDING, RefundStatus.SUCCEEDED]),
                name="refunds_one_live_per_operation",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "created_at"], name="refunds_order_created_idx"),
            models.Index(fields=["payment", "status"], name="refunds_payment_status_idx"),
            models.Index(fields=["status", "retry_at"], name="refunds_status_retry_idx"),
            models.Index(fields=["created_at"], name="refunds_created_idx"),
            models.Index(fields=["operation"], name="refunds_operation_idx"),
        ]

    def __str__(self) -> str:
        return gettext("Refund %(id)s %(amount)s (%(status)s)") % {
            "id": self.id,
            "amount": krw(self.amount),
            "status": self.get_status_display(),
        }


class WebhookEvent(models.Model):
    """A PG webhook delivery, stored by the PG's event id so that a resent delivery is processed once."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    provider = models.CharField(_("payment gateway"), max_length=20)
    event_id = models.CharField(_("event ID"), max_length=200)
    event_type = models.CharField(_("event type"), max_length=100)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        db_table = "payment_webhook_events"
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payment_webhooks_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
