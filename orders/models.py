import uuid

from django.db import models
from django.db.models import F, Q

from orders.constants import CancelReason, Carrier, OrderStatus, ReturnReason, ReturnStatus
from payments.constants import PaymentMethod


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="order_id")
    # By the order's day in shop time (KST) and its place in that day: 20261201-000123.
    order_number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    items_amount = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    total_amount = models.DecimalField(max_digits=10, decimal_places=2, help_text="items_amount + shipping_fee.")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    # A PENDING order expires then: minutes after placement for the widget, days for a virtual account.
    payment_due_at = models.DateTimeField()
    # Where it goes, as it was at checkout: later edits of the address book never change it.
    shipping_recipient = models.CharField(max_length=50, blank=True)
    shipping_phone = models.CharField(max_length=20, blank=True)
    shipping_postal_code = models.CharField(max_length=5, blank=True)
    shipping_road_address = models.CharField(max_length=200, blank=True)
    shipping_address_detail = models.CharField(max_length=100, blank=True)
    delivery_memo = models.CharField(max_length=100, blank=True)
    # The sum of the order's refunds that went through at the PG (payments' refund rows).
    refunded_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    # NULL, not "": orders placed without a key must never collide in the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    cancel_reason = models.CharField(max_length=30, choices=CancelReason.choices, blank=True)
    # Staff's view: the canceller's words (the customer's, staff's), a system's note, or the failing error's message.
    cancel_note = models.CharField(max_length=200, blank=True, help_text="The canceller's words, or what failed.")
    # The customer's view: the reason's label, with what failed when the placement failed.
    cancel_message = models.CharField(max_length=300, blank=True)
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
            models.CheckConstraint(
                condition=Q(total_amount=F("items_amount") + F("shipping_fee")), name="orders_total_is_items_plus_fee"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("total_amount")),
                name="orders_refunded_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="orders_customer_created_idx"),
            models.Index(fields=["customer", "status", "-created_at"], name="orders_customer_status_idx"),
            # The staff list by status.
            models.Index(fields=["status", "created_at"], name="orders_status_created_idx"),
            # Expiry of unpaid orders, each by its own deadline.
            models.Index(fields=["status", "payment_due_at"], name="orders_status_due_idx"),
            # Staff search by recipient and phone.
            models.Index(fields=["shipping_phone"], name="orders_shipping_phone_idx"),
            models.Index(fields=["shipping_recipient"], name="orders_shipping_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.order_number} ({self.status})"


class OrderNumberCounter(models.Model):
    """The last order number given out on a day (shop time): numbers are taken under its row lock."""

    day = models.DateField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "order_number_counters"

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}: {self.last_number}"


class OrderItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="order_item_id")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    # The product as it was at order time: a product renamed, re-imaged or taken off sale since still
    # shows in past orders as it was bought.
    product_name = models.CharField(max_length=200, blank=True)
    product_image_url = models.CharField(max_length=500, blank=True, help_text="The primary image's list size.")
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Unit price at order time.")
    # Units of the line cancelled before shipping, and returned after delivery: never more than ordered.
    cancelled_quantity = models.PositiveIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "order_items"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_items_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("cancelled_quantity") + F("returned_quantity")),
                name="order_items_cancelled_and_returned_within_quantity",
            ),
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
    # What the customer reads in the order's history; `actor` and `note` are staff's only.
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "order_events"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Cart(models.Model):
    """A customer's cart, kept between sessions (one per customer; checkout empties it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="cart_id")
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "carts"

    def __str__(self) -> str:
        return f"Cart of {self.customer_id}"


class CartItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="cart_item_id")
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # The catalog price when the line was added: the cart shows the customer a change since.
    price_when_added = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "cart_items"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_items_quantity_positive"),
            models.UniqueConstraint(fields=["cart", "product"], name="cart_items_one_line_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class Shipment(models.Model):
    """An order on its way: the carrier and its tracking number (송장번호), when it left and arrived."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="shipment_id")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shipment")
    carrier = models.CharField(max_length=30, choices=Carrier.choices)
    tracking_number = models.CharField(max_length=30)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.CharField(max_length=300, help_text="Who shipped it, as kind:identity.")

    class Meta:
        db_table = "shipments"
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="shipments_unique_tracking_number"),
        ]

    def __str__(self) -> str:
        return f"{self.get_carrier_display()} {self.tracking_number}"


class Return(models.Model):
    """A customer's request to send back some delivered lines, and its way to a refund."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="return_id")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    # The order's customer, kept here so that a customer's returns are listed without joining orders.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    reason = models.CharField(max_length=30, choices=ReturnReason.choices)
    reason_text = models.CharField(max_length=500, blank=True)
    staff_note = models.CharField(max_length=500, blank=True)
    # Kept from the refund when the reason is the customer's (RETURN_SHIPPING_FEE at the request).
    return_shipping_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    refund_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "returns"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="returns_customer_created_idx"),
            models.Index(fields=["status", "created_at"], name="returns_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Return {self.id} ({self.status})"


class ReturnItem(models.Model):
    id = models.BigAutoField(primary_key=True)
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    # Staff's call when the parcel arrives: resellable units go back on the shelf. None until received.
    resellable = models.BooleanField(null=True, blank=True)

    class Meta:
        db_table = "return_items"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_items_quantity_positive"),
            models.UniqueConstraint(fields=["return_request", "order_item"], name="return_items_one_per_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_item_id}"


class ReturnEvent(models.Model):
    """Append-only audit trail of a return's status changes."""

    id = models.BigAutoField(primary_key=True)
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, choices=ReturnStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=ReturnStatus.choices)
    actor = models.CharField(max_length=300, help_text="Who made the change, as kind:identity.")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "return_events"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"
