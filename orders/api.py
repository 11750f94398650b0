"""The orders API: customers place, list, view and cancel their own orders; staff see all and ship."""

import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.address import ShippingAddressInputSerializer
from c4ang.api.fields import MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import FilteredListApi
from customers import errors as customer_errors
from customers import selectors as customer_selectors
from orders import carriers, errors, selectors, services
from orders.constants import CancelReason, Carrier, OrderStatus, ReturnReason, ReturnStatus
from payments import errors as payment_errors
from payments import selectors as payment_selectors
from payments.constants import Bank, PaymentMethod
from products import errors as product_errors

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Replays with the same key return the same order instead of placing another one.",
)


class OrderItemOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    quantity = serializers.IntegerField()
    price = MoneyField()
    cancelled_quantity = serializers.IntegerField(help_text="Units cancelled before shipping (partial cancellation).")
    returned_quantity = serializers.IntegerField(help_text="Units returned after delivery.")


class OrderShippingOutputSerializer(serializers.Serializer):
    """Where the order goes, as it was at checkout (later address book edits never change it)."""

    recipient = serializers.CharField(source="shipping_recipient")
    phone = serializers.CharField(source="shipping_phone")
    postal_code = serializers.CharField(source="shipping_postal_code")
    road_address = serializers.CharField(source="shipping_road_address")
    detail = serializers.CharField(source="shipping_address_detail")
    delivery_memo = serializers.CharField()


class OrderVirtualAccountOutputSerializer(serializers.Serializer):
    """Where the customer deposits the total, until `due_at` (then the order expires)."""

    bank = serializers.CharField(help_text="The bank's code (Toss's), e.g. 88.")
    bank_name = serializers.CharField(help_text="e.g. 신한")
    account_number = serializers.CharField()
    holder_name = serializers.CharField(help_text="The account holder's name the bank shows.")
    due_at = serializers.DateTimeField()


class ShipmentOutputSerializer(serializers.Serializer):
    """The parcel on its way: the carrier, its tracking number (송장번호) and the carrier's tracking page."""

    carrier = serializers.ChoiceField(choices=Carrier.choices, help_text="The carrier's code, e.g. kr.cjlogistics.")
    carrier_name = serializers.CharField(source="get_carrier_display", help_text="e.g. CJ대한통운")
    tracking_number = serializers.CharField()
    tracking_url = serializers.SerializerMethodField(help_text="The carrier's public tracking page of the parcel.")
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)

    def get_tracking_url(self, shipment) -> str:
        return carriers.tracking_url(carrier=shipment.carrier, tracking_number=shipment.tracking_number)


# The context key of the orders' virtual accounts, read once for a whole list.
VIRTUAL_ACCOUNTS = "virtual_accounts"


def virtual_accounts_of(orders) -> dict:
    """The virtual accounts of those orders paid by one, by order id: one query, none without such an order."""
    order_ids = [order.pk for order in orders if order.payment_method == PaymentMethod.VIRTUAL_ACCOUNT]
    return payment_selectors.virtual_accounts_for_orders(order_ids=order_ids) if order_ids else {}


class OrderListOutputSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        orders = list(data.all() if hasattr(data, "all") else data)
        self.context.setdefault(VIRTUAL_ACCOUNTS, virtual_accounts_of(orders))
        return super().to_representation(orders)


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_number = serializers.CharField(help_text="YYYYMMDD-NNNNNN: the day placed (KST) and its place that day.")
    status = serializers.CharField()
    items_amount = MoneyField(help_text="The items at their prices when ordered.")
    shipping_fee = MoneyField()
    total_amount = MoneyField(help_text="items_amount + shipping_fee: what is paid.")
    refunded_amount = MoneyField(help_text="What went back to the customer: refunds the PG completed.")
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    payment_due_at = serializers.DateTimeField(help_text="A PENDING order not paid by then is cancelled.")
    shipping = OrderShippingOutputSerializer(source="*")
    virtual_account = serializers.SerializerMethodField(
        help_text="Paid by virtual account: where to deposit; null otherwise (or while it is not issued)."
    )
    cancel_reason = serializers.ChoiceField(choices=CancelReason.choices, allow_blank=True)
    cancel_note = serializers.CharField()
    items = OrderItemOutputSerializer(many=True)
    shipment = serializers.SerializerMethodField(help_text="Once shipped: carrier and tracking; null before.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        list_serializer_class = OrderListOutputSerializer

    @extend_schema_field(ShipmentOutputSerializer(allow_null=True))
    def get_shipment(self, order) -> dict | None:
        # Selected with the order (orders.selectors): no query, also when it has none.
        shipment = getattr(order, "shipment", None)
        return None if shipment is None else ShipmentOutputSerializer(shipment).data

    @extend_schema_field(OrderVirtualAccountOutputSerializer(allow_null=True))
    def get_virtual_account(self, order) -> dict | None:
        if order.payment_method != PaymentMethod.VIRTUAL_ACCOUNT:
            return None
        accounts = self.context.get(VIRTUAL_ACCOUNTS)
        payment = (accounts if accounts is not None else virtual_accounts_of([order])).get(order.pk)
        if payment is None:
            return None
        return OrderVirtualAccountOutputSerializer(payment).data


class OrderEventOutputSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField()
    reason = serializers.ChoiceField(choices=CancelReason.choices, allow_blank=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffOrderOutputSerializer(OrderOutputSerializer):
    customer_id = serializers.UUIDField()
    saga_id = serializers.UUIDField(allow_null=True)


class StaffOrderDetailOutputSerializer(StaffOrderOutputSerializer):
    events = OrderEventOutputSerializer(many=True)


def idempotency_key_of(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise serializers.ValidationError({"Idempotency-Key": ["Use 1 to 255 printable ASCII characters."]})
    return key


class PeriodFilterSerializer(serializers.Serializer):
    placed_from = serializers.DateField(required=False, help_text="Placed on or after this day (KST).")
    placed_to = serializers.DateField(required=False, help_text="Placed on or before this day (KST).")

    def validate(self, data):
        if data.get("placed_from") and data.get("placed_to") and data["placed_from"] > data["placed_to"]:
            raise serializers.ValidationError(
                {"placed_to": ErrorDetail("placed_to is before placed_from.", code="period_reversed")}
            )
        return data


class OrderListCreateApi(FilteredListApi):
    """The signed-in customer's own orders, newest first, optionally of one status and placed in a
    period; POST places an order."""

    serializer_class = OrderOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(PeriodFilterSerializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            product_id = serializers.UUIDField()
            quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)

        items = LineSerializer(
            many=True,
            allow_empty=False,
            max_length=settings.ORDER_MAX_LINES,
            required=False,
            help_text="What to order; or from_cart: true instead.",
        )
        from_cart = serializers.BooleanField(
            default=False,
            help_text="Order what the cart holds (at catalog prices); the cart is emptied with the order's creation.",
        )
        address_id = serializers.UUIDField(required=False, help_text="Ship to this address of your address book.")
        address = ShippingAddressInputSerializer(required=False, help_text="Or ship to this address.")
        delivery_memo = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default="", help_text="A note for the courier."
        )
        payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.CARD)
        bank = serializers.ChoiceField(
            choices=Bank.choices, required=False, help_text="virtual_account: the bank of the account to issue."
        )
        payment_token = serializers.CharField(
            max_length=200,
            required=False,
            help_text="card: pay in the same call (a PG payment key, or a fake sandbox token such as tok_approve); "
            "without it the order waits as PENDING for POST /api/v1/payments/confirm. virtual_account: a scenario "
            "of the fake PG (tok_va_deposit_now, tok_va_deposit_later, tok_va_never).",
        )

        def validate_items(self, items):
            product_ids = [line["product_id"] for line in items]
            if len(set(product_ids)) != len(product_ids):
                raise serializers.ValidationError("Each product may appear on one line only.", code="duplicate_product")
            return items

        def validate(self, data):
            refused = {}
            if data["from_cart"] and "items" in data:
                refused["from_cart"] = ErrorDetail("Send items or from_cart: true, not both.", code="items_and_cart")
            elif not data["from_cart"] and "items" not in data:
                refused["items"] = ErrorDetail("Send the items to order, or from_cart: true.", code="required")
            if "address" in data and "address_id" in data:
                refused["address_id"] = ErrorDetail("Send address_id or address, not both.", code="two_addresses")
            elif "address" not in data and "address_id" not in data:
                refused["address"] = ErrorDetail("Send the address to ship to, or address_id.", code="required")
            virtual_account = data["payment_method"] == PaymentMethod.VIRTUAL_ACCOUNT
            if virtual_account and "bank" not in data:
                refused["bank"] = ErrorDetail("A virtual account needs the bank to issue it at.", code="required")
            elif not virtual_account and "bank" in data:
                refused["bank"] = ErrorDetail("A bank is chosen for a virtual account only.", code="not_applicable")
            if refused:
                raise serializers.ValidationError(refused)
            return data

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in customer
            return selectors.order_none()
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.order_list_for_customer(customer_id=customer.id, **filters.validated_data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OrderOutputSerializer,
            **domain_errors(
                product_errors.ProductUnavailable,
                errors.OrderTooLarge,
                customer_errors.CustomerInactive,
                customer_errors.AddressNotFound,
                errors.IdempotencyKeyReused,
                errors.CartEmpty,
                errors.CartChanged,
                errors.CartProductUnavailable,
                product_errors.InsufficientStock,
            ),
        },
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        key = idempotency_key_of(request)
        customer = customer_selectors.customer_for_user(user=request.user)
        order, replayed = services.order_place(
            customer_id=customer.pk,
            lines=None if given["from_cart"] else [services.OrderLine(**line) for line in given["items"]],
            from_cart=given["from_cart"],
            shipping=services.ShippingAddress(**given["address"]) if "address" in given else None,
            address_id=given.get("address_id"),
            delivery_memo=given["delivery_memo"],
            payment_method=given["payment_method"],
            bank=given.get("bank"),
            payment_token=given.get("payment_token"),
            idempotency_key=key,
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers)


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request, order_id):
        customer = customer_selectors.customer_for_user(user=request.user)
        order = selectors.order_get_for_customer(customer_id=customer.pk, order_id=order_id)
        return Response(OrderOutputSerializer(order).data)


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=150, required=False, default="")


class OrderCancelApi(APIView):
    """Cancel an own order that has not shipped: stock goes back, a payment is refunded."""

    @extend_schema(
        request=CancelInputSerializer,
        responses={200: OrderOutputSerializer, **domain_errors(errors.OrderNotCancellable)},
    )
    def post(self, request, order_id):
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        order = services.order_cancel(
            order_id=order_id, customer_id=customer.pk, by=actor_of(request), note=data.validated_data["reason"]
        )
        return Response(OrderOutputSerializer(order).data)


# --- staff -----------------------------------------------------------------------------------------


class StaffOrderListApi(FilteredListApi):
    permission_classes = [IsAdminUser]
    serializer_class = StaffOrderOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(PeriodFilterSerializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
        customer_id = serializers.UUIDField(required=False)
        q = serializers.CharField(
            max_length=100,
            required=False,
            help_text="Find by order number (or its start: 20261201-), recipient's name (or its start), "
            "phone number or its last four digits.",
        )

    selector = staticmethod(selectors.order_list_all)


class StaffOrderDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=StaffOrderDetailOutputSerializer)
    def get(self, request, order_id):
        return Response(StaffOrderDetailOutputSerializer(selectors.order_get_with_events(order_id=order_id)).data)


class StaffOrderStatusApi(APIView):
    """Staff: move a paid order along: PAID -> SHIPPED with the carrier and its tracking number (the
    whole order ships), then SHIPPED -> DELIVERED."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[OrderStatus.SHIPPED, OrderStatus.DELIVERED])
        carrier = serializers.ChoiceField(
            choices=Carrier.choices, required=False, help_text="SHIPPED: the carrier's code (required)."
        )
        tracking_number = serializers.CharField(
            max_length=40,
            required=False,
            help_text="SHIPPED: the carrier's tracking number, digits of its length; hyphens and spaces are "
            "ignored (required).",
        )

        def validate(self, data):
            shipping = data["status"] == OrderStatus.SHIPPED
            refused = {}
            for name in ("carrier", "tracking_number"):
                if shipping and name not in data:
                    refused[name] = ErrorDetail("Shipping names the carrier and its tracking number.", code="required")
                elif not shipping and name in data:
                    refused[name] = ErrorDetail("Only a shipment has a carrier and tracking.", code="not_applicable")
            if refused:
                raise serializers.ValidationError(refused)
            return data

    @extend_schema(
        request=InputSerializer,
        responses={
            200: StaffOrderDetailOutputSerializer,
            **domain_errors(
                errors.InvalidTrackingNumber,
                errors.InvalidStatusTransition,
                errors.OrderNotShippable,
                errors.TrackingNumberInUse,
            ),
        },
    )
    def post(self, request, order_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        if given["status"] == OrderStatus.SHIPPED:
            order = services.order_ship(
                order_id=order_id,
                carrier=given["carrier"],
                tracking_number=given["tracking_number"],
                by=actor_of(request),
            )
        else:
            order = services.order_mark_delivered(order_id=order_id, by=actor_of(request))
        return Response(StaffOrderDetailOutputSerializer(order).data)


class StaffOrderCancelApi(APIView):
    """Staff: cancel an order that has not shipped; a paid one is refunded (the saga's compensation)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=CancelInputSerializer,
        responses={200: StaffOrderDetailOutputSerializer, **domain_errors(errors.OrderNotCancellable)},
    )
    def post(self, request, order_id):
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_cancel(order_id=order_id, by=actor_of(request), note=data.validated_data["reason"])
        return Response(StaffOrderDetailOutputSerializer(order).data)


# --- cart ---


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{0,16}(?:\.0{0,2})?$"})
class CartAmountField(serializers.DecimalField):
    """Whole won written as MoneyField writes it, with room for more than an order may hold: prices
    can rise after lines were added (the cart shows such an amount; checkout refuses it)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=2, **kwargs)


class CartLineOutputSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    name = serializers.CharField()
    price = MoneyField(help_text="The current catalog price: what checkout charges.")
    price_when_added = MoneyField(help_text="The catalog price when the product was last added to the cart.")
    price_changed = serializers.BooleanField()
    quantity = serializers.IntegerField()
    line_total = CartAmountField(help_text="price x quantity.")
    available = serializers.BooleanField(help_text="Still for sale; a line that is not counts in no amount.")
    stock_short = serializers.BooleanField(help_text="Fewer units in stock than the quantity.")
    added_at = serializers.DateTimeField()


class CartOutputSerializer(serializers.Serializer):
    lines = CartLineOutputSerializer(many=True)
    items_amount = CartAmountField(help_text="The line totals of the available lines.")
    shipping_fee = MoneyField()
    total_amount = CartAmountField(help_text="items_amount + shipping_fee.")
    checkout_ready = serializers.BooleanField(
        help_text="POST /api/v1/orders/ with from_cart would take it as it is: some lines, all available and "
        "in stock, within the largest order total."
    )


def _cart_response(customer_id, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(selectors.cart_view(customer_id=customer_id)).data, status=status_code)


class CartApi(APIView):
    """The signed-in customer's cart, kept between sessions until checkout empties it."""

    @extend_schema(responses=CartOutputSerializer, operation_id="orders_cart_retrieve")
    def get(self, request):
        """The cart at current catalog prices, with lines flagged whose price changed since they were
        added, whose product is no longer for sale or whose stock is short."""
        customer = customer_selectors.customer_for_user(user=request.user)
        return _cart_response(customer.pk)

    @extend_schema(responses={204: None}, operation_id="orders_cart_clear")
    def delete(self, request):
        """Empty the cart."""
        customer = customer_selectors.customer_for_user(user=request.user)
        services.cart_clear(customer_id=customer.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemAddApi(APIView):
    class InputSerializer(serializers.Serializer):
        product_id = serializers.UUIDField()
        quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: CartOutputSerializer,
            201: CartOutputSerializer,
            **domain_errors(
                product_errors.ProductNotFound, errors.CartLineLimitReached, errors.CartQuantityLimitReached
            ),
        },
        operation_id="orders_cart_items_add",
    )
    def post(self, request):
        """Add units of a product for sale: 201 with the cart when the product was not in it, 200 when
        the units went on top of its line (at most ORDER_MAX_QUANTITY units a line, ORDER_MAX_LINES
        products a cart)."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        _, created = services.cart_add(customer_id=customer.pk, **data.validated_data)
        return _cart_response(customer.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CartItemApi(APIView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)

    @extend_schema(
        request=InputSerializer,
        responses={200: CartOutputSerializer, **domain_errors(errors.CartItemNotFound)},
        operation_id="orders_cart_items_update",
    )
    def patch(self, request, product_id):
        """Set the quantity of a product in the cart; answers the cart."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        services.cart_set_quantity(customer_id=customer.pk, product_id=product_id, **data.validated_data)
        return _cart_response(customer.pk)

    @extend_schema(
        responses={200: CartOutputSerializer, **domain_errors(errors.CartItemNotFound)},
        operation_id="orders_cart_items_remove",
    )
    def delete(self, request, product_id):
        """Take a product out of the cart; answers the cart."""
        customer = customer_selectors.customer_for_user(user=request.user)
        services.cart_remove(customer_id=customer.pk, product_id=product_id)
        return _cart_response(customer.pk)


# --- returns ---


class ReturnItemOutputSerializer(serializers.Serializer):
    order_item_id = serializers.UUIDField()
    product_id = serializers.UUIDField(source="order_item.product_id")
    quantity = serializers.IntegerField()
    price = MoneyField(source="order_item.price", help_text="Unit price at order time.")
    resellable = serializers.BooleanField(
        allow_null=True, help_text="Staff's decision when the parcel arrived (back on the shelf); null until then."
    )


class ReturnOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    order_number = serializers.CharField(source="order.order_number")
    status = serializers.ChoiceField(choices=ReturnStatus.choices)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    reason_text = serializers.CharField()
    staff_note = serializers.CharField(help_text="Staff's words, e.g. why a return was rejected.")
    items = ReturnItemOutputSerializer(many=True)
    return_shipping_fee = MoneyField(help_text="Kept from the refund when the reason is the customer's.")
    refund_amount = MoneyField(help_text="The items at their order prices less return_shipping_fee (at least 0).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReturnEventOutputSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffReturnOutputSerializer(ReturnOutputSerializer):
    customer_id = serializers.UUIDField()


class StaffReturnDetailOutputSerializer(StaffReturnOutputSerializer):
    events = ReturnEventOutputSerializer(many=True)


class OrderReturnCreateApi(APIView):
    """Ask to return units of some lines of an own delivered order, within RETURN_WINDOW_DAYS of delivery."""

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            order_item_id = serializers.UUIDField()
            quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)

        items = LineSerializer(many=True, allow_empty=False, max_length=settings.ORDER_MAX_LINES)
        reason = serializers.ChoiceField(choices=ReturnReason.choices)
        reason_text = serializers.CharField(
            max_length=500, required=False, allow_blank=True, default="", help_text="Required with reason other."
        )

        def validate_items(self, items):
            item_ids = [line["order_item_id"] for line in items]
            if len(set(item_ids)) != len(item_ids):
                raise serializers.ValidationError("Each order line may appear once only.", code="duplicate_line")
            return items

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ReturnOutputSerializer,
            **domain_errors(
                errors.OrderNotDelivered,
                errors.ReturnWindowClosed,
                errors.ReturnItemNotInOrder,
                errors.ReturnLineCancelled,
                errors.ReturnQuantityExceeded,
                errors.ReturnReasonTextRequired,
            ),
        },
    )
    def post(self, request, order_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        customer = customer_selectors.customer_for_user(user=request.user)
        created = services.return_request(
            order_id=order_id,
            customer_id=customer.pk,
            lines={line["order_item_id"]: line["quantity"] for line in given["items"]},
            reason=given["reason"],
            reason_text=given["reason_text"],
            by=actor_of(request),
        )
        return Response(ReturnOutputSerializer(created).data, status=status.HTTP_201_CREATED)


class ReturnListApi(FilteredListApi):
    """The signed-in customer's own returns, newest first, optionally of one status."""

    serializer_class = ReturnOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in customer
            return selectors.return_none()
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.return_list_for_customer(customer_id=customer.pk, **filters.validated_data)


class ReturnDetailApi(APIView):
    @extend_schema(responses=ReturnOutputSerializer)
    def get(self, request, return_id):
        customer = customer_selectors.customer_for_user(user=request.user)
        found = selectors.return_get_for_customer(customer_id=customer.pk, return_id=return_id)
        return Response(ReturnOutputSerializer(found).data)


class StaffReturnListApi(FilteredListApi):
    """Staff: the returns queue, newest first; `?status=REQUESTED` is what waits for a decision."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffReturnOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)
        order_id = serializers.UUIDField(required=False)
        customer_id = serializers.UUIDField(required=False)

    selector = staticmethod(selectors.return_list_all)


class StaffReturnDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=StaffReturnDetailOutputSerializer)
    def get(self, request, return_id):
        return Response(StaffReturnDetailOutputSerializer(selectors.return_get(return_id=return_id)).data)


class ReturnNoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StaffReturnApproveApi(APIView):
    """Staff: accept a REQUESTED return (APPROVED): the customer sends the parcel back."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ReturnNoteInputSerializer,
        responses={200: StaffReturnDetailOutputSerializer, **domain_errors(errors.InvalidReturnTransition)},
    )
    def post(self, request, return_id):
        data = ReturnNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approved = services.return_approve(return_id=return_id, by=actor_of(request), **data.validated_data)
        return Response(StaffReturnDetailOutputSerializer(approved).data)


class StaffReturnRejectApi(APIView):
    """Staff: refuse a REQUESTED return (REJECTED), saying why: the customer sees the note."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=500)

    @extend_schema(
        request=InputSerializer,
        responses={200: StaffReturnDetailOutputSerializer, **domain_errors(errors.InvalidReturnTransition)},
    )
    def post(self, request, return_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rejected = services.return_reject(return_id=return_id, by=actor_of(request), **data.validated_data)
        return Response(StaffReturnDetailOutputSerializer(rejected).data)


class StaffReturnReceiveApi(APIView):
    """Staff: the parcel of an APPROVED return arrived (RECEIVED): per line, whether it goes back on
    the shelf (a stock adjustment records it)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            order_item_id = serializers.UUIDField()
            resellable = serializers.BooleanField()

        lines = LineSerializer(many=True, allow_empty=False, help_text="One decision for each line of the return.")
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: StaffReturnDetailOutputSerializer,
            **domain_errors(errors.InvalidReturnTransition, errors.ReturnLinesMismatch),
        },
    )
    def post(self, request, return_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data["lines"]
        resellable = {line["order_item_id"]: line["resellable"] for line in lines}
        if len(resellable) != len(lines):
            raise serializers.ValidationError({"lines": ["Each line of the return may appear once only."]})
        received = services.return_receive(
            return_id=return_id, resellable=resellable, by=actor_of(request), note=data.validated_data["note"]
        )
        return Response(StaffReturnDetailOutputSerializer(received).data)


class StaffReturnRefundApi(APIView):
    """Staff: refund a RECEIVED return its refund_amount through the PG's partial cancel: 200 when
    it is REFUNDED, 202 when the PG has not answered (the return stays RECEIVED; recovery, or the
    same call again, finishes it, never refunding twice)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={
            200: StaffReturnDetailOutputSerializer,
            202: StaffReturnDetailOutputSerializer,
            **domain_errors(
                errors.InvalidReturnTransition, payment_errors.RefundExceedsPaid, payment_errors.RefundFailed
            ),
        },
    )
    def post(self, request, return_id):
        refunded = services.return_refund(return_id=return_id, by=actor_of(request))
        done = refunded.status == ReturnStatus.REFUNDED
        answer = status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED
        return Response(StaffReturnDetailOutputSerializer(refunded).data, status=answer)


# --- fulfilment ---


class CancelLinesInputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        order_item_id = serializers.UUIDField(help_text="The line's id: items[].id of the order.")
        quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)

    lines = LineSerializer(many=True, allow_empty=False, max_length=settings.ORDER_MAX_LINES)
    reason = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_lines(self, lines):
        item_ids = [line["order_item_id"] for line in lines]
        if len(set(item_ids)) != len(item_ids):
            raise serializers.ValidationError("Each line may appear once.", code="duplicate_line")
        return lines


CANCEL_LINES_ERRORS = domain_errors(
    errors.OrderLineNotFound, errors.OrderLinesNotCancellable, errors.CancelQuantityExceeded
)


def _cancel_lines(request, order_id, customer_id=None):
    data = CancelLinesInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    return services.order_cancel_lines(
        order_id=order_id,
        lines={line["order_item_id"]: line["quantity"] for line in given["lines"]},
        by=actor_of(request),
        customer_id=customer_id,
        note=given["reason"],
    )


class OrderCancelLinesApi(APIView):
    """Cancel some units of some lines of an own PAID order before it ships (부분취소): their stock goes
    back and they are refunded (the shipping fee kept when the rest drops under free shipping).
    Cancelling every unit left cancels the order."""

    @extend_schema(request=CancelLinesInputSerializer, responses={200: OrderOutputSerializer, **CANCEL_LINES_ERRORS})
    def post(self, request, order_id):
        customer = customer_selectors.customer_for_user(user=request.user)
        return Response(OrderOutputSerializer(_cancel_lines(request, order_id, customer_id=customer.pk)).data)


class StaffOrderCancelLinesApi(APIView):
    """Staff: cancel some units of some lines of a PAID order before it ships, as the customer may."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=CancelLinesInputSerializer, responses={200: StaffOrderDetailOutputSerializer, **CANCEL_LINES_ERRORS}
    )
    def post(self, request, order_id):
        return Response(StaffOrderDetailOutputSerializer(_cancel_lines(request, order_id)).data)
