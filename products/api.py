"""The catalog API: public list and detail (cached), reviews, and the staff catalog operations."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.fields import MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import CachedPublicReadApi
from c4ang.cache import CachedBody
from customers import selectors as customer_selectors
from products import cache, errors, hooks, selectors, services
from products.constants import STOCK_MAX
from products.filters import ProductFilter
from products.models import Review


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)


class CategorySummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    category = CategorySummarySerializer()
    brand = serializers.CharField()
    price = MoneyField()
    stock = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class SentimentOutputSerializer(serializers.Serializer):
    positive_ratio = serializers.FloatField()
    negative_ratio = serializers.FloatField()
    avg_sentiment = serializers.FloatField()
    review_count = serializers.IntegerField()
    analyzed_at = serializers.DateTimeField()


class ProductDetailOutputSerializer(ProductOutputSerializer):
    sentiment = SentimentOutputSerializer(allow_null=True)


class StaffProductOutputSerializer(ProductOutputSerializer):
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class ProductListApi(CachedPublicReadApi, generics.ListAPIView):
    """Products for sale: filter by category, brand, price range; search by name; order. Cached."""

    serializer_class = ProductOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.product_list_public()

    def cached_body(self, request) -> CachedBody:
        # The host is part of the page: the pagination links are absolute.
        query = "&".join(sorted(f"{k}={v}" for k, values in request.GET.lists() for v in values))
        return cache.product_list_page(f"{request.get_host()}?{query}")

    def build(self, request) -> dict:
        return self.list(request).data


class ProductDetailApi(CachedPublicReadApi):
    """One product for sale with its latest review sentiment (when analysed). Cached."""

    def cached_body(self, request, product_id) -> CachedBody:
        return cache.product_detail(product_id)

    def build(self, request, product_id) -> dict:
        product = selectors.product_get_public(product_id=product_id)
        product.sentiment = hooks.sentiment_summary(product_id=product.pk)
        return ProductDetailOutputSerializer(product).data

    @extend_schema(responses=ProductDetailOutputSerializer)
    def get(self, request, product_id):
        return super().get(request, product_id=product_id)


class CategoryListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CategoryOutputSerializer

    def get_queryset(self):
        return selectors.category_list()


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    rating = serializers.IntegerField()
    content = serializers.CharField()
    is_verified_purchase = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class StaffReviewOutputSerializer(ReviewOutputSerializer):
    customer_id = serializers.UUIDField()
    status = serializers.CharField()


class ReviewListCreateApi(generics.ListAPIView):
    """Approved reviews of a product, newest first; a signed-in customer adds one (once per product)."""

    serializer_class = ReviewOutputSerializer
    pagination_class = BoundedCursorPagination

    class InputSerializer(serializers.Serializer):
        rating = serializers.IntegerField(min_value=1, max_value=5)
        content = serializers.CharField(max_length=2000)

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.review_list_public(product_id=self.kwargs["product_id"])

    @extend_schema(
        request=InputSerializer, responses={201: ReviewOutputSerializer, **domain_errors(errors.ReviewAlreadyExists)}
    )
    def post(self, request, product_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        review = services.review_create(product_id=product_id, customer_id=customer.pk, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


# --- staff -----------------------------------------------------------------------------------------


class StaffCategoryCreateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        parent_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: CategoryOutputSerializer, **domain_errors(errors.CategoryAlreadyExists)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(**data.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


class StaffProductListCreateApi(generics.ListAPIView):
    """Staff: every product (including those off sale), and product creation."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffProductOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        category_id = serializers.UUIDField()
        brand = serializers.CharField(max_length=100)
        price = MoneyField(min_value=0)
        stock = serializers.IntegerField(min_value=0, max_value=STOCK_MAX, default=0)

    def get_queryset(self):
        return selectors.product_list_all()

    @extend_schema(request=InputSerializer, responses={201: StaffProductOutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        category = selectors.category_get(category_id=data.pop("category_id"))
        product = services.product_create(category=category, **data)
        return Response(StaffProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class StaffProductDetailApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        category_id = serializers.UUIDField(required=False)
        brand = serializers.CharField(max_length=100, required=False)
        price = MoneyField(min_value=0, required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(responses=StaffProductOutputSerializer)
    def get(self, request, product_id):
        return Response(StaffProductOutputSerializer(selectors.product_get(product_id=product_id)).data)

    @extend_schema(request=InputSerializer, responses=StaffProductOutputSerializer)
    def patch(self, request, product_id):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "category_id" in data:
            data["category"] = selectors.category_get(category_id=data.pop("category_id"))
        product = services.product_update(product_id=product_id, **data)
        return Response(StaffProductOutputSerializer(product).data)

    @extend_schema(responses={200: StaffProductOutputSerializer})
    def delete(self, request, product_id):
        product = services.product_deactivate(product_id=product_id)
        return Response(StaffProductOutputSerializer(product).data)


class StaffStockAdjustApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
        reason = serializers.CharField(max_length=200)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: StaffProductOutputSerializer,
            **domain_errors(errors.InsufficientStock, errors.StockAboveMaximum),
        },
    )
    def post(self, request, product_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.stock_adjust(product_id=product_id, by=actor_of(request), **data.validated_data)
        return Response(StaffProductOutputSerializer(product).data)


class StaffReviewModerateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Review.Status.choices)

    @extend_schema(request=InputSerializer, responses=StaffReviewOutputSerializer)
    def patch(self, request, review_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_moderate(review_id=review_id, **data.validated_data)
        return Response(StaffReviewOutputSerializer(review).data)
