"""Reads of the sentiment module."""

from datetime import datetime
from uuid import UUID

from sentiment.models import ProductSentiment


def sentiment_for_products(*, product_ids: list[UUID]) -> dict[UUID, ProductSentiment]:
    return {row.product_id: row for row in ProductSentiment.objects.filter(product_id__in=product_ids)}


def sentiment_for_product(*, product_id: UUID) -> ProductSentiment | None:
    """The latest sentiment summary of a product, or None before its first analysis."""
    return ProductSentiment.objects.filter(product_id=product_id).first()


def product_ids_analysed_since(*, since: datetime) -> set[UUID]:
    return set(ProductSentiment.objects.filter(analyzed_at__gte=since).values_list("product_id", flat=True))
