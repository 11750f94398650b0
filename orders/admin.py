import csv
import io
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, krw, status_badge
from c4ang.errors import DomainError
from orders import carriers, errors, history, selectors, services
from orders.constants import Carrier, OrderStatus, ReturnStatus
from orders.models import Cart, Order, OrderEvent, OrderItem, Return, ReturnEvent, ReturnItem, Shipment

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
    fields = [
        "product",
        "product_name",
        "quantity",
        "cancelled_quantity",
        "returned_quantity",
        "unit_price",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description=_("unit price"))
    def unit_price(self, item):
        return krw(item.price)

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(NoDeleteMixin, admin.TabularInline):
    """The status audit trail: append-only."""

    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "reason", "note", "customer_message"]
    readonly_fields = fields

    @admin.display(description=_("customer message"))
    def customer_message(self, event):
        # Stored in English; staff read it as the customer does, in their own language.
        return history.readable(event.message)

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
        (
            None,
            {
                "fields": [
                    "order_number",
                    "id",
                    "customer",
                    "status",
                    "cancel_reason",
                    "cancel_note",
                    "cancellation_message",
                ]
            },
        ),
        (
            _("Amounts and payment"),
            {
                "fields": [
                    "items_amount_shown",
                    "shipping_fee_shown",
                    "total_amount_shown",
                    "refunded_amount_shown",
                    "payment_method",
                    "payment_due_at",
                ]
            },
        ),
        # The parcel, once shipped (orders.admin's fulfilment section), and the partial cancellation.
        (_("Shipment"), {"fields": ["shipment_carrier", "shipment_tracking", "shipment_dates", "cancel_lines_link"]}),
        (
            _("Shipping (as it was at checkout)"),
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

    @admin.action(description=_("Cancel and refund (releases stock, refunds the payment)"))
    def cancel_and_refund(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda order: services.order_cancel(order_id=order.pk, by=actor_of(request)),
            pgettext("admin action done", "Cancelled"),
        )

    @admin.action(description=_("Ship with carrier and tracking number …"))
    def mark_shipped(self, request, queryset):
        # Each order needs its own tracking number: the bulk-ship page, with the selected orders' rows.
        return bulk_ship_page(self, request, initial_orders=queryset)

    @admin.action(description=_("Mark delivered"))
    def mark_delivered(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda order: services.order_mark_delivered(order_id=order.pk, by=actor_of(request)),
            pgettext("admin action done", "Marked delivered"),
        )

    def get_urls(self):
        return fulfilment_urls(self) + super().get_urls()

    def get_queryset(self, request):
        orders = super().get_queryset(request).select_related("customer", "shipment")
        return orders.annotate(item_count=Count("items"))

    @admin.display(description=Order._meta.get_field("items_amount").verbose_name)
    def items_amount_shown(self, order):
        return krw(order.items_amount)

    @admin.display(description=Order._meta.get_field("shipping_fee").verbose_name)
    def shipping_fee_shown(self, order):
        return krw(order.shipping_fee)

    @admin.display(description=Order._meta.get_field("total_amount").verbose_name)
    def total_amount_shown(self, order):
        return krw(order.total_amount)

    @admin.display(description=Order._meta.get_field("refunded_amount").verbose_name)
    def refunded_amount_shown(self, order):
        return krw(order.refunded_amount)

    @admin.display(description=_("cancellation message"))
    def cancellation_message(self, order):
        # Stored in English; staff read it as the customer does, in their own language.
        return history.readable(order.cancel_message)

    @admin.display(description=_("carrier"))
    def shipment_carrier(self, order):
        return carrier_name(shipment_of(order))

    @admin.display(description=_("tracking number"))
    def shipment_tracking(self, order):
        return tracking_link(shipment_of(order))

    @admin.display(description=_("shipped / delivered"))
    def shipment_dates(self, order):
        return shipment_dates(shipment_of(order))

    @admin.display(description=_("partial cancellation"))
    def cancel_lines_link(self, order):
        return cancel_lines_link(order)

    @admin.display(ordering="shipping_recipient", description=_("recipient"))
    def recipient(self, order):
        return order.shipping_recipient

    @admin.display(ordering="customer__email", description=_("customer"))
    def customer_email(self, order):
        return order.customer.email

    @admin.display(ordering="status", description=_("status"))
    def status_badge(self, order):
        return status_badge(order.status, order.get_status_display(), STATUS_TONES)

    @admin.display(ordering="total_amount", description=_("total"))
    def total(self, order):
        return krw(order.total_amount)

    @admin.display(ordering="item_count", description=_("items"))
    def item_count(self, order):
        return order.item_count

    # Orders change through the order services (actions), never by editing fields.
    def has_add_permission(self, request):
        return False


# --- cart ---

CART_LINES_TABLE = (
    "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
    "<tbody>{}</tbody></table>"
)
CART_LINES_COLUMNS = (
    _("product"),
    _("quantity"),
    _("price now"),
    _("price when added"),
    _("line total"),
    _("flags"),
)
CART_LINE_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'


def _cart_line_flags(line: selectors.CartLine) -> str:
    flags = [
        (gettext("price changed"), line.price_changed),
        (gettext("not for sale"), not line.available),
        (gettext("stock short"), line.stock_short),
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

    @admin.display(ordering="customer__email", description=_("customer"))
    def customer_email(self, cart):
        return cart.customer.email

    @admin.display(ordering="line_count", description=_("lines"))
    def line_count(self, cart):
        return cart.line_count

    @admin.display(ordering="unit_count", description=_("units"))
    def unit_count(self, cart):
        return cart.unit_count or 0

    @admin.display(description=_("lines"))
    def lines(self, cart):
        if not cart.view.lines:
            return gettext("empty")
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
        return format_html(CART_LINES_TABLE, *CART_LINES_COLUMNS, rows)

    @admin.display(description=_("items amount (for sale)"))
    def items_amount(self, cart):
        return krw(cart.view.items_amount)

    @admin.display(description=_("shipping fee"))
    def shipping_fee(self, cart):
        return krw(cart.view.shipping_fee)

    @admin.display(description=_("total"))
    def total(self, cart):
        return krw(cart.view.total_amount)

    @admin.display(boolean=True, description=_("ready for checkout"))
    def checkout_ready(self, cart):
        return cart.view.checkout_ready

    # Staff look, never edit: the cart is its customer's.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- returns ---

RETURN_STATUS_TONES = {
    ReturnStatus.REQUESTED: Tone.WAITING,
    ReturnStatus.APPROVED: Tone.MOVING,
    ReturnStatus.REJECTED: Tone.BAD,
    ReturnStatus.RECEIVED: Tone.WORKING,
    ReturnStatus.REFUNDED: Tone.DONE,
}


class ReturnItemInline(NoDeleteMixin, admin.TabularInline):
    model = ReturnItem
    extra = 0
    can_delete = False
    fields = ["product", "quantity", "unit_price", "resellable"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_item__product")

    @admin.display(description=_("product"))
    def product(self, item):
        return item.order_item.product

    @admin.display(description=_("unit price"))
    def unit_price(self, item):
        return krw(item.order_item.price)

    def has_add_permission(self, request, obj=None):
        return False


class ReturnEventInline(NoDeleteMixin, admin.TabularInline):
    """The return's status audit trail: append-only."""

    model = ReturnEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ReturnNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the customer."),
    )


@admin.register(Return)
class ReturnAdmin(NoDeleteMixin, admin.ModelAdmin):
    """The returns queue: filter by status (REQUESTED waits for a decision, APPROVED for its parcel,
    RECEIVED for its refund); every step goes through the return services."""

    list_display = ["__str__", "order_link", "customer_email", "status_badge", "reason", "refund", "created_at"]
    list_filter = ["status", "reason", "created_at"]
    list_select_related = ["order", "customer"]
    search_fields = ["id", "order__order_number", "customer__email"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "order",
        "customer",
        "status",
        "reason",
        "reason_text",
        "staff_note",
        "return_shipping_fee_shown",
        "refund_amount_shown",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [ReturnItemInline, ReturnEventInline]
    list_per_page = 50
    actions = ["approve", "reject", "receive_resellable", "receive_not_resellable", "refund_return"]

    @admin.action(description=_("Approve (the customer sends the parcel back)"))
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda found: services.return_approve(return_id=found.pk, by=actor_of(request)),
            pgettext("admin action done", "Approved"),
        )

    @admin.action(description=_("Reject, with a note for the customer"))
    def reject(self, request, queryset):
        form = ReturnNoteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            run_for_each(
                self,
                request,
                queryset,
                lambda found: services.return_reject(
                    return_id=found.pk, by=actor_of(request), note=form.cleaned_data["note"]
                ),
                pgettext("admin action done", "Rejected"),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reject returns"),
            "form": form,
            "returns": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/reject_returns.html", context)

    def _receive(self, request, queryset, *, resellable: bool, done: str) -> None:
        def receive(found):
            lines = selectors.return_get(return_id=found.pk).items.all()
            decisions = {line.order_item_id: resellable for line in lines}
            services.return_receive(return_id=found.pk, resellable=decisions, by=actor_of(request))

        run_for_each(self, request, queryset, receive, done)

    @admin.action(description=_("Mark received, every line resellable (back in stock)"))
    def receive_resellable(self, request, queryset):
        self._receive(request, queryset, resellable=True, done=pgettext("admin action done", "Received, back in stock"))

    @admin.action(description=_("Mark received, no line resellable (written off)"))
    def receive_not_resellable(self, request, queryset):
        self._receive(request, queryset, resellable=False, done=pgettext("admin action done", "Received, written off"))

    @admin.action(description=_("Refund (the items less the return shipping fee, at the PG)"))
    def refund_return(self, request, queryset):
        def refund(found):
            if services.return_refund(return_id=found.pk, by=actor_of(request)).status != ReturnStatus.REFUNDED:
                message = gettext("%(return)s: the PG has not answered yet; recovery retries it.") % {"return": found}
                self.message_user(request, message, messages.INFO)

        run_for_each(self, request, queryset, refund, pgettext("admin action done", "Refund asked for"))

    @admin.display(ordering="order__order_number", description=_("order"))
    def order_link(self, found):
        url = reverse("admin:orders_order_change", args=[found.order_id])
        return format_html('<a href="{}">{}</a>', url, found.order.order_number)

    @admin.display(ordering="customer__email", description=_("customer"))
    def customer_email(self, found):
        return found.customer.email

    @admin.display(ordering="status", description=_("status"))
    def status_badge(self, found):
        return status_badge(found.status, found.get_status_display(), RETURN_STATUS_TONES)

    @admin.display(ordering="refund_amount", description=_("refund amount"))
    def refund(self, found):
        return krw(found.refund_amount)

    @admin.display(description=Return._meta.get_field("return_shipping_fee").verbose_name)
    def return_shipping_fee_shown(self, found):
        return krw(found.return_shipping_fee)

    @admin.display(description=Return._meta.get_field("refund_amount").verbose_name)
    def refund_amount_shown(self, found):
        return krw(found.refund_amount)

    # Customers ask for returns (the API); staff move them on through the actions, never by editing.
    def has_add_permission(self, request):
        return False


class OrderReturnInline(NoDeleteMixin, admin.TabularInline):
    """The order's returns, each linked to its page in the returns queue."""

    model = Return
    extra = 0
    can_delete = False
    fields = ["return_link", "status", "reason", "refund", "created_at"]
    readonly_fields = fields

    @admin.display(description=Return._meta.get_field("refund_amount").verbose_name)
    def refund(self, found):
        return krw(found.refund_amount)

    @admin.display(description=_("return"))
    def return_link(self, found):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_return_change", args=[found.pk]), found)

    def has_add_permission(self, request, obj=None):
        return False


# The order page lists its returns below its items and audit trail.
OrderAdmin.inlines = [*OrderAdmin.inlines, OrderReturnInline]


# --- fulfilment ---


def shipment_of(order: Order) -> Shipment | None:
    # Selected with the order (get_queryset): no query, also when it has none.
    return getattr(order, "shipment", None)


def carrier_name(shipment: Shipment | None) -> str:
    return "-" if shipment is None else shipment.get_carrier_display()


def tracking_link(shipment: Shipment | None) -> str:
    if shipment is None:
        return "-"
    url = carriers.tracking_url(carrier=shipment.carrier, tracking_number=shipment.tracking_number)
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, shipment.tracking_number)


def _kst(moment) -> str:
    # The shop's time (TIME_ZONE, Asia/Seoul), with its name: staff read every time in KST.
    return f"{date_format(localtime(moment), 'Y-m-d H:i')} KST"


def shipment_dates(shipment: Shipment | None) -> str:
    if shipment is None:
        return gettext("not shipped")
    delivered = _kst(shipment.delivered_at) if shipment.delivered_at else gettext("on its way")
    return gettext("%(shipped)s / %(delivered)s (by %(by)s)") % {
        "shipped": _kst(shipment.shipped_at),
        "delivered": delivered,
        "by": shipment.shipped_by,
    }


def cancel_lines_link(order: Order) -> str:
    if order.status != OrderStatus.PAID:
        return gettext("only a PAID order's lines can be cancelled")
    url = reverse("admin:orders_order_cancel_lines", args=[order.pk])
    return format_html('<a class="button" href="{}">{}</a>', url, gettext("Cancel lines …"))


class BulkShipForm(forms.Form):
    rows = forms.CharField(
        label=_("Rows"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text=_("One order a line: order_number,carrier,tracking_number (the carrier by code or name)."),
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("Or a CSV file of those rows (UTF-8, or CP949 as Excel saves it)."),
    )

    def clean(self):
        data = super().clean()
        if not data.get("rows", "").strip() and not data.get("file"):
            raise forms.ValidationError(gettext("Paste the rows or choose a CSV file."))
        return data

    def csv_rows(self) -> list[list[str]]:
        upload = self.cleaned_data.get("file")
        if upload is None:
            text = self.cleaned_data["rows"]
        else:
            raw = upload.read(BULK_SHIP_MAX_BYTES + 1)
            if len(raw) > BULK_SHIP_MAX_BYTES:
                message = gettext("A bulk-ship file is at most %(size)d KB.") % {"size": BULK_SHIP_MAX_BYTES // 1024}
                raise forms.ValidationError(message)
            text = _decoded(raw)
        return list(csv.reader(io.StringIO(text)))


# A thousand rows of order number, carrier and tracking number fit in well under this.
BULK_SHIP_MAX_BYTES = 256 * 1024


def _decoded(raw: bytes) -> str:
    """Excel saves a Korean CSV in CP949 unless told UTF-8 (then with a byte-order mark)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp949")
        except UnicodeDecodeError:
            raise forms.ValidationError(gettext("The file is neither UTF-8 nor CP949 text.")) from None


def bulk_ship_page(modeladmin, request, initial_orders=None):
    """Ship orders from pasted or uploaded CSV rows, each through order_ship, with a result a row.
    Opened from the changelist's action, it starts with a row of each selected order to complete."""
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied
    results = None
    if initial_orders is not None:
        rows = "".join(f"{order.order_number},,\n" for order in initial_orders.order_by("order_number"))
        form = BulkShipForm(initial={"rows": rows})
    else:
        form = BulkShipForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                results = services.order_ship_bulk(rows=form.csv_rows(), by=actor_of(request))
            except forms.ValidationError as refused:
                form.add_error("file", refused)
            except errors.BulkShipTooLarge as refused:
                form.add_error(None, refused.message)
            else:
                shipped = sum(result.ok for result in results)
                level = messages.SUCCESS if shipped == len(results) else messages.WARNING
                message = ngettext(
                    "Shipped %(shipped)d of %(count)d row.", "Shipped %(shipped)d of %(count)d rows.", len(results)
                )
                modeladmin.message_user(request, message % {"shipped": shipped, "count": len(results)}, level)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Ship orders"),
        "opts": modeladmin.model._meta,
        "form": form,
        "results": results,
        "carriers": Carrier.choices,
        "max_rows": services.BULK_SHIP_MAX_ROWS,
    }
    return TemplateResponse(request, "admin/orders/bulk_ship.html", context)


def _units_asked(request, items) -> dict:
    """The units to cancel a line, from the form's number inputs (empty is none)."""
    lines = {}
    for item in items:
        units = request.POST.get(f"cancel_{item.pk}", "").strip() or "0"
        if not units.isdigit():
            message = gettext("%(product)s: %(units)s is not a number of units.")
            raise errors.CancelQuantityExceeded(message % {"product": item.product.name, "units": repr(units)})
        if int(units):
            lines[item.pk] = int(units)
    if not lines:
        raise errors.CancelQuantityExceeded(gettext("Give the units to cancel of at least one line."))
    return lines


def cancel_lines_page(modeladmin, request, object_id):
    """Staff cancel units of a PAID order's lines (order_cancel_lines): a quantity a line, a reason."""
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied
    try:
        order = selectors.order_get_with_events(order_id=uuid.UUID(object_id))
    except (ValueError, errors.OrderNotFound):
        raise Http404(gettext("No such order.")) from None
    items = list(order.items.select_related("product").order_by("created_at", "id"))
    if request.method == "POST":
        try:
            lines = _units_asked(request, items)
            order = services.order_cancel_lines(
                order_id=order.pk, lines=lines, by=actor_of(request), note=request.POST.get("reason", "")[:150]
            )
        except DomainError as refused:
            modeladmin.message_user(request, f"{order}: {refused.code}: {refused.message}", messages.ERROR)
        else:
            whole = order.status == OrderStatus.CANCELLED
            done = gettext("The order was cancelled whole.") if whole else gettext("Lines cancelled.")
            modeladmin.message_user(request, done, messages.SUCCESS)
            return redirect("admin:orders_order_change", order.pk)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Cancel lines of %(number)s") % {"number": order.order_number},
        "opts": modeladmin.model._meta,
        "order": order,
        "lines": [
            (item, item.quantity - item.cancelled_quantity - item.returned_quantity, krw(item.price)) for item in items
        ],
    }
    return TemplateResponse(request, "admin/orders/cancel_lines.html", context)


def fulfilment_urls(modeladmin) -> list:
    """Before the model admin's own: its `<object_id>/` pattern would take `ship/`."""
    site = modeladmin.admin_site
    return [
        path("ship/", site.admin_view(lambda request: bulk_ship_page(modeladmin, request)), name="orders_order_ship"),
        path(
            "<path:object_id>/cancel-lines/",
            site.admin_view(lambda request, object_id: cancel_lines_page(modeladmin, request, object_id)),
            name="orders_order_cancel_lines",
        ),
    ]
