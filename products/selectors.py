"""Reads of the catalog: other modules look products up here."""

from uuid import UUID

from django.db.models import Count, Q, QuerySet

from products.errors import ProductNotFound
from products.models import Product, Review


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
