from django.contrib import admin
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, krw, status_badge
from orders import selectors, services
from orders.constants import OrderStatus
from orders.models import Cart, Order, OrderEvent, OrderItem

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
    list_display = [
        "order_number",
        "customer_email",
        "recipient",
        "status_badge",
        "payment_method",
        "total",
        "item_count",
        "created_at",
    ]
    list_filter = ["status", "payment_method", "created_at"]
    # Staff find an order by its number, who receives it and their phone, or by the customer.
    search_fields = ["order_number", "shipping_recipient", "shipping_phone", "id", "customer__email", "customer__name"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["order_number", "id", "customer", "status", "cancel_reason", "cancel_note"]}),
        (
            "Amounts and payment",
            {"fields": ["items_amount", "shipping_fee", "total_amount", "payment_method", "payment_due_at"]},
        ),
        (
            "Shipping (as it was at checkout)",
            {
                "fields": [
                    "shipping_recipient",
                    "shipping_phone",
                    "shipping_postal_code",
                    "shipping_road_address",
                    "shipping_address_detail",
                    "delivery_memo",
                ]
            },
        ),
        (None, {"fields": ["idempotency_key", "created_at", "updated_at"]}),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]
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

    @admin.display(ordering="shipping_recipient", description="recipient")
    def recipient(self, order):
        return order.shipping_recipient

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


# --- cart ---

CART_LINES_TABLE = (
    "<table><thead><tr><th>product</th><th>quantity</th><th>price now</th><th>price when added</th>"
    "<th>line total</th><th>flags</th></tr></thead><tbody>{}</tbody></table>"
)
CART_LINE_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'


def _cart_line_flags(line: selectors.CartLine) -> str:
    flags = [
        ("price changed", line.price_changed),
        ("not for sale", not line.available),
        ("stock short", line.stock_short),
    ]
    return ", ".join(name for name, raised in flags if raised) or "-"


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """What customers keep in their carts, for staff to look at: a cart changes only through its
    customer (the cart API) and the checkout that empties it, never here."""

    list_display = ["customer_email", "line_count", "unit_count", "updated_at", "created_at"]
    search_fields = ["customer__email", "customer__name"]
    date_hierarchy = "updated_at"
    fields = [
        "customer",
        "lines",
        "items_amount",
        "shipping_fee",
        "total",
        "checkout_ready",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    list_per_page = 50

    def get_queryset(self, request):
        carts = super().get_queryset(request).select_related("customer")
        return carts.annotate(line_count=Count("items"), unit_count=Sum("items__quantity"))

    def get_object(self, request, object_id, from_field=None):
        cart = super().get_object(request, object_id, from_field)
        if cart is not None:
            # As its customer sees it: current catalog prices, the flags, the amounts (two queries).
            cart.view = selectors.cart_view(customer_id=cart.customer_id)
        return cart

    @admin.display(ordering="customer__email", description="customer")
    def customer_email(self, cart):
        return cart.customer.email

    @admin.display(ordering="line_count", description="lines")
    def line_count(self, cart):
        return cart.line_count

    @admin.display(ordering="unit_count", description="units")
    def unit_count(self, cart):
        return cart.unit_count or 0

    @admin.display(description="lines")
    def lines(self, cart):
        if not cart.view.lines:
            return "empty"
        rows = format_html_join(
            "",
            CART_LINE_ROW,
            (
                (
                    reverse("admin:products_product_change", args=[line.product_id]),
                    line.name,
                    line.quantity,
                    krw(line.price),
                    krw(line.price_when_added),
                    krw(line.line_total),
                    _cart_line_flags(line),
                )
                for line in cart.view.lines
            ),
        )
        return format_html(CART_LINES_TABLE, rows)

    @admin.display(description="items amount (for sale)")
    def items_amount(self, cart):
        return krw(cart.view.items_amount)

    @admin.display(description="shipping fee")
    def shipping_fee(self, cart):
        return krw(cart.view.shipping_fee)

    @admin.display(description="total")
    def total(self, cart):
        return krw(cart.view.total_amount)

    @admin.display(boolean=True, description="ready for checkout")
    def checkout_ready(self, cart):
        return cart.view.checkout_ready

    # Staff look, never edit: the cart is its customer's.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
