from django.contrib import admin
from django.utils import timezone

from c4ang.admin_actions import NoDeleteMixin
from c4ang.admin_display import Tone, krw, status_badge
from payments.constants import PaymentStatus
from payments.models import Payment, PaymentEvent, WebhookEvent

STATUS_TONES = {
    PaymentStatus.PENDING: Tone.WAITING,
    PaymentStatus.WAITING: Tone.WAITING,
    PaymentStatus.APPROVED: Tone.GOOD,
    PaymentStatus.FAILED: Tone.BAD,
    PaymentStatus.REFUNDED: Tone.UNDONE,
}


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
    inlines = [PaymentEventInline]
    list_display = [
        "short_id",
        "order_link",
        "amount_krw",
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

    @admin.display(description="payment")
    def short_id(self, payment):
        return str(payment.id)[:8]

    @admin.display(description="order")
    def order_link(self, payment):
        return str(payment.order_id)[:8]

    @admin.display(ordering="amount", description="amount")
    def amount_krw(self, payment):
        return krw(payment.amount)

    @admin.display(ordering="status", description="status")
    def status_badge(self, payment):
        return status_badge(payment.status, STATUS_TONES)

    @admin.display(description="virtual account")
    def virtual_account(self, payment):
        if not payment.account_number:
            return "-"
        due = f" (due {timezone.localtime(payment.due_at):%Y-%m-%d %H:%M})" if payment.due_at else ""
        return f"{payment.bank_name} {payment.account_number}{due}"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_type", "event_id", "received_at", "processed_at"]
    list_filter = ["provider", "event_type", "received_at"]
    search_fields = ["event_id"]
