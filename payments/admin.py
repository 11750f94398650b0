from django.contrib import admin

from payments.models import Payment, PaymentEvent, WebhookEvent


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "detail", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    inlines = [PaymentEventInline]
    list_display = ["id", "order", "amount", "status", "provider", "failure_code", "created_at"]
    list_filter = ["status", "provider", "failure_code"]
    search_fields = ["id", "order__id", "pg_transaction_id"]
    date_hierarchy = "created_at"

    # Payments are a record of what the PG did: staff act through refunds, never by editing rows.
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["provider", "event_type", "event_id", "received_at", "processed_at"]
    list_filter = ["provider", "event_type"]
    search_fields = ["event_id"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
