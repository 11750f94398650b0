"""Reads of the sentiment module."""

from datetime import datetime
from uuid import UUID

from sentiment.models import ProductSentiment


def product_ids_analysed_since(*, since: datetime) -> set[UUID]:
    return set(ProductSentiment.objects.filter(analyzed_at__gte=since).values_list("product_id", flat=True))
