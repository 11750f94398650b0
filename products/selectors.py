"""Reads of the catalog: other modules look products up here."""

from uuid import UUID

from django.db.models import Count, Q, QuerySet

from products.errors import CategoryNotFound, ProductNotFound, ReviewNotFound
from products.models import Category, Product, Review


def product_list_public() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("category")


def product_get_public(*, product_id: UUID) -> Product:
    try:
        return product_list_public().get(pk=product_id)
    except Product.DoesNotExist:
        raise ProductNotFound() from None


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
    try:
        return product_list_all().get(pk=product_id)
    except Product.DoesNotExist:
        raise ProductNotFound() from None


def product_map(*, product_ids: list[UUID]) -> dict[UUID, Product]:
    """The products with these ids (active or not), by id; missing ids are simply absent."""
    return {product.pk: product for product in Product.objects.filter(pk__in=product_ids)}


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def category_get(*, category_id: UUID) -> Category:
    try:
        return Category.objects.get(pk=category_id)
    except Category.DoesNotExist:
        raise CategoryNotFound(field="category") from None


def review_list_public(*, product_id: UUID) -> QuerySet[Review]:
    """Approved reviews of a product for sale; a hidden or unknown product is a 404."""
    product_get_public(product_id=product_id)
    return Review.objects.filter(product_id=product_id, status=Review.Status.APPROVED)


def review_get(*, review_id: UUID) -> Review:
    try:
        return Review.objects.get(pk=review_id)
    except Review.DoesNotExist:
        raise ReviewNotFound() from None
