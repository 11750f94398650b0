"""The orders API: customers place, list, view and cancel their own orders; staff see all and ship."""

import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.fields import MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import FilteredListApi
from customers import errors as customer_errors
from customers import selectors as customer_selectors
from orders import errors, selectors, services
from orders.constants import CancelReason, OrderStatus
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


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    total_amount = MoneyField()
    cancel_reason = serializers.ChoiceField(choices=CancelReason.choices, allow_blank=True)
    cancel_note = serializers.CharField()
    items = OrderItemOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


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


class OrderListCreateApi(generics.ListAPIView):
    """The signed-in customer's own orders, newest first; POST places an order."""

    serializer_class = OrderOutputSerializer
    pagination_class = BoundedCursorPagination

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            product_id = serializers.UUIDField()
            quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)

        items = LineSerializer(many=True, allow_empty=False, max_length=settings.ORDER_MAX_LINES)
        payment_token = serializers.CharField(
            max_length=200,
            required=False,
            help_text="Pay in the same call (a PG payment key, or a fake sandbox token such as tok_approve). "
            "Without it the order waits as PENDING for POST /api/v1/payments/confirm.",
        )

        def validate_items(self, items):
            product_ids = [line["product_id"] for line in items]
            if len(set(product_ids)) != len(product_ids):
                raise serializers.ValidationError("Each product may appear on one line only.", code="duplicate_product")
            return items

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in customer
            return selectors.order_none()
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.order_list_for_customer(customer_id=customer.id)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OrderOutputSerializer,
            **domain_errors(
                product_errors.ProductUnavailable,
                errors.OrderTooLarge,
                customer_errors.CustomerInactive,
                errors.IdempotencyKeyReused,
            ),
        },
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = idempotency_key_of(request)
        customer = customer_selectors.customer_for_user(user=request.user)
        order, replayed = services.order_place(
            customer_id=customer.pk,
            lines=[services.OrderLine(**line) for line in data.validated_data["items"]],
            payment_token=data.validated_data.get("payment_token"),
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

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
        customer_id = serializers.UUIDField(required=False)

    selector = staticmethod(selectors.order_list_all)


class StaffOrderDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=StaffOrderDetailOutputSerializer)
    def get(self, request, order_id):
        return Response(StaffOrderDetailOutputSerializer(selectors.order_get_with_events(order_id=order_id)).data)


class StaffOrderStatusApi(APIView):
    """Staff: move a paid order along: PAID -> SHIPPED -> DELIVERED."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[OrderStatus.SHIPPED, OrderStatus.DELIVERED])

    @extend_schema(
        request=InputSerializer,
        responses={200: StaffOrderDetailOutputSerializer, **domain_errors(errors.InvalidStatusTransition)},
    )
    def post(self, request, order_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_status_change(
            order_id=order_id, to_status=data.validated_data["status"], by=actor_of(request)
        )
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
