from django.contrib import admin
from django.db.models import Count

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, krw, status_badge
from orders import services
from orders.constants import OrderStatus
from orders.models import Order, OrderEvent, OrderItem

STATUS_TONES = {
    OrderStatus.PENDING: Tone.WAITING,
    OrderStatus.PAID: Tone.GOOD,
    OrderStatus.SHIPPED: Tone.MOVING,
    OrderStatus.DELIVERED: Tone.DONE,
    OrderStatus.CANCELLED: Tone.BAD,
}


class OrderItemInline(NoDeleteMixin, admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ["product", "quantity", "unit_price", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description="unit price")
    def unit_price(self, item):
        return krw(item.price)

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(NoDeleteMixin, admin.TabularInline):
    """The status audit trail: append-only."""

    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "reason", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["short_id", "customer_email", "status_badge", "total", "item_count", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "customer__email", "customer__name"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "customer",
        "status",
        "total_amount",
        "cancel_reason",
        "cancel_note",
        "idempotency_key",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [OrderItemInline, OrderEventInline]
    list_per_page = 50
    actions = ["cancel_and_refund", "mark_shipped", "mark_delivered"]

    @admin.action(description="Cancel and refund (releases stock, refunds the payment)")
    def cancel_and_refund(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda order: services.order_cancel(order_id=order.pk, by=actor_of(request)),
            "Cancelled",
        )

    @admin.action(description="Mark shipped")
    def mark_shipped(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda order: services.order_status_change(
                order_id=order.pk, to_status=OrderStatus.SHIPPED, by=actor_of(request)
            ),
            "Marked shipped",
        )

    @admin.action(description="Mark delivered")
    def mark_delivered(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda order: services.order_status_change(
                order_id=order.pk, to_status=OrderStatus.DELIVERED, by=actor_of(request)
            ),
            "Marked delivered",
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer").annotate(item_count=Count("items"))

    @admin.display(description="order")
    def short_id(self, order):
        return str(order.id)[:8]

    @admin.display(ordering="customer__email", description="customer")
    def customer_email(self, order):
        return order.customer.email

    @admin.display(ordering="status", description="status")
    def status_badge(self, order):
        return status_badge(order.status, STATUS_TONES)

    @admin.display(ordering="total_amount", description="total")
    def total(self, order):
        return krw(order.total_amount)

    @admin.display(ordering="item_count", description="items")
    def item_count(self, order):
        return order.item_count

    # Orders change through the order services (actions), never by editing fields.
    def has_add_permission(self, request):
        return False
