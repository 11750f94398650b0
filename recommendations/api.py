from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.api.fields import MoneyField
from customers import selectors as customer_selectors
from recommendations import selectors


class RecommendationCategorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class RecommendationProductSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    category = RecommendationCategorySerializer()
    brand = serializers.CharField()
    price = MoneyField()


class RecommendedProductSerializer(serializers.Serializer):
    product = RecommendationProductSerializer()
    score = serializers.FloatField()


class RecommendationsOutputSerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    generated_at = serializers.DateTimeField(allow_null=True)
    results = RecommendedProductSerializer(many=True)


class ProductRecommendationsApi(APIView):
    """The top 10 products recommended with a product (daily pipeline), best first."""

    permission_classes = [AllowAny]

    @extend_schema(responses=RecommendationsOutputSerializer, operation_id="recommendations_for_product")
    def get(self, request, product_id):
        recommendations = selectors.recommendations_for_product(product_id=product_id)
        return Response(RecommendationsOutputSerializer(recommendations).data)


class MyRecommendationsApi(APIView):
    """The signed-in customer's personal recommendations, from their latest purchases."""

    @extend_schema(responses=RecommendationsOutputSerializer, operation_id="recommendations_for_me")
    def get(self, request):
        customer = customer_selectors.customer_for_user(user=request.user)
        recommendations = selectors.recommendations_for_customer(customer_id=customer.id)
        return Response(RecommendationsOutputSerializer(recommendations).data)
