from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from products import selectors
from products.filters import ProductFilter


class CategorySummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    category = CategorySummarySerializer()
    brand = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    stock = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ProductListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.product_list_public()


class ProductDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductOutputSerializer

    def get_object(self):
        return selectors.product_get_public(product_id=self.kwargs["product_id"])
