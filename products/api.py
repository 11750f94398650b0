"""The catalog API: public list, detail and brands (cached), reviews, and the staff catalog operations."""

from django.conf import settings
from django.core.files.storage import default_storage
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.fields import CurrencyField, MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import CachedPublicReadApi, ListApi
from c4ang.cache import CachedBody
from customers import selectors as customer_selectors
from products import cache, errors, hooks, images, selectors, services
from products.constants import STOCK_MAX
from products.filters import ProductFilter
from products.models import ProductImage, Review

# --- examples (realistic shop data: the schema's samples) ---

EARPHONES_ID = "3f2b8c1e-7a4d-4e9b-9c2a-1d5e6f7a8b9c"
AUDIO_ID = "9a1c2e3f-4b5d-4c6e-8f7a-0b1c2d3e4f5a"
ELECTRONICS_ID = "5d7e9f1a-2b3c-4d5e-9f6a-7b8c9d0e1f2a"
IMAGE_ID = "c8e2f4a6-1b3d-4f5a-8c7e-9d0f1a2b3c4d"
REVIEW_ID = "e4b6d8f0-2a4c-4e6a-9b8d-0f1e2d3c4b5a"
CUSTOMER_ID = "7c9e1a3b-5d7f-4a9c-8e1b-3d5f7a9c1e3b"
MEDIA = "https://cdn.shop.example.com/media/products"
CATEGORY_EXAMPLE = {"id": AUDIO_ID, "name": "음향기기"}
PRODUCT_EXAMPLE = {
    "id": EARPHONES_ID,
    "name": "무선 이어폰 프로",
    "category": CATEGORY_EXAMPLE,
    "brand": "소니",
    "price": 129000,
    "currency": "KRW",
    "stock": 42,
    "rating_average": 4.6,
    "review_count": 128,
    "created_at": "2026-11-20T10:15:00+09:00",
}
IMAGE_EXAMPLE = {
    "id": IMAGE_ID,
    "url": f"{MEDIA}/originals/{IMAGE_ID}.jpg",
    "width": 2000,
    "height": 2000,
    "alt_text": "무선 이어폰 프로 정면",
    "position": 0,
    "is_primary": True,
    "variants": {
        "thumbnail": f"{MEDIA}/variants/{IMAGE_ID}/thumbnail.webp",
        "list": f"{MEDIA}/variants/{IMAGE_ID}/list.webp",
        "detail": f"{MEDIA}/variants/{IMAGE_ID}/detail.webp",
    },
}
STAFF_PRODUCT_EXAMPLE = {**PRODUCT_EXAMPLE, "is_active": True, "updated_at": "2026-12-01T09:30:00+09:00"}
REVIEW_EXAMPLE = {
    "id": REVIEW_ID,
    "product_id": EARPHONES_ID,
    "rating": 5,
    "content": "노이즈 캔슬링이 좋고 배송도 빨랐어요.",
    "is_verified_purchase": True,
    "created_at": "2026-11-28T21:04:00+09:00",
}


def _path_id(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=what)


PRODUCT_ID = _path_id("product_id", "The product's id (`id` of the product list and detail).")
PRODUCT_FOR_SALE_ID = _path_id("product_id", "The id of a product for sale; one off sale or unknown is a 404.")
IMAGE_PATH_ID = _path_id("image_id", "The image's id (`id` of the product's images).")
CATEGORY_ID = _path_id("category_id", "The category's id (`id` of GET /api/v1/products/categories/).")
REVIEW_PATH_ID = _path_id("review_id", "The review's id (`id` of the product's reviews).")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A subcategory",
            value={
                "id": AUDIO_ID,
                "name": "음향기기",
                "parent_id": ELECTRONICS_ID,
                "depth": 1,
                "path": f"/{ELECTRONICS_ID}/{AUDIO_ID}/",
            },
        )
    ]
)
class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The category's id: the products' `category` filter takes it.")
    name = serializers.CharField(help_text="Its name, unique in the shop, e.g. 음향기기.")
    parent_id = serializers.UUIDField(allow_null=True, help_text="The parent category's id; null for a root.")
    depth = serializers.IntegerField(help_text="0 for a root, 1 for its children, …")
    path = serializers.CharField(help_text="The ids from the root down to this category: /<root id>/…/<own id>/.")


class CategorySummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The product's category (GET /api/v1/products/categories/).")
    name = serializers.CharField(help_text="Its name, e.g. 음향기기.")


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The product's id.")
    name = serializers.CharField(help_text="Its name, up to 200 characters, e.g. 무선 이어폰 프로.")
    category = CategorySummarySerializer(help_text="The category it is in.")
    brand = serializers.CharField(help_text="Its brand, up to 100 characters: the list's `brand` filter takes it.")
    price = MoneyField(help_text="Whole won: what one unit costs, VAT included.")
    currency = CurrencyField()
    stock = serializers.IntegerField(help_text="Units in stock now; 0 is sold out (still listed, not orderable).")
    rating_average = serializers.DecimalField(
        max_digits=2,
        decimal_places=1,
        min_value=1,
        max_value=5,
        coerce_to_string=False,
        allow_null=True,
        help_text="The mean rating (1 to 5, one decimal, half up) of its approved reviews; null without any.",
    )
    review_count = serializers.IntegerField(
        help_text="How many approved reviews it has (those the reviews list shows)."
    )
    created_at = serializers.DateTimeField(help_text="When it was added to the catalog (ISO 8601, KST).")


# --- images (the output shapes the catalog outputs below use; the staff views are at the end) ---


class ProductImageVariantsOutputSerializer(serializers.Serializer):
    thumbnail = serializers.CharField(help_text="URL of the 200 px wide WebP.")
    list = serializers.CharField(help_text="URL of the 400 px wide WebP.")
    detail = serializers.CharField(help_text="URL of the 1000 px wide WebP.")


@extend_schema_serializer(examples=[OpenApiExample("A product's primary image", value=IMAGE_EXAMPLE)])
class ProductImageOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The image's id.")
    url = serializers.CharField(source="original.url", help_text="URL of the original (EXIF stripped).")
    width = serializers.IntegerField(help_text="The original's width in pixels.")
    height = serializers.IntegerField(help_text="The original's height in pixels.")
    alt_text = serializers.CharField(
        help_text="What it shows, for screen readers (up to 200 characters; may be empty)."
    )
    position = serializers.IntegerField(help_text="Its place among the product's images, 0 first.")
    is_primary = serializers.BooleanField(help_text="Whether it is the product's primary image (exactly one is).")
    variants = serializers.SerializerMethodField(help_text="URLs of the sizes made at upload (never enlarged).")

    @extend_schema_field(ProductImageVariantsOutputSerializer)
    def get_variants(self, image) -> dict:
        return {size: default_storage.url(name) for size, name in image.variants.items()}


@extend_schema_serializer(
    examples=[OpenApiExample("A product for sale", value={**PRODUCT_EXAMPLE, "primary_image": IMAGE_EXAMPLE})]
)
class ProductListItemOutputSerializer(ProductOutputSerializer):
    """A product of the public list: with its primary image (selectors.products_with_primary_image)."""

    primary_image = serializers.SerializerMethodField(
        help_text="Its primary image (`variants.list` suits a list); null when it has none."
    )

    @extend_schema_field(ProductImageOutputSerializer(allow_null=True))
    def get_primary_image(self, product) -> dict | None:
        primary = product.primary_images
        return ProductImageOutputSerializer(primary[0]).data if primary else None


class SentimentOutputSerializer(serializers.Serializer):
    positive_ratio = serializers.FloatField(help_text="Share of the analysed reviews that read positive, 0 to 1.")
    negative_ratio = serializers.FloatField(help_text="Share that read negative, 0 to 1 (neutral ones are neither).")
    avg_sentiment = serializers.FloatField(help_text="Their mean sentiment, -1 (negative) to 1 (positive).")
    review_count = serializers.IntegerField(
        help_text="How many reviews were analysed: the approved ones of the window before `analyzed_at` "
        "(not the product's `review_count`, which counts them all)."
    )
    analyzed_at = serializers.DateTimeField(help_text="When the weekly analysis ran (ISO 8601, KST).")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A product with its images and review sentiment",
            value={
                **PRODUCT_EXAMPLE,
                "primary_image": IMAGE_EXAMPLE,
                "sentiment": {
                    "positive_ratio": 0.82,
                    "negative_ratio": 0.09,
                    "avg_sentiment": 0.64,
                    "review_count": 57,
                    "analyzed_at": "2026-11-30T03:00:00+09:00",
                },
                "images": [IMAGE_EXAMPLE],
            },
        )
    ]
)
class ProductDetailOutputSerializer(ProductListItemOutputSerializer):
    sentiment = SentimentOutputSerializer(
        allow_null=True,
        help_text="How its recent reviews read (weekly analysis of products with many reviews); null until analysed.",
    )
    images = ProductImageOutputSerializer(many=True, source="images.all", help_text="Its images in their order.")


@extend_schema_serializer(examples=[OpenApiExample("A product as staff see it", value=STAFF_PRODUCT_EXAMPLE)])
class StaffProductOutputSerializer(ProductOutputSerializer):
    is_active = serializers.BooleanField(help_text="Whether it is for sale (listed and orderable).")
    updated_at = serializers.DateTimeField(help_text="When staff last changed it (ISO 8601, KST).")


@extend_schema_serializer(examples=[OpenApiExample("A brand", value={"name": "소니", "product_count": 37})])
class BrandOutputSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The brand as the products name it: the product list's `brand` filter.")
    product_count = serializers.IntegerField(help_text="How many of its products are for sale.")


@extend_schema(summary="List products for sale")
class ProductListApi(CachedPublicReadApi, ListApi):
    """Products for sale, newest first: filter by category (with its subcategories), brand and price
    range, search in names, brands and categories, order by price, name or date, or fetch a batch by
    `ids`. Public and cached: answers follow product, stock and review changes within moments.
    An unknown query parameter is a 400 `unknown_parameter`. Next: a product's detail
    (GET /api/v1/products/{product_id}/) or put it in the cart (POST /api/v1/orders/cart/items/)."""

    reads_from_replica = True  # c4ang.replica

    serializer_class = ProductListItemOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.products_with_primary_image(products=selectors.product_list_public())

    def cached_body(self, request) -> CachedBody:
        return cache.product_list_page(_page_key(request))

    def build(self, request) -> dict:
        return self.list(request).data


class ProductDetailApi(CachedPublicReadApi):
    """One product for sale with all its images and its latest review sentiment (when analysed).
    Public and cached. A product off sale or unknown is a 404 `product_not_found`."""

    reads_from_replica = True  # c4ang.replica

    def cached_body(self, request, product_id) -> CachedBody:
        return cache.product_detail(product_id)

    def build(self, request, product_id) -> dict:
        product = selectors.product_get_public_with_images(product_id=product_id)
        product.sentiment = hooks.sentiment_summary(product_id=product.pk)
        return ProductDetailOutputSerializer(product).data

    @extend_schema(
        summary="Get a product",
        parameters=[PRODUCT_FOR_SALE_ID],
        responses={200: ProductDetailOutputSerializer, **domain_errors(errors.ProductNotFound)},
    )
    def get(self, request, product_id):
        return super().get(request, product_id=product_id)


@extend_schema(summary="List brands")
class BrandListApi(CachedPublicReadApi, ListApi):
    """The brands of the products for sale with how many products each has, by name (Latin before
    Hangul, 가나다 order): the product list's `brand` filter takes each name. Public and cached."""

    reads_from_replica = True  # c4ang.replica

    serializer_class = BrandOutputSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.product_brands()

    def cached_body(self, request) -> CachedBody:
        return cache.brand_list_page(_page_key(request))

    def build(self, request) -> dict:
        return self.list(request).data


def _page_key(request) -> str:
    # The host is part of the page: the pagination links are absolute.
    query = "&".join(sorted(f"{k}={v}" for k, values in request.GET.lists() for v in values))
    return f"{request.get_host()}?{query}"


@extend_schema(summary="List categories")
class CategoryListApi(ListApi):
    """The category tree, flat in tree order: each root (by name), then its descendants depth first,
    siblings by name; `parent_id`, `depth` and `path` place each one. Public. The product list's
    `category` filter takes an id and finds the products of its subcategories too."""

    reads_from_replica = True  # c4ang.replica

    permission_classes = [AllowAny]
    serializer_class = CategoryOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.category_list().none()
        return selectors.category_tree()


@extend_schema_serializer(examples=[OpenApiExample("A verified purchase's review", value=REVIEW_EXAMPLE)])
class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The review's id.")
    product_id = serializers.UUIDField(help_text="The product reviewed.")
    rating = serializers.IntegerField(help_text="Stars, 1 to 5.")
    content = serializers.CharField(help_text="The review's text, up to 2,000 characters.")
    is_verified_purchase = serializers.BooleanField(
        help_text="Whether the reviewer had a paid order with the product when writing it."
    )
    created_at = serializers.DateTimeField(help_text="When it was written (ISO 8601, KST).")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A review staff rejected", value={**REVIEW_EXAMPLE, "customer_id": CUSTOMER_ID, "status": "REJECTED"}
        )
    ]
)
class StaffReviewOutputSerializer(ReviewOutputSerializer):
    customer_id = serializers.UUIDField(help_text="Who wrote it.")
    status = serializers.ChoiceField(
        choices=Review.Status.choices,
        help_text="APPROVED: public and counted in the product's rating; PENDING or REJECTED: neither.",
    )


class ReviewListCreateApi(ListApi):
    reads_from_replica = True  # c4ang.replica
    serializer_class = ReviewOutputSerializer
    pagination_class = BoundedCursorPagination

    @extend_schema_serializer(
        examples=[OpenApiExample("Five stars", value={"rating": 5, "content": "노이즈 캔슬링이 좋고 배송도 빨랐어요."})]
    )
    class InputSerializer(serializers.Serializer):
        rating = serializers.IntegerField(min_value=1, max_value=5, help_text="Stars, 1 to 5.")
        content = serializers.CharField(max_length=2000, help_text="The review's text: 1 to 2,000 characters.")

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.review_list_public(product_id=self.kwargs["product_id"])

    @extend_schema(
        summary="List a product's reviews",
        parameters=[PRODUCT_FOR_SALE_ID],
        responses={200: ReviewOutputSerializer(many=True), **domain_errors(errors.ProductNotFound)},
    )
    def get(self, request, product_id):
        """The approved reviews of a product for sale, newest first (cursor pages). Public. The
        product's `rating_average` and `review_count` sum them up."""
        return super().get(request, product_id=product_id)

    @extend_schema(
        summary="Review a product",
        parameters=[PRODUCT_FOR_SALE_ID],
        request=InputSerializer,
        responses={201: ReviewOutputSerializer, **domain_errors(errors.ProductNotFound, errors.ReviewAlreadyExists)},
    )
    def post(self, request, product_id):
        """A signed-in customer reviews a product for sale, once per product (a second is a 409
        `review_already_exists`). Published at once and counted in the product's rating; flagged
        as a verified purchase when the customer has a paid order with it. Staff may reject it later."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        review = services.review_create(product_id=product_id, customer_id=customer.pk, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


# --- staff -----------------------------------------------------------------------------------------


class StaffCategoryCreateApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[OpenApiExample("A subcategory", value={"name": "음향기기", "parent_id": ELECTRONICS_ID})]
    )
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, help_text="Its name, unique in the shop: 1 to 100 characters.")
        parent_id = serializers.UUIDField(
            required=False, allow_null=True, help_text="The parent category's id; absent or null: a root."
        )

    @extend_schema(
        summary="Create a category",
        request=InputSerializer,
        responses={
            201: CategoryOutputSerializer,
            **domain_errors(errors.CategoryNotFound, errors.CategoryAlreadyExists, errors.CategoryTooDeep),
        },
    )
    def post(self, request):
        """Staff: a new category, a root or under a parent (the tree is at most 10 levels deep). Its
        products are then found under every ancestor's `category` filter too."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(**data.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


@extend_schema(summary="List every product")
class StaffProductListCreateApi(ListApi):
    """Staff: every product (including those off sale), and product creation."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffProductOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "A new product",
                value={
                    "name": "무선 이어폰 프로",
                    "category_id": AUDIO_ID,
                    "brand": "소니",
                    "price": 129000,
                    "stock": 100,
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, help_text="Its name: 1 to 200 characters.")
        category_id = serializers.UUIDField(help_text="The category it goes in.")
        brand = serializers.CharField(max_length=100, help_text="Its brand: 1 to 100 characters.")
        price = MoneyField(min_value=0, help_text="Whole won, VAT included: 0 to 99,999,999.")
        stock = serializers.IntegerField(
            min_value=0,
            max_value=STOCK_MAX,
            default=0,
            help_text=f"Units in stock to start with: 0 (default) to {STOCK_MAX:,}.",
        )

    def get_queryset(self):
        return selectors.product_list_all()

    def get(self, request, *args, **kwargs):
        """Staff: every product, for sale or not, with the public list's filters (`ids`, `search`,
        `category`, ...) and order; newest first."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a product",
        request=InputSerializer,
        responses={201: StaffProductOutputSerializer, **domain_errors(errors.CategoryNotFound)},
    )
    def post(self, request):
        """Staff: add a product, for sale at once. Images are uploaded next
        (POST /api/v1/products/staff/{product_id}/images/); stock moves later only through
        POST /api/v1/products/staff/{product_id}/stock/ (with its reason)."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        category = selectors.category_get(category_id=data.pop("category_id"))
        product = services.product_create(category=category, **data)
        return Response(StaffProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class StaffProductDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[OpenApiExample("A price cut", value={"name": "무선 이어폰 프로 2세대", "price": 119000})]
    )
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False, help_text="A new name: 1 to 200 characters.")
        category_id = serializers.UUIDField(required=False, help_text="Another category to move it to.")
        brand = serializers.CharField(max_length=100, required=False, help_text="A new brand: 1 to 100 characters.")
        price = MoneyField(
            min_value=0,
            required=False,
            help_text="A new price in whole won (0 to 99,999,999); orders placed before keep theirs.",
        )
        is_active = serializers.BooleanField(required=False, help_text="false takes it off sale; true puts it back.")

    @extend_schema(
        summary="Get any product",
        parameters=[PRODUCT_ID],
        responses={200: StaffProductOutputSerializer, **domain_errors(errors.ProductNotFound)},
    )
    def get(self, request, product_id):
        """Staff: one product, for sale or not."""
        return Response(StaffProductOutputSerializer(selectors.product_get(product_id=product_id)).data)

    @extend_schema(
        summary="Change a product",
        parameters=[PRODUCT_ID],
        request=InputSerializer,
        responses={200: StaffProductOutputSerializer, **domain_errors(errors.ProductNotFound, errors.CategoryNotFound)},
    )
    def patch(self, request, product_id):
        """Staff: change a product's name, category, brand, price or whether it is for sale; the
        fields not given stay. Stock moves through POST .../stock/. The public catalog shows the
        change at once (its caches are dropped)."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "category_id" in data:
            data["category"] = selectors.category_get(category_id=data.pop("category_id"))
        product = services.product_update(product_id=product_id, **data)
        return Response(StaffProductOutputSerializer(product).data)

    @extend_schema(
        summary="Take a product off sale",
        parameters=[PRODUCT_ID],
        responses={200: StaffProductOutputSerializer, **domain_errors(errors.ProductNotFound)},
    )
    def delete(self, request, product_id):
        """Staff: take a product off sale (never deleted: orders and stock records keep pointing at
        it); PATCH `is_active: true` puts it back."""
        product = services.product_deactivate(product_id=product_id)
        return Response(StaffProductOutputSerializer(product).data)


class StaffStockAdjustApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[OpenApiExample("Goods received", value={"delta": 50, "reason": "11월 2차 입고"})]
    )
    class InputSerializer(serializers.Serializer):
        delta = serializers.IntegerField(
            min_value=-1_000_000,
            max_value=1_000_000,
            help_text="Units received (positive) or written off (negative): -1,000,000 to 1,000,000.",
        )
        reason = serializers.CharField(
            max_length=200,
            help_text="Why, in the staff's words (free text, up to 200 characters): goods received, damaged, "
            "stock count correction, …; kept with the adjustment.",
        )

    @extend_schema(
        summary="Adjust a product's stock",
        parameters=[PRODUCT_ID],
        request=InputSerializer,
        responses={
            200: StaffProductOutputSerializer,
            **domain_errors(errors.ProductNotFound, errors.InsufficientStock, errors.StockAboveMaximum),
        },
    )
    def post(self, request, product_id):
        """Staff: receive or write off stock, the reason kept in the product's stock record with
        who did it. Never below zero (409 `insufficient_stock`) nor above the maximum
        (400 `stock_above_maximum`); concurrent orders and adjustments never lose a unit."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.stock_adjust(product_id=product_id, by=actor_of(request), **data.validated_data)
        return Response(StaffProductOutputSerializer(product).data)


class StaffReviewModerateApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(examples=[OpenApiExample("Reject", value={"status": "REJECTED"})])
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=Review.Status.choices,
            help_text="APPROVED publishes it (counted in the rating), PENDING or REJECTED hides it.",
        )

    @extend_schema(
        summary="Moderate a review",
        parameters=[REVIEW_PATH_ID],
        request=InputSerializer,
        responses={200: StaffReviewOutputSerializer, **domain_errors(errors.ReviewNotFound)},
    )
    def patch(self, request, review_id):
        """Staff: approve, hold or reject a review. Only approved reviews are public, count in the
        product's `rating_average` and `review_count` (updated at once) and feed the sentiment job."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_moderate(review_id=review_id, **data.validated_data)
        return Response(StaffReviewOutputSerializer(review).data)


# --- images ---

# Multipart framing around the file: a body longer than the file limit plus this is refused unread.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
IMAGE_ERRORS = (
    errors.ImageEmpty,
    errors.ImageTooBig,
    errors.ImageTooManyPixels,
    errors.ImageUnsupportedFormat,
    errors.ImageAnimated,
    errors.ImageCorrupt,
)


@extend_schema(summary="List a product's images")
class StaffProductImageListCreateApi(ListApi):
    """Staff: a product's images in their order (products off sale too), and uploads (multipart:
    `image`, `alt_text`). An upload is decoded to check it; its sizes are made before the answer."""

    permission_classes = [IsAdminUser]
    serializer_class = ProductImageOutputSerializer
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        # Empty files pass here: the image check names them (image_empty) like every other refusal.
        image = serializers.FileField(allow_empty_file=True, help_text="A JPEG, PNG or WebP file.")
        alt_text = serializers.CharField(
            max_length=200,
            required=False,
            allow_blank=True,
            default="",
            help_text="What it shows, for screen readers: up to 200 characters (default empty).",
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductImage.objects.none()
        return selectors.product_image_list_staff(product_id=self.kwargs["product_id"])

    @extend_schema(
        parameters=[PRODUCT_ID],
        responses={200: ProductImageOutputSerializer(many=True), **domain_errors(errors.ProductNotFound)},
    )
    def get(self, request, product_id):
        """Staff: a product's images (for sale or not) in their order, the primary one marked."""
        return super().get(request, product_id=product_id)

    @extend_schema(
        summary="Upload a product image",
        parameters=[PRODUCT_ID],
        request={"multipart/form-data": InputSerializer},
        responses={
            201: ProductImageOutputSerializer,
            **domain_errors(*IMAGE_ERRORS, errors.ProductNotFound, errors.ProductImageLimitReached),
        },
    )
    def post(self, request, product_id):
        """Staff: upload an image (multipart: `image`, `alt_text`): a JPEG, PNG or WebP, checked by
        decoding it, within the size and pixel limits and not animated; EXIF is stripped and the
        thumbnail, list and detail sizes are made before the answer. It goes after the product's
        other images; a product's first image is its primary one."""
        if _content_length(request) > settings.PRODUCT_IMAGE_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise images.too_big()  # before the body is read: it would be spooled to the pod's small /tmp first
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.product_image_upload(product_id=product_id, **data.validated_data)
        return Response(ProductImageOutputSerializer(image).data, status=status.HTTP_201_CREATED)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class StaffProductImageDetailApi(APIView):
    """Staff: change an image's alt text, place (0 is first) or make it the primary one; delete it
    with its files."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[OpenApiExample("Make it the first and primary image", value={"position": 0, "is_primary": True})]
    )
    class InputSerializer(serializers.Serializer):
        alt_text = serializers.CharField(
            max_length=200, required=False, allow_blank=True, help_text="New alt text: up to 200 characters."
        )
        position = serializers.IntegerField(
            min_value=0,
            max_value=1000,
            required=False,
            help_text="Its new place, 0 first (past the end: last); the others keep their order.",
        )
        is_primary = serializers.BooleanField(
            required=False,
            help_text="true makes it the primary image (the former one stops being it); false is refused "
            "for the primary image (make another one primary instead).",
        )

    @extend_schema(
        summary="Change a product image",
        parameters=[PRODUCT_ID, IMAGE_PATH_ID],
        request=InputSerializer,
        responses={
            200: ProductImageOutputSerializer,
            **domain_errors(errors.ProductNotFound, errors.ProductImageNotFound, errors.ProductImagePrimaryRequired),
        },
    )
    def patch(self, request, product_id, image_id):
        """Staff: change an image's alt text, move it, or make it the product's primary image."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.product_image_update(product_id=product_id, image_id=image_id, **data.validated_data)
        return Response(ProductImageOutputSerializer(image).data)

    @extend_schema(
        summary="Delete a product image",
        parameters=[PRODUCT_ID, IMAGE_PATH_ID],
        responses={204: None, **domain_errors(errors.ProductNotFound, errors.ProductImageNotFound)},
    )
    def delete(self, request, product_id, image_id):
        """Staff: delete an image and, once that is committed, its files; when it was the primary
        one, the next image in order becomes primary."""
        services.product_image_delete(product_id=product_id, image_id=image_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- search ---


class StaffCategoryDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[OpenApiExample("Move under another parent", value={"parent_id": ELECTRONICS_ID})]
    )
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(
            max_length=100, required=False, help_text="A new name, unique: 1 to 100 characters."
        )
        parent_id = serializers.UUIDField(
            required=False, allow_null=True, help_text="A new parent's id; null: make it a root."
        )

    @extend_schema(
        summary="Rename or move a category",
        parameters=[CATEGORY_ID],
        request=InputSerializer,
        responses={
            200: CategoryOutputSerializer,
            **domain_errors(
                errors.CategoryNotFound, errors.CategoryAlreadyExists, errors.CategoryCycle, errors.CategoryTooDeep
            ),
        },
    )
    def patch(self, request, category_id):
        """Staff: rename a category or move it (with its whole subtree) under another parent or to
        the root. Moving it under itself or a descendant is a 409 `category_cycle`; the tree stays at
        most 10 levels deep."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_update(category_id=category_id, **data.validated_data)
        return Response(CategoryOutputSerializer(category).data)
