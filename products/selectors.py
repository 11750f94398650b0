"""Reads of the catalog: other modules look products up here."""

from datetime import datetime
from uuid import UUID

from django.db.models import Count, Q, QuerySet

from c4ang.selectors import get_or_raise
from products.errors import CategoryNotFound, ProductNotFound, ReviewNotFound
from products.models import Category, Product, Review


def product_list_public() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("category")


def product_get_public(*, product_id: UUID) -> Product:
    return get_or_raise(product_list_public(), ProductNotFound, pk=product_id)


def product_low_stock(*, threshold: int, limit: int) -> list[Product]:
    """Active products at or below `threshold` units, emptiest first."""
    return list(
        Product.objects.filter(is_active=True, stock__lte=threshold)
        .select_related("category")
        .order_by("stock", "name")[:limit]
    )


def product_most_reviewed(*, limit: int) -> list[dict]:
    """The products with the most approved reviews: id, name, review_count."""
    return list(
        Product.objects.annotate(review_count=Count("reviews", filter=Q(reviews__status=Review.Status.APPROVED)))
        .filter(review_count__gt=0)
        .order_by("-review_count", "name")
        .values("id", "name", "review_count")[:limit]
    )


def product_list_all() -> QuerySet[Product]:
    """Staff: every product, for sale or not."""
    return Product.objects.select_related("category")


def product_get(*, product_id: UUID) -> Product:
    return get_or_raise(product_list_all(), ProductNotFound, pk=product_id)


def product_map(*, product_ids: list[UUID]) -> dict[UUID, Product]:
    """The products with these ids (active or not), by id; missing ids are simply absent."""
    return {product.pk: product for product in Product.objects.filter(pk__in=product_ids)}


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def category_get(*, category_id: UUID) -> Category:
    return get_or_raise(Category, CategoryNotFound(field="category"), pk=category_id)


def review_list_public(*, product_id: UUID) -> QuerySet[Review]:
    """Approved reviews of a product for sale; a hidden or unknown product is a 404."""
    product_get_public(product_id=product_id)
    return Review.objects.filter(product_id=product_id, status=Review.Status.APPROVED)


def review_get(*, review_id: UUID) -> Review:
    return get_or_raise(Review, ReviewNotFound, pk=review_id)


def product_ranking_attributes() -> list[tuple[UUID, UUID, str]]:
    """(id, category id, brand) of every active product: what the recommendation ranking compares."""
    return list(Product.objects.filter(is_active=True).values_list("id", "category_id", "brand"))


def product_summaries(*, product_ids: list[UUID]) -> dict[UUID, Product]:
    """The active products among these ids, with their category, by id (one query)."""
    return {product.pk: product for product in product_list_public().filter(pk__in=product_ids)}


def review_counts_by_product(
    *, since: datetime, min_reviews: int, exclude_product_ids: set[UUID], limit: int
) -> list[tuple[UUID, int]]:
    """(product id, approved reviews created since `since`) of the active products with at least
    `min_reviews` of them, leaving out `exclude_product_ids`; most reviewed first, ties by id."""
    rows = (
        Review.objects.filter(status=Review.Status.APPROVED, created_at__gte=since, product__is_active=True)
        .exclude(product_id__in=exclude_product_ids)
        .values("product_id")
        .annotate(review_count=Count("id"))
        .filter(review_count__gte=min_reviews)
        .order_by("-review_count", "product_id")[:limit]
    )
    return [(row["product_id"], row["review_count"]) for row in rows]


def review_contents(*, product_id: UUID, since: datetime) -> list[str]:
    """The texts of a product's approved reviews created since `since`, oldest first."""
    return list(
        Review.objects.filter(product_id=product_id, status=Review.Status.APPROVED, created_at__gte=since)
        .order_by("created_at", "id")
        .values_list("content", flat=True)
    )
