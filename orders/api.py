"""The orders API: customers place, list, view and cancel their own orders; staff see all and ship."""

import hashlib
import re

from django.conf import settings
from django.utils.http import parse_etags
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.address import ShippingAddressInputSerializer
from c4ang.api.fields import CurrencyField, MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import FilteredListApi
from customers import errors as customer_errors
from customers import selectors as customer_selectors
from orders import carriers, errors, history, selectors, services
from orders.constants import FULFILMENT_STATUSES, CancelReason, Carrier, OrderStatus, ReturnReason, ReturnStatus
from payments import errors as payment_errors
from payments import selectors as payment_selectors
from payments.constants import FAILURE_CODE_HELP, Bank, Gateway, NextActionType, PaymentMethod, PaymentStatus
from products import errors as product_errors

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
ORDER_ID = OpenApiParameter(
    "order_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The order's id (`id` of the order)."
)
RETURN_ID = OpenApiParameter(
    "return_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The return's id (`id` of the return)."
)
CART_PRODUCT_ID = OpenApiParameter(
    "product_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The product of the cart line."
)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="1 to 255 printable ASCII characters, new for each checkout (e.g. a UUID): a retry with the "
    "same key answers the order it placed (Idempotent-Replayed: true) instead of placing another one.",
)

# --- examples: one order of the shop, as the schema shows it ---------------------------------------

EXAMPLE_ORDER_ID = "0b6f2c3a-9d41-4e8b-a7c5-3e1f8d2b6a94"
EXAMPLE_EARPHONES_LINE_ID = "5d0c9a1e-7f3b-4c2d-9e8a-1b6f4a2c3d5e"
EXAMPLE_CASE_LINE_ID = "a8e2f6d4-3c1b-4f9a-b7e5-2d4c6a8f0e1b"
EXAMPLE_ITEMS = [
    {
        "id": EXAMPLE_EARPHONES_LINE_ID,
        "product_id": "7c1e4b9a-2d3f-4a5b-8c6d-9e0f1a2b3c4d",
        "product_name": "무선 이어폰 프로",
        "product_image_url": "/media/products/variants/e4a1c7b2-5d3f-4e8a-9b6c-1f2d3e4a5b6c/list.webp",
        "quantity": 1,
        "price": 129000,
        "line_total": 129000,
        "cancelled_quantity": 0,
        "returned_quantity": 0,
        "active_quantity": 1,
    },
    {
        "id": EXAMPLE_CASE_LINE_ID,
        "product_id": "3b9d7f1e-6a2c-4d8b-9e5f-0c1a2b3d4e5f",
        "product_name": "이어폰 실리콘 케이스",
        "product_image_url": "",
        "quantity": 2,
        "price": 9900,
        "line_total": 19800,
        "cancelled_quantity": 0,
        "returned_quantity": 0,
        "active_quantity": 2,
    },
]
EXAMPLE_SHIPPING = {
    "recipient": "김민지",
    "phone": "010-1234-5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 123",
    "detail": "12층",
    "delivery_memo": "부재 시 경비실에 맡겨 주세요",
}
# A card order just placed: waiting for the payment in the PG's widget.
EXAMPLE_ORDER = {
    "id": EXAMPLE_ORDER_ID,
    "order_number": "20261201-000123",
    "status": "PENDING",
    "currency": "KRW",
    "items_amount": 148800,
    "shipping_fee": 0,
    "total_amount": 148800,
    "refunded_amount": 0,
    "payment_method": "card",
    "payment": None,
    "next_action": {
        "type": "confirm_payment",
        "expires_at": "2026-12-01T15:30:00+09:00",
        "confirm_payment": {
            "gateway": "toss",
            "client_key": "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq",
            "order_id": EXAMPLE_ORDER_ID,
            "amount": 148800,
            "currency": "KRW",
            "order_name": "무선 이어폰 프로 외 1건",
            "customer_key": "6f6b1b4068253ba11721f663b4accf72c6f62a2f",
            "confirm_url": "/api/v1/payments/confirm/",
            "sandbox_payment_keys": None,
        },
        "virtual_account": None,
    },
    "payment_due_at": "2026-12-01T15:30:00+09:00",
    "shipping": EXAMPLE_SHIPPING,
    "virtual_account": None,
    "cancel_code": None,
    "cancel_message": None,
    "items": EXAMPLE_ITEMS,
    "shipment": None,
    "created_at": "2026-12-01T15:00:00+09:00",
    "updated_at": "2026-12-01T15:00:00+09:00",
}
EXAMPLE_PAYMENT = {
    "id": "f3c8a2e1-4b7d-4c9e-8a1f-6d2b5e9c3a7f",
    "method": "card",
    "status": "APPROVED",
    "amount": 148800,
    "currency": "KRW",
    "failure_code": "",
    "failure_message": "",
    "created_at": "2026-12-01T15:02:10+09:00",
    "updated_at": "2026-12-01T15:02:11+09:00",
}
NOTHING_TO_DO = {"type": "none", "expires_at": None, "confirm_payment": None, "virtual_account": None}
# The same order paid, then shipped.
EXAMPLE_SHIPPED_ORDER = {
    **EXAMPLE_ORDER,
    "status": "SHIPPED",
    "payment": EXAMPLE_PAYMENT,
    "next_action": NOTHING_TO_DO,
    "shipment": {
        "carrier": "kr.cjlogistics",
        "carrier_name": "CJ대한통운",
        "tracking_number": "123456789012",
        "tracking_url": "https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012",
        "shipped_at": "2026-12-02T10:15:00+09:00",
        "delivered_at": None,
    },
    "updated_at": "2026-12-02T10:15:00+09:00",
}
EXAMPLE_HISTORY = [
    {
        "from_status": None,
        "to_status": "PENDING",
        "code": None,
        "message": "Order placed",
        "at": "2026-12-01T15:00:00+09:00",
    },
    {"from_status": "PENDING", "to_status": "PAID", "code": None, "message": "Paid", "at": "2026-12-01T15:02:11+09:00"},
    {
        "from_status": "PAID",
        "to_status": "SHIPPED",
        "code": None,
        "message": "Shipped: CJ대한통운 123456789012",
        "at": "2026-12-02T10:15:00+09:00",
    },
]
EXAMPLE_STAFF_FIELDS = {
    "customer_id": "2e7b4d9c-1a3f-4b6e-8d5c-7f9a0b1c2d3e",
    "saga_id": "9a4c2e7f-5b1d-4e3a-8c6f-0d2b4a6c8e1f",
    "cancel_note": "",
}
EXAMPLE_EVENTS = [
    {**EXAMPLE_HISTORY[0], "actor": "customer:minji.kim@example.kr", "note": ""},
    {**EXAMPLE_HISTORY[1], "actor": "system:place_order", "note": "payment approved"},
    {**EXAMPLE_HISTORY[2], "actor": "staff:kim@c4ang.com", "note": "CJ대한통운 123456789012"},
]


class OptionalChoiceField(serializers.ChoiceField):
    """A value of a fixed set that a row may not have: its "" is answered as null."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class OrderItemOutputSerializer(serializers.Serializer):
    """A line of the order, as it was ordered: the product's name, image and price then."""

    id = serializers.UUIDField(help_text="The line's id: name it to cancel or return units of the line.")
    product_id = serializers.UUIDField(help_text="The product ordered (it may be off sale or renamed since).")
    product_name = serializers.CharField(help_text="The product's name when it was ordered, e.g. 무선 이어폰 프로.")
    product_image_url = serializers.CharField(
        help_text='URL of the product\'s primary image when it was ordered (400 px wide WebP); "" when it had none.'
    )
    quantity = serializers.IntegerField(help_text=f"Units ordered, 1 to {settings.ORDER_MAX_QUANTITY}.")
    price = MoneyField(help_text="Unit price when ordered, in whole won.")
    line_total = serializers.SerializerMethodField(
        help_text="price x quantity: what the line cost when ordered; the order's items_amount is the sum of its "
        "lines' totals. Units cancelled or returned later are refunded (refunded_amount), not taken off it."
    )
    cancelled_quantity = serializers.IntegerField(help_text="Units cancelled before shipping (partial cancellation).")
    returned_quantity = serializers.IntegerField(help_text="Units returned after delivery.")
    active_quantity = serializers.SerializerMethodField(
        help_text="Units the customer keeps: quantity - cancelled_quantity - returned_quantity."
    )

    @extend_schema_field(MoneyField())
    def get_line_total(self, item) -> int:
        return int(item.price * item.quantity)

    def get_active_quantity(self, item) -> int:
        return item.quantity - item.cancelled_quantity - item.returned_quantity


class OrderShippingOutputSerializer(serializers.Serializer):
    """Where the order goes, as it was at checkout (later address book edits never change it)."""

    recipient = serializers.CharField(source="shipping_recipient", help_text="Who receives the parcel, e.g. 김민지.")
    phone = serializers.CharField(
        source="shipping_phone", help_text="The recipient's phone number, normalized: 010-1234-5678."
    )
    postal_code = serializers.RegexField(
        r"^\d{5}$", source="shipping_postal_code", help_text="The five-digit postal code (우편번호), e.g. 06236."
    )
    road_address = serializers.CharField(
        source="shipping_road_address",
        help_text="The road-name address (도로명주소), e.g. 서울특별시 강남구 테헤란로 123.",
    )
    detail = serializers.CharField(
        source="shipping_address_detail", help_text='The rest of the address (동/호수), e.g. 12층; "" when none.'
    )
    delivery_memo = serializers.CharField(help_text='The note for the courier, e.g. 부재 시 경비실; "" when none.')


class OrderVirtualAccountOutputSerializer(serializers.Serializer):
    """Where the customer deposits the total, until `due_at` (then the order expires)."""

    bank = serializers.ChoiceField(choices=Bank.choices, help_text="The bank's code (Toss's), e.g. 88.")
    bank_name = serializers.CharField(help_text="The bank's name, e.g. 신한은행.")
    account_number = serializers.CharField(help_text="The account number to deposit into, as the bank writes it.")
    holder_name = serializers.CharField(help_text="The account holder's name the bank shows.")
    due_at = serializers.DateTimeField(help_text="Deposit by then; the order is cancelled after it.")


class ShipmentOutputSerializer(serializers.Serializer):
    """The parcel on its way: the carrier, its tracking number (송장번호) and the carrier's tracking page."""

    carrier = serializers.ChoiceField(choices=Carrier.choices, help_text="The carrier's code, e.g. kr.cjlogistics.")
    carrier_name = serializers.CharField(source="get_carrier_display", help_text="e.g. CJ대한통운")
    tracking_number = serializers.CharField(help_text="The carrier's tracking number (송장번호), digits only.")
    tracking_url = serializers.SerializerMethodField(help_text="The carrier's public tracking page of the parcel.")
    shipped_at = serializers.DateTimeField(help_text="When it was handed to the carrier.")
    delivered_at = serializers.DateTimeField(allow_null=True, help_text="When it arrived; null while on its way.")

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


# --- payment summary and next action ---


class PaymentSummaryOutputSerializer(serializers.Serializer):
    """The order's payment attempt: the one that paid it, else the newest (null before any)."""

    id = serializers.UUIDField(help_text="The payment's id: GET /api/v1/payments/{id}/ has its refunds.")
    method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        help_text="card: paid in the PG's widget (cards, easy pay); virtual_account: by deposit (가상계좌).",
    )
    status = serializers.ChoiceField(
        choices=PaymentStatus.choices,
        help_text="PENDING: the PG's answer is not known yet (confirm the same paymentKey again); WAITING: "
        "a virtual account waits for the deposit; APPROVED; PARTIALLY_REFUNDED; REFUNDED; FAILED: refused "
        "(failure_code says why; empty: never approved, nothing charged).",
    )
    amount = MoneyField(help_text="Whole won: the order's total when it was tried.")
    currency = CurrencyField()
    failure_code = serializers.CharField(help_text=FAILURE_CODE_HELP)
    failure_message = serializers.CharField(
        source="failure_text",
        help_text="Why it failed, for a person: the PG's words (Korean at Toss), e.g. 결제 승인이 거절되었습니다., or "
        "for our own failure codes ours, in the request's language; empty when none.",
    )
    created_at = serializers.DateTimeField(help_text="When it was tried.")
    updated_at = serializers.DateTimeField(help_text="When it last changed.")


class SandboxPaymentKeysOutputSerializer(serializers.Serializer):
    """The fake PG's paymentKeys, by the outcome each gives (the sandbox has no widget)."""

    approve = serializers.CharField(help_text="Approved: tok_approve.")
    decline = serializers.CharField(help_text="Declined with REJECT_CARD_PAYMENT (a 402): tok_decline.")
    timeout = serializers.CharField(help_text="The PG does not answer (a 504), nothing is charged: tok_timeout.")


class ConfirmPaymentOutputSerializer(serializers.Serializer):
    """Open the PG's payment widget with these, then POST what it hands back to confirm_url."""

    gateway = serializers.ChoiceField(
        choices=Gateway.choices, help_text="toss: Toss Payments' widget; fake: the sandbox (no widget)."
    )
    client_key = serializers.CharField(help_text="The widget's public client key (Toss's); empty for fake.")
    order_id = serializers.UUIDField(help_text="The widget's orderId, and the confirm's orderId: the order's id.")
    amount = MoneyField(help_text="The widget's amount, and the confirm's: the order's total in whole won.")
    currency = CurrencyField()
    order_name = serializers.CharField(
        help_text="The widget's orderName: the first line's product and how many others, e.g. 무선 이어폰 프로 외 "
        "2건 (up to 100 characters)."
    )
    customer_key = serializers.CharField(
        help_text="The widget's customerKey: opaque and stable per customer (2 to 50 of A-Z a-z 0-9 - _ = . @)."
    )
    confirm_url = serializers.CharField(
        help_text='POST {"paymentKey", "orderId", "amount"} here once the widget succeeded: /api/v1/payments/confirm/.'
    )
    sandbox_payment_keys = SandboxPaymentKeysOutputSerializer(
        allow_null=True,
        help_text="fake only: paymentKeys to confirm (or to send as payment_token at checkout, in one call); "
        "null at a real PG.",
    )


class NextActionVirtualAccountOutputSerializer(serializers.Serializer):
    """Where and by when to deposit the order's total."""

    bank = serializers.ChoiceField(choices=Bank.choices, help_text="Toss's bank code, e.g. 88.")
    bank_name = serializers.CharField(help_text="The bank's name, e.g. 신한은행.")
    account_number = serializers.CharField(help_text="The account to deposit into.")
    holder_name = serializers.CharField(help_text="The account holder's name the bank shows.")
    due_at = serializers.DateTimeField(help_text="Deposits after this are refused; the order then expires.")
    amount = MoneyField(help_text="Deposit exactly this, in whole won: the order's total.")
    currency = CurrencyField()


class NextActionOutputSerializer(serializers.Serializer):
    """What the app does next for the order; `type` says which of the other fields to read."""

    type = serializers.ChoiceField(
        choices=NextActionType.choices,
        help_text="confirm_payment: a PENDING card order not paid yet (also after a decline: another card); "
        "deposit_to_virtual_account: its virtual account waits for the deposit; none: nothing to do.",
    )
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="The order is cancelled if not paid by then (its payment_due_at); null for none."
    )
    confirm_payment = ConfirmPaymentOutputSerializer(allow_null=True, help_text="confirm_payment only; else null.")
    virtual_account = NextActionVirtualAccountOutputSerializer(
        allow_null=True, help_text="deposit_to_virtual_account only; else null."
    )


# The context key of the orders' payment summaries, read once for all the orders of an answer.
PAYMENT_SUMMARIES = "payment_summaries"


def _payment_summary(field: serializers.Field, order):
    """The order's payment (payments.selectors.payment_summaries_for_orders): the first order of a
    list answer reads those of the whole page in one query; any other order its own."""
    summaries = field.context.setdefault(PAYMENT_SUMMARIES, {})
    if order.pk not in summaries:
        listed = field.parent.parent
        page = listed.instance if isinstance(listed, serializers.ListSerializer) else None
        orders = page if isinstance(page, list) and order in page else [order]
        missing = [each.pk for each in orders if each.pk not in summaries]
        summaries.update(payment_selectors.payment_summaries_for_orders(order_ids=missing))
    return summaries[order.pk]


@extend_schema_field(PaymentSummaryOutputSerializer(allow_null=True))
class OrderPaymentField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, order):
        payment = _payment_summary(self, order)
        return None if payment is None else PaymentSummaryOutputSerializer(payment).data


@extend_schema_field(NextActionOutputSerializer)
class OrderNextActionField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, order):
        action = payment_selectors.next_action_for_order(
            order_id=order.pk,
            awaiting_payment=order.status == OrderStatus.PENDING,
            payment_method=order.payment_method,
            amount=order.total_amount,
            product_names=[item.product_name for item in order.items.all()],
            customer_id=order.customer_id,
            payment_due_at=order.payment_due_at,
            payment=_payment_summary(self, order),
        )
        return NextActionOutputSerializer(action).data


@extend_schema_serializer(
    examples=[
        OpenApiExample("A card order waiting for its payment", value=EXAMPLE_ORDER),
        OpenApiExample("The same order paid and shipped", value=EXAMPLE_SHIPPED_ORDER),
    ]
)
class OrderOutputSerializer(serializers.Serializer):
    """An order as its customer sees it."""

    id = serializers.UUIDField(help_text="The order's id (also the PG's orderId).")
    order_number = serializers.CharField(help_text="YYYYMMDD-NNNNNN: the day placed (KST) and its place that day.")
    status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        help_text="PENDING: waiting for its payment (see next_action); PAID: paid, to be shipped; SHIPPED: on its "
        "way (see shipment); DELIVERED: arrived (returns may be asked for); CANCELLED: see cancel_code.",
    )
    currency = CurrencyField()
    items_amount = MoneyField(help_text="The items at their prices when ordered.")
    shipping_fee = MoneyField(
        help_text=f"{settings.SHIPPING_FEE} won, none from {settings.SHIPPING_FREE_FROM} won of items_amount."
    )
    total_amount = MoneyField(help_text="items_amount + shipping_fee: what is paid.")
    refunded_amount = MoneyField(help_text="What went back to the customer: refunds the PG completed.")
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices, help_text="How the order is paid: card (the PG's widget) or virtual_account."
    )
    payment = OrderPaymentField(help_text="Its payment attempt: the one that paid it, else the newest; null if none.")
    next_action = OrderNextActionField(help_text="What the app does next: pay and confirm, deposit, or nothing.")
    payment_due_at = serializers.DateTimeField(help_text="A PENDING order not paid by then is cancelled.")
    shipping = OrderShippingOutputSerializer(source="*", help_text="Where the order goes, as it was at checkout.")
    virtual_account = serializers.SerializerMethodField(
        help_text="Paid by virtual account: where to deposit; null otherwise (or while it is not issued)."
    )
    cancel_code = OptionalChoiceField(
        choices=CancelReason.choices,
        source="cancel_reason",
        help_text="Why the order was cancelled (a stable code to branch on); null while it is not cancelled.",
    )
    cancel_message = serializers.SerializerMethodField(
        help_text="The same for a person: the reason and, when the placement failed, what failed (e.g. Not enough "
        "stock: 무선 이어폰 프로 has 1 in stock, 2 ordered.); null while the order is not cancelled.",
    )
    items = OrderItemOutputSerializer(many=True, help_text="The order's lines, in the order they were given.")
    shipment = serializers.SerializerMethodField(help_text="Once shipped: carrier and tracking; null before.")
    created_at = serializers.DateTimeField(help_text="When the order was placed.")
    updated_at = serializers.DateTimeField(
        help_text="When anything this response shows last changed (status, payment, shipment, refunds, lines): "
        "what ?updated_since= compares."
    )

    class Meta:
        list_serializer_class = OrderListOutputSerializer

    def get_cancel_message(self, order) -> str | None:
        return history.readable(order.cancel_message) or None

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


class HistoryMessageField(serializers.CharField):
    """A message of the order's history, stored in English, in the reader's language (orders.history)."""

    def to_representation(self, value):
        return history.readable(super().to_representation(value))


class OrderHistoryEntryOutputSerializer(serializers.Serializer):
    """A step of the order's way, as its customer sees it."""

    from_status = OptionalChoiceField(choices=OrderStatus.choices, help_text="The status before; null at placement.")
    to_status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        help_text="The status after (the same as before when some units of a PAID order were cancelled).",
    )
    code = OptionalChoiceField(
        choices=CancelReason.choices,
        source="reason",
        help_text="Why, for a cancellation (of the order or of some units): the cancel code; null otherwise.",
    )
    message = HistoryMessageField(
        help_text="What happened, for a person, e.g. Shipped: CJ대한통운 123456789012, or Cancelled by the customer."
    )
    at = serializers.DateTimeField(source="created_at", help_text="When it happened.")


@extend_schema_serializer(
    examples=[OpenApiExample("A shipped order", value={**EXAMPLE_SHIPPED_ORDER, "history": EXAMPLE_HISTORY})]
)
class OrderDetailOutputSerializer(OrderOutputSerializer):
    """An order as its customer sees it, with its history."""

    history = OrderHistoryEntryOutputSerializer(
        many=True, source="events.all", help_text="Every status change of the order, oldest first."
    )


class OrderEventOutputSerializer(OrderHistoryEntryOutputSerializer):
    """A step of the order's audit trail, as staff see it: who, and their words."""

    actor = serializers.CharField(help_text="Who made the change, as kind:identity (staff:kim@c4ang.com).")
    note = serializers.CharField(
        help_text="Staff's detail: the canceller's words, a system's note or what failed, the tracking number."
    )


@extend_schema_serializer(
    examples=[OpenApiExample("A shipped order", value={**EXAMPLE_SHIPPED_ORDER, **EXAMPLE_STAFF_FIELDS})]
)
class StaffOrderOutputSerializer(OrderOutputSerializer):
    """An order as staff see it."""

    customer_id = serializers.UUIDField(help_text="The customer who placed it.")
    saga_id = serializers.UUIDField(
        allow_null=True, help_text="Its place-order saga (GET /api/v1/saga/{saga_id}/); null if it had none."
    )
    cancel_note = serializers.CharField(
        help_text="Staff only: the canceller's words (the customer's or staff's), a system's note or the failing "
        'error\'s message; "" when none.'
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A shipped order", value={**EXAMPLE_SHIPPED_ORDER, **EXAMPLE_STAFF_FIELDS, "events": EXAMPLE_EVENTS}
        )
    ]
)
class StaffOrderDetailOutputSerializer(StaffOrderOutputSerializer):
    """An order as staff see it, with its audit trail."""

    events = OrderEventOutputSerializer(many=True, help_text="Every status change, oldest first.")


def each_once(lines: list[dict], key: str, *, message: str, code: str = "duplicate_line") -> list[dict]:
    """The lines of one request name each product or order line once: a repeat is a 400 on the list."""
    keys = [line[key] for line in lines]
    if len(set(keys)) != len(keys):
        raise serializers.ValidationError(message, code=code)
    return lines


def idempotency_key_of(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise serializers.ValidationError({"Idempotency-Key": [gettext("Use 1 to 255 printable ASCII characters.")]})
    return key


class PeriodFilterSerializer(serializers.Serializer):
    placed_from = serializers.DateField(required=False, help_text="Placed on or after this day (KST).")
    placed_to = serializers.DateField(required=False, help_text="Placed on or before this day (KST).")

    def validate(self, data):
        if data.get("placed_from") and data.get("placed_to") and data["placed_from"] > data["placed_to"]:
            raise serializers.ValidationError(
                {"placed_to": ErrorDetail(gettext("placed_to is before placed_from."), code="period_reversed")}
            )
        return data


class OrderListCreateApi(FilteredListApi):
    serializer_class = OrderOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(PeriodFilterSerializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False, help_text="Only of this status.")
        updated_since = serializers.DateTimeField(
            required=False,
            help_text="Only orders that changed at or after this moment (ISO 8601 with its offset, e.g. "
            "2026-12-01T15:30:00+09:00): poll with the largest updated_at of the previous answer.",
        )

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "The cart, to an address of the address book, by card",
                value={
                    "from_cart": True,
                    "address_id": "4f1d8b2e-6c3a-4e9b-a7d5-1b8c2e4f6a9d",
                    "delivery_memo": "부재 시 경비실에 맡겨 주세요",
                    "payment_method": "card",
                },
            ),
            OpenApiExample(
                "Items, to an address given here, by virtual account",
                value={
                    "items": [
                        {"product_id": "7c1e4b9a-2d3f-4a5b-8c6d-9e0f1a2b3c4d", "quantity": 1},
                        {"product_id": "3b9d7f1e-6a2c-4d8b-9e5f-0c1a2b3d4e5f", "quantity": 2},
                    ],
                    "address": {
                        "recipient": "김민지",
                        "phone": "010-1234-5678",
                        "postal_code": "06236",
                        "road_address": "서울특별시 강남구 테헤란로 123",
                        "detail": "12층",
                    },
                    "payment_method": "virtual_account",
                    "bank": "88",
                },
            ),
        ]
    )
    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            product_id = serializers.UUIDField(help_text="The product to order: one for sale.")
            quantity = serializers.IntegerField(
                min_value=1, max_value=settings.ORDER_MAX_QUANTITY, help_text="Units of it."
            )

        items = LineSerializer(
            many=True,
            allow_empty=False,
            max_length=settings.ORDER_MAX_LINES,
            required=False,
            help_text=f"What to order, 1 to {settings.ORDER_MAX_LINES} lines, each product once; or from_cart: "
            "true instead.",
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
        payment_method = serializers.ChoiceField(
            choices=PaymentMethod.choices,
            default=PaymentMethod.CARD,
            help_text="card: the customer pays in the PG's widget (next_action confirm_payment); virtual_account: "
            "an account is issued at `bank` for the deposit (next_action deposit_to_virtual_account).",
        )
        bank = serializers.ChoiceField(
            choices=Bank.choices, required=False, help_text="virtual_account: the bank of the account to issue."
        )
        payment_token = serializers.CharField(
            max_length=200,
            required=False,
            help_text="The sandbox's one-call flow (gateway fake), up to 200 characters. card: pay in the same call "
            "with one of next_action's sandbox_payment_keys (tok_approve, tok_decline, tok_timeout); without it the "
            "order waits PENDING for the widget and POST /api/v1/payments/confirm/, the flow for real gateways. "
            "virtual_account: a scenario of the fake PG (tok_va_deposit_now, tok_va_deposit_later, tok_va_never).",
        )

        def validate_items(self, items):
            return each_once(
                items,
                "product_id",
                message=gettext("Each product may appear on one line only."),
                code="duplicate_product",
            )

        def validate(self, data):
            refused = {}
            if data["from_cart"] and "items" in data:
                refused["from_cart"] = ErrorDetail(
                    gettext("Send items or from_cart: true, not both."), code="items_and_cart"
                )
            elif not data["from_cart"] and "items" not in data:
                refused["items"] = ErrorDetail(gettext("Send the items to order, or from_cart: true."), code="required")
            if "address" in data and "address_id" in data:
                refused["address_id"] = ErrorDetail(
                    gettext("Send address_id or address, not both."), code="two_addresses"
                )
            elif "address" not in data and "address_id" not in data:
                refused["address"] = ErrorDetail(
                    gettext("Send the address to ship to, or address_id."), code="required"
                )
            virtual_account = data["payment_method"] == PaymentMethod.VIRTUAL_ACCOUNT
            if virtual_account and "bank" not in data:
                refused["bank"] = ErrorDetail(
                    gettext("A virtual account needs the bank to issue it at."), code="required"
                )
            elif not virtual_account and "bank" in data:
                refused["bank"] = ErrorDetail(
                    gettext("A bank is chosen for a virtual account only."), code="not_applicable"
                )
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

    @extend_schema(summary="List my orders")
    def get(self, request, *args, **kwargs):
        """The signed-in customer's own orders, newest placed first (a cursor keeps that order stable
        while orders come and change), optionally of one status, placed in a period, or changed since a
        moment: `?updated_since=` is how an app polls for what changed (payments, shipping, refunds)
        without fetching every order. The detail (`GET /api/v1/orders/{order_id}/`) adds the history."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Place an order",
        request=InputSerializer,
        responses={
            201: OrderOutputSerializer,
            **domain_errors(
                errors.OrderProductUnavailable,
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
        """Check out: the given `items` or the cart (`from_cart: true`), at catalog prices (the
        client's prices and totals are ignored), shipped to an address of the address book
        (`address_id`) or to an inline `address`, paid by `card` or `virtual_account` (with its
        `bank`).

        A line that cannot be sold is refused before anything happens, with an `errors` entry per
        line naming its product (`product_id`, `product_name`): 409 `product_unavailable` (from the
        cart `cart_product_unavailable`) for a product unknown or off sale, 409 `insufficient_stock`
        with what is `available`. Nothing is placed then, and the same request (and Idempotency-Key)
        goes through once the catalog allows it.

        Answers 201 with the order, `PENDING` with its stock held until `payment_due_at`: do what
        its `next_action` says (open the PG's widget and confirm, or show the virtual account). With
        the sandbox gateway a card order may be paid in this call with `payment_token` (the order
        answers `PAID`, or `CANCELLED` with the reason). An order that lost a race for the last
        units is answered `CANCELLED` with `cancel_code` `insufficient_stock`. The same
        Idempotency-Key answers the first order again (`Idempotent-Replayed: true`)."""
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


def etag_of(data) -> str:
    """A weak validator of a JSON body: equal bodies have equal tags, whatever their bytes on the wire."""
    return f'W/"{hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:32]}"'


def conditional_response(request, data) -> Response:
    """200 with `data` and its ETag, or 304 with no body when If-None-Match already names that tag
    (weak comparison, as RFC 9110 asks of If-None-Match; `*` matches any)."""
    etag = etag_of(data)
    known = parse_etags(request.headers.get("If-None-Match", ""))
    if "*" in known or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in known}:
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(data, headers={"ETag": etag})


IF_NONE_MATCH_HEADER = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of the order as last seen: answered 304 with no body while the order is unchanged.",
)


class OrderDetailApi(APIView):
    @extend_schema(
        summary="Get an order",
        parameters=[
            ORDER_ID,
            IF_NONE_MATCH_HEADER,
            OpenApiParameter(
                "ETag",
                str,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description="The order's version: send it as If-None-Match next time.",
            ),
        ],
        responses={
            200: OrderDetailOutputSerializer,
            304: OpenApiResponse(description="Not modified: the order is as the If-None-Match tag says."),
        },
    )
    def get(self, request, order_id):
        """One of the signed-in customer's orders with everything an app shows: its items as ordered,
        amounts, payment and next action, shipment, and its `history` of status changes. Poll it
        cheaply with the `ETag` it answers: sent back as `If-None-Match`, it is answered 304 with no
        body until something changes. Another customer's order is a 404, like an unknown one."""
        customer = customer_selectors.customer_for_user(user=request.user)
        order = selectors.order_get_for_customer_with_history(customer_id=customer.pk, order_id=order_id)
        return conditional_response(request, OrderDetailOutputSerializer(order).data)


@extend_schema_serializer(examples=[OpenApiExample("With the customer's words", value={"reason": "단순 변심"})])
class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=150,
        required=False,
        default="",
        help_text="Free text, up to 150 characters: the canceller's own words, kept for staff (optional).",
    )


class OrderCancelApi(APIView):
    @extend_schema(
        summary="Cancel my order",
        parameters=[ORDER_ID],
        request=CancelInputSerializer,
        responses={200: OrderDetailOutputSerializer, **domain_errors(errors.OrderNotCancellable)},
    )
    def post(self, request, order_id):
        """Cancel an own order that has not shipped, whole: its stock goes back on the shelf and what
        was paid is refunded the way it was paid (a PENDING order is simply not charged). Answers the
        order, CANCELLED with `cancel_code` `customer_cancelled`. Cancelling an order that is already
        cancelled answers it as it is (safe to repeat); a shipped or delivered one is a 409
        `order_not_cancellable`: ask for a return after delivery instead."""
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        order = services.order_cancel(
            order_id=order_id, customer_id=customer.pk, by=actor_of(request), note=data.validated_data["reason"]
        )
        return Response(OrderDetailOutputSerializer(order).data)


# --- staff -----------------------------------------------------------------------------------------


class StaffOrderListApi(FilteredListApi):
    permission_classes = [IsAdminUser]
    serializer_class = StaffOrderOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(PeriodFilterSerializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False, help_text="Only of this status.")
        customer_id = serializers.UUIDField(required=False, help_text="Only this customer's orders.")
        q = serializers.CharField(
            max_length=100,
            required=False,
            help_text="Find by order number (or its start: 20261201-), recipient's name (or its start), "
            "phone number or its last four digits.",
        )

    selector = staticmethod(selectors.order_list_all)

    @extend_schema(summary="List all orders")
    def get(self, request, *args, **kwargs):
        """Staff: every order, newest first, by status, customer, period (days in KST) or a search by
        order number, recipient or phone number."""
        return super().get(request, *args, **kwargs)


class StaffOrderDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(summary="Get any order", parameters=[ORDER_ID], responses=StaffOrderDetailOutputSerializer)
    def get(self, request, order_id):
        """Staff: one order with its audit trail: every status change with who made it and their note."""
        return Response(StaffOrderDetailOutputSerializer(selectors.order_get_with_events(order_id=order_id)).data)


class StaffOrderStatusApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Shipped with CJ대한통운",
                value={"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "1234-5678-9012"},
            ),
            OpenApiExample("Delivered", value={"status": "DELIVERED"}),
        ]
    )
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=FULFILMENT_STATUSES, help_text="SHIPPED (from PAID, with the carrier), then DELIVERED."
        )
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
                    refused[name] = ErrorDetail(
                        gettext("Shipping names the carrier and its tracking number."), code="required"
                    )
                elif not shipping and name in data:
                    refused[name] = ErrorDetail(
                        gettext("Only a shipment has a carrier and tracking."), code="not_applicable"
                    )
            if refused:
                raise serializers.ValidationError(refused)
            return data

    @extend_schema(
        summary="Ship or deliver an order",
        parameters=[ORDER_ID],
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
        """Staff: move a paid order along: PAID -> SHIPPED with the carrier and its tracking number (the
        whole order ships; the customer sees the shipment and its tracking page), then SHIPPED ->
        DELIVERED (the return window opens). Many orders at once: the admin's bulk ship page."""
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
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Cancel any order",
        parameters=[ORDER_ID],
        request=CancelInputSerializer,
        responses={200: StaffOrderDetailOutputSerializer, **domain_errors(errors.OrderNotCancellable)},
    )
    def post(self, request, order_id):
        """Staff: cancel an order that has not shipped (cancel_code staff_cancelled); its stock goes back
        and a paid one is refunded (the saga's compensation). The reason is kept as staff's note: the
        customer reads only "Cancelled by staff". A shipped order is a 409 `order_not_cancellable`."""
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_cancel(order_id=order_id, by=actor_of(request), note=data.validated_data["reason"])
        return Response(StaffOrderDetailOutputSerializer(order).data)


# --- cart ---


@extend_schema_field({"type": "integer", "minimum": 0, "example": 38700})
class CartAmountField(MoneyField):
    """Whole won as MoneyField writes it, with room for more than an order may hold: prices can rise
    after lines were added (the cart shows such an amount; checkout refuses it)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, **kwargs)


class CartLineOutputSerializer(serializers.Serializer):
    product_id = serializers.UUIDField(help_text="The product of the line (name it to change or remove the line).")
    name = serializers.CharField(help_text="The product's current name, e.g. 무선 이어폰 프로.")
    price = MoneyField(help_text="The current catalog price: what checkout charges.")
    price_when_added = MoneyField(help_text="The catalog price when the product was last added to the cart.")
    price_changed = serializers.BooleanField(help_text="price differs from price_when_added: tell the customer.")
    quantity = serializers.IntegerField(help_text=f"Units of the product, 1 to {settings.ORDER_MAX_QUANTITY}.")
    line_total = CartAmountField(help_text="price x quantity.")
    available = serializers.BooleanField(help_text="Still for sale; a line that is not counts in no amount.")
    stock_short = serializers.BooleanField(help_text="Fewer units in stock than the quantity.")
    added_at = serializers.DateTimeField(help_text="When the product was first put into the cart.")


EXAMPLE_CART = {
    "currency": "KRW",
    "lines": [
        {
            "product_id": "7c1e4b9a-2d3f-4a5b-8c6d-9e0f1a2b3c4d",
            "name": "무선 이어폰 프로",
            "price": 129000,
            "price_when_added": 139000,
            "price_changed": True,
            "quantity": 1,
            "line_total": 129000,
            "available": True,
            "stock_short": False,
            "added_at": "2026-11-28T21:40:00+09:00",
        },
        {
            "product_id": "3b9d7f1e-6a2c-4d8b-9e5f-0c1a2b3d4e5f",
            "name": "이어폰 실리콘 케이스",
            "price": 9900,
            "price_when_added": 9900,
            "price_changed": False,
            "quantity": 2,
            "line_total": 19800,
            "available": True,
            "stock_short": False,
            "added_at": "2026-11-28T21:42:00+09:00",
        },
    ],
    "items_amount": 148800,
    "shipping_fee": 0,
    "total_amount": 148800,
    "checkout_ready": True,
}


@extend_schema_serializer(examples=[OpenApiExample("A cart ready for checkout", value=EXAMPLE_CART)])
class CartOutputSerializer(serializers.Serializer):
    currency = CurrencyField()
    lines = CartLineOutputSerializer(many=True, help_text="The cart's lines, the oldest first.")
    items_amount = CartAmountField(help_text="The line totals of the available lines.")
    shipping_fee = MoneyField(
        help_text=f"{settings.SHIPPING_FEE} won, none from {settings.SHIPPING_FREE_FROM} won of items_amount "
        "(none for an empty cart)."
    )
    total_amount = CartAmountField(help_text="items_amount + shipping_fee.")
    checkout_ready = serializers.BooleanField(
        help_text="POST /api/v1/orders/ with from_cart would take it as it is: some lines, all available and "
        "in stock, within the largest order total."
    )


def _cart_response(customer_id, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(selectors.cart_view(customer_id=customer_id)).data, status=status_code)


class CartApi(APIView):
    """The signed-in customer's cart, kept between sessions until checkout empties it."""

    @extend_schema(summary="Get my cart", responses=CartOutputSerializer, operation_id="orders_cart_retrieve")
    def get(self, request):
        """The cart at current catalog prices, with lines flagged whose price changed since they were
        added, whose product is no longer for sale or whose stock is short."""
        customer = customer_selectors.customer_for_user(user=request.user)
        return _cart_response(customer.pk)

    @extend_schema(summary="Empty my cart", responses={204: None}, operation_id="orders_cart_clear")
    def delete(self, request):
        """Empty the cart (a checkout from the cart empties it by itself)."""
        customer = customer_selectors.customer_for_user(user=request.user)
        services.cart_clear(customer_id=customer.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemAddApi(APIView):
    @extend_schema_serializer(
        examples=[
            OpenApiExample("Two cases", value={"product_id": "3b9d7f1e-6a2c-4d8b-9e5f-0c1a2b3d4e5f", "quantity": 2})
        ]
    )
    class InputSerializer(serializers.Serializer):
        product_id = serializers.UUIDField(help_text="The product to add: one for sale.")
        quantity = serializers.IntegerField(
            min_value=1,
            max_value=settings.ORDER_MAX_QUANTITY,
            help_text="Units to add on top of those in the cart already.",
        )

    @extend_schema(
        summary="Add to my cart",
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
    @extend_schema_serializer(examples=[OpenApiExample("Three units", value={"quantity": 3})])
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(
            min_value=1,
            max_value=settings.ORDER_MAX_QUANTITY,
            help_text=f"The line's new number of units, 1 to {settings.ORDER_MAX_QUANTITY} (remove it with DELETE).",
        )

    @extend_schema(
        summary="Change a cart line's quantity",
        parameters=[CART_PRODUCT_ID],
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
        summary="Remove a product from my cart",
        parameters=[CART_PRODUCT_ID],
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
    order_item_id = serializers.UUIDField(help_text="The order's line returned (items[].id of the order).")
    product_id = serializers.UUIDField(source="order_item.product_id", help_text="The product of the line.")
    product_name = serializers.CharField(
        source="order_item.product_name", help_text="The product's name when it was ordered, e.g. 무선 이어폰 프로."
    )
    quantity = serializers.IntegerField(help_text="Units of the line returned.")
    price = MoneyField(source="order_item.price", help_text="Unit price at order time.")
    resellable = serializers.BooleanField(
        allow_null=True, help_text="Staff's decision when the parcel arrived (back on the shelf); null until then."
    )


EXAMPLE_RETURN = {
    "id": "6e2a9c4f-8b1d-4a7e-9c3b-5f0d2e8a1c6b",
    "order_id": EXAMPLE_ORDER_ID,
    "order_number": "20261201-000123",
    "status": "REQUESTED",
    "reason": "defective",
    "reason_text": "왼쪽 이어폰에서 소리가 나지 않아요.",
    "staff_note": "",
    "items": [
        {
            "order_item_id": EXAMPLE_EARPHONES_LINE_ID,
            "product_id": "7c1e4b9a-2d3f-4a5b-8c6d-9e0f1a2b3c4d",
            "product_name": "무선 이어폰 프로",
            "quantity": 1,
            "price": 129000,
            "resellable": None,
        }
    ],
    "currency": "KRW",
    "return_shipping_fee": 0,
    "refund_amount": 129000,
    "created_at": "2026-12-05T09:20:00+09:00",
    "updated_at": "2026-12-05T09:20:00+09:00",
}
EXAMPLE_RETURN_EVENTS = [
    {
        "from_status": None,
        "to_status": "REQUESTED",
        "actor": "customer:minji.kim@example.kr",
        "note": "",
        "created_at": "2026-12-05T09:20:00+09:00",
    }
]


@extend_schema_serializer(examples=[OpenApiExample("A return of a defective line", value=EXAMPLE_RETURN)])
class ReturnOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The return's id.")
    order_id = serializers.UUIDField(help_text="The order returned from.")
    order_number = serializers.CharField(source="order.order_number", help_text="That order's number.")
    status = serializers.ChoiceField(
        choices=ReturnStatus.choices,
        help_text="REQUESTED (staff decide), APPROVED (send the parcel back) or REJECTED (see staff_note), "
        "RECEIVED (the parcel arrived), REFUNDED (refund_amount went back).",
    )
    reason = serializers.ChoiceField(choices=ReturnReason.choices, help_text="Why, as the customer chose it.")
    reason_text = serializers.CharField(help_text='The customer\'s words (required with reason other); "" when none.')
    staff_note = serializers.CharField(help_text="Staff's words, e.g. why a return was rejected.")
    items = ReturnItemOutputSerializer(many=True, help_text="The lines returned and their units.")
    currency = CurrencyField()
    return_shipping_fee = MoneyField(
        help_text=f"Kept from the refund when the reason is the customer's ({settings.RETURN_SHIPPING_FEE} won); 0 "
        "otherwise."
    )
    refund_amount = MoneyField(help_text="The items at their order prices less return_shipping_fee (at least 0).")
    created_at = serializers.DateTimeField(help_text="When it was asked for.")
    updated_at = serializers.DateTimeField(help_text="When it last changed.")


class ReturnEventOutputSerializer(serializers.Serializer):
    from_status = OptionalChoiceField(choices=ReturnStatus.choices, help_text="The status before; null when asked for.")
    to_status = serializers.ChoiceField(choices=ReturnStatus.choices, help_text="The status after.")
    actor = serializers.CharField(help_text="Who made the change, as kind:identity (staff:kim@c4ang.com).")
    note = serializers.CharField(help_text='Their words; "" when none.')
    created_at = serializers.DateTimeField(help_text="When it happened.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A return of a defective line", value={**EXAMPLE_RETURN, "customer_id": EXAMPLE_STAFF_FIELDS["customer_id"]}
        )
    ]
)
class StaffReturnOutputSerializer(ReturnOutputSerializer):
    customer_id = serializers.UUIDField(help_text="The customer who asked for it.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A return of a defective line",
            value={
                **EXAMPLE_RETURN,
                "customer_id": EXAMPLE_STAFF_FIELDS["customer_id"],
                "events": EXAMPLE_RETURN_EVENTS,
            },
        )
    ]
)
class StaffReturnDetailOutputSerializer(StaffReturnOutputSerializer):
    events = ReturnEventOutputSerializer(many=True, help_text="Every status change, oldest first.")


class OrderReturnCreateApi(APIView):
    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "A defective line",
                value={
                    "items": [{"order_item_id": EXAMPLE_EARPHONES_LINE_ID, "quantity": 1}],
                    "reason": "defective",
                    "reason_text": "왼쪽 이어폰에서 소리가 나지 않아요.",
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            order_item_id = serializers.UUIDField(help_text="The line to return: items[].id of the order.")
            quantity = serializers.IntegerField(
                min_value=1, max_value=settings.ORDER_MAX_QUANTITY, help_text="Units of it to send back."
            )

        items = LineSerializer(
            many=True,
            allow_empty=False,
            max_length=settings.ORDER_MAX_LINES,
            help_text="The lines to return, each once, and their units (at most those delivered and not returned).",
        )
        reason = serializers.ChoiceField(
            choices=ReturnReason.choices,
            help_text="Why. changed_mind and other are the customer's: the return shipping fee is kept from the "
            "refund.",
        )
        reason_text = serializers.CharField(
            max_length=500,
            required=False,
            allow_blank=True,
            default="",
            help_text="The customer's words, up to 500 characters; required with reason other.",
        )

        def validate_items(self, items):
            return each_once(items, "order_item_id", message=gettext("Each order line may appear once only."))

    @extend_schema(
        summary="Ask to return units of my order",
        description=f"Ask to return units of some lines of an own delivered order (반품), within "
        f"{settings.RETURN_WINDOW_DAYS} days of its delivery. The refund is fixed now (refund_amount): the units "
        "at their order prices, less the return shipping fee when the reason is the customer's. Staff approve it "
        "(or reject it, saying why), receive the parcel and refund it the way the order was paid; follow it under "
        "GET /api/v1/orders/returns/.",
        parameters=[ORDER_ID],
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
        status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False, help_text="Only of this status.")

    @extend_schema(summary="List my returns")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in customer
            return selectors.return_none()
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.return_list_for_customer(customer_id=customer.pk, **filters.validated_data)


class ReturnDetailApi(APIView):
    @extend_schema(summary="Get my return", parameters=[RETURN_ID], responses=ReturnOutputSerializer)
    def get(self, request, return_id):
        """One of the signed-in customer's returns: its status, lines, refund and staff's words.
        Another customer's return is a 404, like an unknown one."""
        customer = customer_selectors.customer_for_user(user=request.user)
        found = selectors.return_get_for_customer(customer_id=customer.pk, return_id=return_id)
        return Response(ReturnOutputSerializer(found).data)


class StaffReturnListApi(FilteredListApi):
    """Staff: the returns queue, newest first; `?status=REQUESTED` is what waits for a decision."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffReturnOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False, help_text="Only of this status.")
        order_id = serializers.UUIDField(required=False, help_text="Only the returns of this order.")
        customer_id = serializers.UUIDField(required=False, help_text="Only this customer's returns.")

    selector = staticmethod(selectors.return_list_all)

    @extend_schema(summary="List all returns")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StaffReturnDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(summary="Get any return", parameters=[RETURN_ID], responses=StaffReturnDetailOutputSerializer)
    def get(self, request, return_id):
        """Staff: one return with its audit trail (who moved it, when, with what words)."""
        return Response(StaffReturnDetailOutputSerializer(selectors.return_get(return_id=return_id)).data)


@extend_schema_serializer(
    examples=[OpenApiExample("With a note", value={"note": "사진 확인 완료: 불량으로 보입니다."})]
)
class ReturnNoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Staff's words, up to 500 characters, shown to the customer as staff_note (optional).",
    )


class StaffReturnApproveApi(APIView):
    """Staff: accept a REQUESTED return (APPROVED): the customer sends the parcel back."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Approve a return",
        parameters=[RETURN_ID],
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

    @extend_schema_serializer(
        examples=[OpenApiExample("Why", value={"note": "수령 후 14일이 지나 반품할 수 없습니다."})]
    )
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(
            max_length=500, help_text="Why, up to 500 characters: the customer reads it as staff_note."
        )

    @extend_schema(
        summary="Reject a return",
        parameters=[RETURN_ID],
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

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Not resellable",
                value={
                    "lines": [{"order_item_id": EXAMPLE_EARPHONES_LINE_ID, "resellable": False}],
                    "note": "불량 확인, 폐기",
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            order_item_id = serializers.UUIDField(help_text="A line of the return (items[].order_item_id).")
            resellable = serializers.BooleanField(help_text="true: its units go back on the shelf (stock).")

        lines = LineSerializer(many=True, allow_empty=False, help_text="One decision for each line of the return.")
        note = serializers.CharField(
            max_length=500,
            required=False,
            allow_blank=True,
            default="",
            help_text="Staff's words, up to 500 characters, shown to the customer as staff_note (optional).",
        )

        def validate_lines(self, lines):
            return each_once(
                lines, "order_item_id", message=gettext("Each line of the return may appear once only."), code="invalid"
            )

    @extend_schema(
        summary="Receive a returned parcel",
        parameters=[RETURN_ID],
        request=InputSerializer,
        responses={
            200: StaffReturnDetailOutputSerializer,
            **domain_errors(errors.InvalidReturnTransition, errors.ReturnLinesMismatch),
        },
    )
    def post(self, request, return_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resellable = {line["order_item_id"]: line["resellable"] for line in data.validated_data["lines"]}
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
        summary="Refund a received return",
        parameters=[RETURN_ID],
        request=None,
        responses={
            200: StaffReturnDetailOutputSerializer,
            202: OpenApiResponse(
                StaffReturnDetailOutputSerializer,
                description="The PG has not answered: the return stays RECEIVED until the refund goes through.",
                examples=[
                    OpenApiExample(
                        "Received, its refund not answered yet",
                        value={
                            **EXAMPLE_RETURN,
                            "status": "RECEIVED",
                            "customer_id": EXAMPLE_STAFF_FIELDS["customer_id"],
                            "events": EXAMPLE_RETURN_EVENTS,
                        },
                    )
                ],
            ),
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


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "One case of two",
            value={"lines": [{"order_item_id": EXAMPLE_CASE_LINE_ID, "quantity": 1}], "reason": "하나만 필요해요"},
        )
    ]
)
class CancelLinesInputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        order_item_id = serializers.UUIDField(help_text="The line's id: items[].id of the order.")
        quantity = serializers.IntegerField(
            min_value=1,
            max_value=settings.ORDER_MAX_QUANTITY,
            help_text="Units of the line to cancel: at most its active_quantity.",
        )

    lines = LineSerializer(
        many=True,
        allow_empty=False,
        max_length=settings.ORDER_MAX_LINES,
        help_text="The lines to cancel units of, each once.",
    )
    reason = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Free text, up to 150 characters: the canceller's own words, kept for staff (optional).",
    )

    def validate_lines(self, lines):
        return each_once(lines, "order_item_id", message=gettext("Each line may appear once."))


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

    @extend_schema(
        summary="Cancel some units of my order",
        parameters=[ORDER_ID],
        request=CancelLinesInputSerializer,
        responses={200: OrderDetailOutputSerializer, **CANCEL_LINES_ERRORS},
    )
    def post(self, request, order_id):
        customer = customer_selectors.customer_for_user(user=request.user)
        return Response(OrderDetailOutputSerializer(_cancel_lines(request, order_id, customer_id=customer.pk)).data)


class StaffOrderCancelLinesApi(APIView):
    """Staff: cancel some units of some lines of a PAID order before it ships, as the customer may."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Cancel some units of any order",
        parameters=[ORDER_ID],
        request=CancelLinesInputSerializer,
        responses={200: StaffOrderDetailOutputSerializer, **CANCEL_LINES_ERRORS},
    )
    def post(self, request, order_id):
        return Response(StaffOrderDetailOutputSerializer(_cancel_lines(request, order_id)).data)
