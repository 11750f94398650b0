import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.constants import CancelReason, Carrier, OrderStatus, ReturnReason, ReturnStatus
from payments.constants import PaymentMethod


class Order(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="order_id")
    # By the order's day in shop time (KST) and its place in that day: 20261201-000123.
    order_number = models.CharField(_("order number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    items_amount = models.DecimalField(_("items amount"), max_digits=10, decimal_places=2)
    shipping_fee = models.DecimalField(_("shipping fee"), max_digits=10, decimal_places=2, default=0)
    total_amount = models.DecimalField(
        _("total amount"), max_digits=10, decimal_places=2, help_text=_("items_amount + shipping_fee.")
    )
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    # A PENDING order expires then: minutes after placement for the widget, days for a virtual account.
    payment_due_at = models.DateTimeField(_("payment due"))
    # Where it goes, as it was at checkout: later edits of the address book never change it.
    shipping_recipient = models.CharField(_("recipient"), max_length=50, blank=True)
    shipping_phone = models.CharField(_("phone"), max_length=20, blank=True)
    shipping_postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    shipping_road_address = models.CharField(_("road address"), max_length=200, blank=True)
    shipping_address_detail = models.CharField(_("address detail"), max_length=100, blank=True)
    delivery_memo = models.CharField(_("delivery memo"), max_length=100, blank=True)
    # The sum of the order's refunds that went through at the PG (payments' refund rows).
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=10, decimal_places=2, default=0)
    # NULL, not "": orders placed without a key must never collide in the unique constraint.
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, null=True, blank=True)  # noqa: DJ001
    cancel_reason = models.CharField(_("cancel reason"), max_length=30, choices=CancelReason.choices, blank=True)
    # Staff's view: the canceller's words (the customer's, staff's), a system's note, or the failing error's message.
    cancel_note = models.CharField(
        _("cancel note"), max_length=200, blank=True, help_text=_("The canceller's words, or what failed.")
    )
    # The customer's view: the reason's label, with what failed when the placement failed.
    cancel_message = models.CharField(_("cancellation message"), max_length=300, blank=True)
    # True while the order holds its items' stock (reserved by the saga, released by its compensation).
    stock_reserved = models.BooleanField(_("stock reserved"), default=False)
    saga = models.ForeignKey(
        "saga.SagaInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("saga")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
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
        return gettext("Order %(number)s (%(status)s)") % {
            "number": self.order_number,
            "status": self.get_status_display(),
        }


class OrderNumberCounter(models.Model):
    """The last order number given out on a day (shop time): numbers are taken under its row lock."""

    day = models.DateField(_("day"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("order number counter")
        verbose_name_plural = _("order number counters")
        db_table = "order_number_counters"

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}: {self.last_number}"


class OrderItem(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="order_item_id")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("order"))
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    # The product as it was at order time: a product renamed, re-imaged or taken off sale since still
    # shows in past orders as it was bought.
    product_name = models.CharField(_("product name"), max_length=200, blank=True)
    product_image_url = models.CharField(
        _("product image URL"), max_length=500, blank=True, help_text=_("The primary image's list size.")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, help_text=_("Unit price at order time."))
    # Units of the line cancelled before shipping, and returned after delivery: never more than ordered.
    cancelled_quantity = models.PositiveIntegerField(_("cancelled quantity"), default=0)
    returned_quantity = models.PositiveIntegerField(_("returned quantity"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
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
        return f"{self.quantity} x {self.product_name or self.product_id}"


class OrderEvent(models.Model):
    """Append-only audit trail of an order's status changes."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    from_status = models.CharField(_("from status"), max_length=10, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=10, choices=OrderStatus.choices)
    actor = models.CharField(
        _("actor"), max_length=300, help_text=_("Who made the change, as kind:identity (staff:kim@c4ang.com).")
    )
    reason = models.CharField(_("reason"), max_length=30, choices=CancelReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # What the customer reads in the order's history; `actor` and `note` are staff's only.
    message = models.CharField(_("customer message"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        db_table = "order_events"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or '∅'} → {self.get_to_status_display()}"


class Cart(models.Model):
    """A customer's cart, kept between sessions (one per customer; checkout empties it)."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="cart_id")
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        db_table = "carts"

    def __str__(self) -> str:
        return gettext("Cart of %(customer)s") % {"customer": self.customer_id}


class CartItem(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="cart_item_id")
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items", verbose_name=_("cart"))
    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    # The catalog price when the line was added: the cart shows the customer a change since.
    price_when_added = models.DecimalField(_("price when added"), max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        db_table = "cart_items"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_items_quantity_positive"),
            models.UniqueConstraint(fields=["cart", "product"], name="cart_items_one_line_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name or self.product_id}"


class Shipment(models.Model):
    """An order on its way: the carrier and its tracking number (송장번호), when it left and arrived."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="shipment_id")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shipment", verbose_name=_("order"))
    carrier = models.CharField(_("carrier"), max_length=30, choices=Carrier.choices)
    tracking_number = models.CharField(_("tracking number"), max_length=30)
    shipped_at = models.DateTimeField(_("shipped at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    shipped_by = models.CharField(_("shipped by"), max_length=300, help_text=_("Who shipped it, as kind:identity."))

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        db_table = "shipments"
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="shipments_unique_tracking_number"),
        ]

    def __str__(self) -> str:
        return f"{self.get_carrier_display()} {self.tracking_number}"


class Return(models.Model):
    """A customer's request to send back some delivered lines, and its way to a refund."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="return_id")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns", verbose_name=_("order"))
    # The order's customer, kept here so that a customer's returns are listed without joining orders.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    reason = models.CharField(_("reason"), max_length=30, choices=ReturnReason.choices)
    reason_text = models.CharField(_("reason text"), max_length=500, blank=True)
    staff_note = models.CharField(_("staff note"), max_length=500, blank=True)
    # Kept from the refund when the reason is the customer's (RETURN_SHIPPING_FEE at the request).
    return_shipping_fee = models.DecimalField(_("return shipping fee"), max_digits=10, decimal_places=2, default=0)
    refund_amount = models.DecimalField(_("refund amount"), max_digits=10, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        db_table = "returns"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="returns_customer_created_idx"),
            models.Index(fields=["status", "created_at"], name="returns_status_created_idx"),
        ]

    def __str__(self) -> str:
        return gettext("Return %(id)s (%(status)s)") % {"id": self.id, "status": self.status}


class ReturnItem(models.Model):
    id = models.BigAutoField(_("ID"), primary_key=True)
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="items", verbose_name=_("return"))
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("order item"))
    quantity = models.PositiveIntegerField(_("quantity"))
    # Staff's call when the parcel arrives: resellable units go back on the shelf. None until received.
    resellable = models.BooleanField(_("resellable"), null=True, blank=True)

    class Meta:
        verbose_name = _("return item")
        verbose_name_plural = _("return items")
        db_table = "return_items"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_items_quantity_positive"),
            models.UniqueConstraint(fields=["return_request", "order_item"], name="return_items_one_per_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_item_id}"


class ReturnEvent(models.Model):
    """Append-only audit trail of a return's status changes."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    return_request = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="events", verbose_name=_("return")
    )
    from_status = models.CharField(_("from status"), max_length=10, choices=ReturnStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=10, choices=ReturnStatus.choices)
    actor = models.CharField(_("actor"), max_length=300, help_text=_("Who made the change, as kind:identity."))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("return event")
        verbose_name_plural = _("return events")
        db_table = "return_events"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or '∅'} → {self.get_to_status_display()}"
