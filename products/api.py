"""The catalog API: public list and detail (cached), reviews, and the staff catalog operations."""

from django.conf import settings
from django.core.files.storage import default_storage
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
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
from products import cache, errors, hooks, images, selectors, services
from products.constants import STOCK_MAX
from products.filters import ProductFilter
from products.models import ProductImage, Review


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)
    depth = serializers.IntegerField(help_text="0 for a root, 1 for its children, …")
    path = serializers.CharField(help_text="The ids from the root down to this category: /<root id>/…/<own id>/.")


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


# --- images (the output shapes the catalog outputs below use; the staff views are at the end) ---


class ProductImageVariantsOutputSerializer(serializers.Serializer):
    thumbnail = serializers.CharField(help_text="URL of the 200 px wide WebP.")
    list = serializers.CharField(help_text="URL of the 400 px wide WebP.")
    detail = serializers.CharField(help_text="URL of the 1000 px wide WebP.")


class ProductImageOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField(source="original.url", help_text="URL of the original (EXIF stripped).")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    alt_text = serializers.CharField()
    position = serializers.IntegerField()
    is_primary = serializers.BooleanField()
    variants = serializers.SerializerMethodField(help_text="URLs of the sizes made at upload (never enlarged).")

    @extend_schema_field(ProductImageVariantsOutputSerializer)
    def get_variants(self, image) -> dict:
        return {size: default_storage.url(name) for size, name in image.variants.items()}


class ProductListItemOutputSerializer(ProductOutputSerializer):
    """A product of the public list: with its primary image (selectors.products_with_primary_image)."""

    primary_image = serializers.SerializerMethodField()

    @extend_schema_field(ProductImageOutputSerializer(allow_null=True))
    def get_primary_image(self, product) -> dict | None:
        primary = product.primary_images
        return ProductImageOutputSerializer(primary[0]).data if primary else None


class SentimentOutputSerializer(serializers.Serializer):
    positive_ratio = serializers.FloatField()
    negative_ratio = serializers.FloatField()
    avg_sentiment = serializers.FloatField()
    review_count = serializers.IntegerField()
    analyzed_at = serializers.DateTimeField()


class ProductDetailOutputSerializer(ProductListItemOutputSerializer):
    sentiment = SentimentOutputSerializer(allow_null=True)
    images = ProductImageOutputSerializer(many=True, source="images.all")


class StaffProductOutputSerializer(ProductOutputSerializer):
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class ProductListApi(CachedPublicReadApi, generics.ListAPIView):
    """Products for sale: filter by category, brand, price range; search by name; order. Cached."""

    serializer_class = ProductListItemOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.products_with_primary_image(products=selectors.product_list_public())

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
        product = selectors.product_get_public_with_images(product_id=product_id)
        product.sentiment = hooks.sentiment_summary(product_id=product.pk)
        return ProductDetailOutputSerializer(product).data

    @extend_schema(responses=ProductDetailOutputSerializer)
    def get(self, request, product_id):
        return super().get(request, product_id=product_id)


class CategoryListApi(generics.ListAPIView):
    """The category tree, flat in tree order: each root (by name), then its descendants depth first,
    siblings by name; `parent_id`, `depth` and `path` place each one."""

    permission_classes = [AllowAny]
    serializer_class = CategoryOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.category_list().none()
        return selectors.category_tree()


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
        responses={
            201: CategoryOutputSerializer,
            **domain_errors(errors.CategoryNotFound, errors.CategoryAlreadyExists, errors.CategoryTooDeep),
        },
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


class StaffProductImageListCreateApi(generics.ListAPIView):
    """Staff: a product's images in their order (products off sale too), and uploads (multipart:
    `image`, `alt_text`). An upload is decoded to check it; its sizes are made before the answer."""

    permission_classes = [IsAdminUser]
    serializer_class = ProductImageOutputSerializer
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        # Empty files pass here: the image check names them (image_empty) like every other refusal.
        image = serializers.FileField(allow_empty_file=True, help_text="A JPEG, PNG or WebP file.")
        alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductImage.objects.none()
        return selectors.product_image_list_staff(product_id=self.kwargs["product_id"])

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            201: ProductImageOutputSerializer,
            **domain_errors(*IMAGE_ERRORS, errors.ProductNotFound, errors.ProductImageLimitReached),
        },
    )
    def post(self, request, product_id):
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

    class InputSerializer(serializers.Serializer):
        alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
        position = serializers.IntegerField(min_value=0, max_value=1000, required=False)
        is_primary = serializers.BooleanField(required=False)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: ProductImageOutputSerializer,
            **domain_errors(errors.ProductImageNotFound, errors.ProductImagePrimaryRequired),
        },
    )
    def patch(self, request, product_id, image_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.product_image_update(product_id=product_id, image_id=image_id, **data.validated_data)
        return Response(ProductImageOutputSerializer(image).data)

    @extend_schema(responses={204: None, **domain_errors(errors.ProductImageNotFound)})
    def delete(self, request, product_id, image_id):
        services.product_image_delete(product_id=product_id, image_id=image_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- search ---


class StaffCategoryDetailApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False)
        parent_id = serializers.UUIDField(required=False, allow_null=True, help_text="null: make it a root.")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: CategoryOutputSerializer,
            **domain_errors(
                errors.CategoryNotFound, errors.CategoryAlreadyExists, errors.CategoryCycle, errors.CategoryTooDeep
            ),
        },
    )
    def patch(self, request, category_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_update(category_id=category_id, **data.validated_data)
        return Response(CategoryOutputSerializer(category).data)
