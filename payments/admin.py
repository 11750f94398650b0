from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from c4ang.admin_actions import NoDeleteMixin
from c4ang.admin_display import Tone, krw, status_badge
from payments.constants import PaymentStatus, RefundStatus
from payments.models import Payment, PaymentEvent, Refund, WebhookEvent

STATUS_TONES = {
    PaymentStatus.PENDING: Tone.WAITING,
    PaymentStatus.WAITING: Tone.WAITING,
    PaymentStatus.APPROVED: Tone.GOOD,
    PaymentStatus.PARTIALLY_REFUNDED: Tone.UNDONE,
    PaymentStatus.FAILED: Tone.BAD,
    PaymentStatus.REFUNDED: Tone.UNDONE,
}

REFUND_TONES = {RefundStatus.PENDING: Tone.WAITING, RefundStatus.SUCCEEDED: Tone.GOOD, RefundStatus.FAILED: Tone.BAD}

REFUND_FIELDS = [
    "amount_krw",
    "reason",
    "status",
    "note",
    "operation",
    "idempotency_key",
    "pg_transaction_key",
    "failure_code",
    "failure_message",
    "requested_by",
    "attempts",
    "created_at",
    "updated_at",
]


class RefundInline(NoDeleteMixin, admin.TabularInline):
    """The payment's refunds with their PG ids: staff refund through the API (goodwill) or the order."""

    model = Refund
    extra = 0
    can_delete = False
    fields = REFUND_FIELDS
    readonly_fields = REFUND_FIELDS

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("amount"))
    def amount_krw(self, refund):
        return krw(refund.amount)


class PaymentEventInline(NoDeleteMixin, admin.TabularInline):
    """Every attempt and PG answer of the payment: append-only."""

    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "detail", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoDeleteMixin, admin.ModelAdmin):
    """A record of what a PG did: staff act through refunds, never by editing rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    inlines = [RefundInline, PaymentEventInline]
    list_display = [
        "short_id",
        "order_link",
        "amount_krw",
        "refunded_krw",
        "status_badge",
        "method",
        "virtual_account",
        "provider",
        "failure_code",
        "created_at",
    ]
    list_filter = ["status", "method", "provider", "bank", "failure_code", "created_at"]
    search_fields = ["id", "order__id", "pg_transaction_id", "idempotency_key", "account_number"]
    date_hierarchy = "created_at"
    # The account's secret authenticates the PG's deposit callbacks: staff never see it.
    exclude = ["secret"]
    fields = [
        "order",
        "customer",
        "amount_krw",
        "refunded_krw",
        "status",
        "method",
        "provider",
        "pg_transaction_id",
        "payment_key",
        "idempotency_key",
        "failure_code",
        "failure_text",
        "bank",
        "account_number",
        "holder_name",
        "due_at",
    ]
    readonly_fields = ["amount_krw", "refunded_krw", "failure_text"]

    @admin.display(description=_("payment"))
    def short_id(self, payment):
        return str(payment.id)[:8]

    @admin.display(description=_("order"))
    def order_link(self, payment):
        return str(payment.order_id)[:8]

    @admin.display(ordering="amount", description=_("amount"))
    def amount_krw(self, payment):
        return krw(payment.amount)

    @admin.display(description=_("failure message"))
    def failure_text(self, payment):
        return payment.failure_text

    @admin.display(ordering="refunded_amount", description=_("refunded"))
    def refunded_krw(self, payment):
        return krw(payment.refunded_amount)

    @admin.display(ordering="status", description=_("status"))
    def status_badge(self, payment):
        return status_badge(payment.status, payment.get_status_display(), STATUS_TONES)

    @admin.display(description=_("virtual account"))
    def virtual_account(self, payment):
        if not payment.account_number:
            return "-"
        account = f"{payment.bank_name} {payment.account_number}"
        if not payment.due_at:
            return account
        return gettext("%(account)s (due %(due)s KST)") % {
            "account": account,
            "due": f"{timezone.localtime(payment.due_at):%Y-%m-%d %H:%M}",
        }


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_type", "event_id", "received_at", "processed_at"]
    list_filter = ["provider", "event_type", "received_at"]
    search_fields = ["event_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Every refund: what was given back, why, and the PG's ids (its Idempotency-Key, transaction key)."""

    list_display = [
        "short_id",
        "payment_link",
        "order_link",
        "amount_krw",
        "reason",
        "status_badge",
        "pg_transaction_key",
        "attempts",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "reason", "created_at"]
    search_fields = ["id", "order__id", "payment__id", "operation", "idempotency_key", "pg_transaction_key"]
    date_hierarchy = "created_at"
    # The inline's, with what a page has room for: the payment and order, a virtual account's refund
    # account, and when an unanswered refund is asked again.
    fields = [
        "payment",
        "order",
        *REFUND_FIELDS,
        "refund_bank",
        "refund_account_number",
        "refund_holder_name",
        "retry_at",
    ]
    readonly_fields = ["amount_krw"]

    @admin.display(description=_("refund"))
    def short_id(self, refund):
        return str(refund.id)[:8]

    @admin.display(description=_("payment"))
    def payment_link(self, refund):
        return str(refund.payment_id)[:8]

    @admin.display(description=_("order"))
    def order_link(self, refund):
        return str(refund.order_id)[:8]

    @admin.display(ordering="amount", description=_("amount"))
    def amount_krw(self, refund):
        return krw(refund.amount)

    @admin.display(ordering="status", description=_("status"))
    def status_badge(self, refund):
        return status_badge(refund.status, refund.get_status_display(), REFUND_TONES)
