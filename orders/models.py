import uuid

from django.db import models
from django.db.models import Q

from orders.constants import CancelReason, OrderStatus


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="order_id")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    total_amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    # NULL, not "": orders placed without a key must never collide in the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    cancel_reason = models.CharField(max_length=30, choices=CancelReason.choices, blank=True)
    cancel_note = models.CharField(max_length=200, blank=True, help_text="The canceller's words, or what failed.")
    # True while the order holds its items' stock (reserved by the saga, released by its compensation).
    stock_reserved = models.BooleanField(default=False)
    saga = models.ForeignKey("saga.SagaInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="orders_one_per_customer_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="orders_total_non_negative"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="orders_customer_created_idx"),
            # Expiry of unpaid orders and the staff list by status.
            models.Index(fields=["status", "created_at"], name="orders_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.id} ({self.status})"


class OrderItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="order_item_id")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Unit price at order time.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "order_items"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_items_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="order_items_price_non_negative"),
            models.UniqueConstraint(fields=["order", "product"], name="order_items_one_line_per_product"),
        ]
        # The recommendation job counts purchases per product over a window.
        indexes = [models.Index(fields=["product", "created_at"], name="order_items_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class OrderEvent(models.Model):
    """Append-only audit trail of an order's status changes."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    actor = models.CharField(max_length=300, help_text="Who made the change, as kind:identity (staff:kim@c4ang.com).")
    reason = models.CharField(max_length=30, choices=CancelReason.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "order_events"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"
