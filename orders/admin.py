from django.contrib import admin

from orders.models import Order, OrderEvent, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["product", "quantity", "price", "created_at"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "actor", "note", "created_at"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status", "total_amount", "created_at"]
    list_select_related = ["customer"]
    list_filter = ["status"]
    search_fields = ["id", "customer__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "customer", "total_amount", "idempotency_key", "created_at", "updated_at"]
    inlines = [OrderItemInline, OrderEventInline]
