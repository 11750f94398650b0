from rest_framework import generics, serializers

from c4ang.api.pagination import BoundedCursorPagination
from customers import selectors as customer_selectors
from orders import selectors


class OrderItemOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    quantity = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    total_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    cancel_reason = serializers.CharField()
    items = OrderItemOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderListApi(generics.ListAPIView):
    """The signed-in customer's own orders, newest first."""

    serializer_class = OrderOutputSerializer
    pagination_class = BoundedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in customer
            return selectors.order_none()
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.order_list_for_customer(customer_id=customer.id)
