from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.api.fields import CurrencyField, MoneyField
from c4ang.api.schema import domain_errors
from customers import selectors as customer_selectors
from products.errors import ProductNotFound
from recommendations import selectors
from recommendations.ranking import ALGORITHM


class RecommendationCategorySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The product's category (GET /api/v1/products/categories/).")
    name = serializers.CharField(help_text="Its name, e.g. 음향기기.")


class RecommendationProductSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The product's id: its detail is GET /api/v1/products/{product_id}/.")
    name = serializers.CharField(help_text="Its name, e.g. 무선 이어폰 프로.")
    category = RecommendationCategorySerializer(help_text="The category it is in.")
    brand = serializers.CharField(help_text="Its brand.")
    price = MoneyField(help_text="Whole won: what one unit costs, VAT included.")
    currency = CurrencyField()
    rating_average = serializers.DecimalField(
        max_digits=2,
        decimal_places=1,
        min_value=1,
        max_value=5,
        coerce_to_string=False,
        allow_null=True,
        help_text="The mean rating (1 to 5, one decimal) of its approved reviews; null without any.",
    )
    review_count = serializers.IntegerField(help_text="How many approved reviews it has.")


class RecommendedProductSerializer(serializers.Serializer):
    product = RecommendationProductSerializer(help_text="The product recommended (for sale now).")
    score = serializers.FloatField(
        help_text="How strongly it is recommended, 0 to 1; the results are by it, best first."
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Bought together with a pair of earphones",
            value={
                "algorithm": ALGORITHM,
                "generated_at": "2026-12-01T04:00:00+09:00",
                "results": [
                    {
                        "product": {
                            "id": "8b0d2f4a-6c8e-4a0c-9e2f-4b6d8f0a2c4e",
                            "name": "블루투스 스피커 미니",
                            "category": {"id": "9a1c2e3f-4b5d-4c6e-8f7a-0b1c2d3e4f5a", "name": "음향기기"},
                            "brand": "소니",
                            "price": 59000,
                            "currency": "KRW",
                            "rating_average": 4.3,
                            "review_count": 86,
                        },
                        "score": 0.82,
                    }
                ],
            },
        )
    ]
)
class RecommendationsOutputSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(
        choices=[ALGORITHM, selectors.PERSONAL_ALGORITHM],
        help_text=f"How they were ranked: {ALGORITHM} (70% same category and brand, 30% popularity) for a "
        f"product; {selectors.PERSONAL_ALGORITHM} (the same, from the customer's latest purchases) for the customer.",
    )
    generated_at = serializers.DateTimeField(
        allow_null=True, help_text="When the daily pipeline ranked them (ISO 8601, KST); null before its first run."
    )
    results = RecommendedProductSerializer(many=True, help_text="Up to 10 products for sale, best first; may be empty.")


class ProductRecommendationsApi(APIView):
    """The top 10 products recommended with a product (daily pipeline), best first. Public. A product
    off sale or unknown is a 404; one not ranked yet has no results."""

    reads_from_replica = True  # c4ang.replica

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Recommend products with a product",
        operation_id="recommendations_for_product",
        parameters=[
            OpenApiParameter(
                "product_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The id of a product for sale (`id` of the product list).",
            )
        ],
        responses={200: RecommendationsOutputSerializer, **domain_errors(ProductNotFound)},
    )
    def get(self, request, product_id):
        recommendations = selectors.recommendations_for_product(product_id=product_id)
        return Response(RecommendationsOutputSerializer(recommendations).data)


class MyRecommendationsApi(APIView):
    """The signed-in customer's personal recommendations, from their latest purchases (products
    already bought left out), best first; empty before a first purchase."""

    @extend_schema(
        summary="Recommend products to me",
        operation_id="recommendations_for_me",
        responses=RecommendationsOutputSerializer,
    )
    def get(self, request):
        customer = customer_selectors.customer_for_user(user=request.user)
        recommendations = selectors.recommendations_for_customer(customer_id=customer.id)
        return Response(RecommendationsOutputSerializer(recommendations).data)
