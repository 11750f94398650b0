"""What the catalog asks of the modules above it, without importing them.

Orders knows who bought what (a review's verified-purchase flag) and sentiment knows how a
product's reviews read (the product detail shows it): each registers its answer once, in its
AppConfig.ready. Until one registers, the catalog answers without it.
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

_purchase_check: Callable[..., bool] | None = None
_sentiment_summary: Callable[..., Any] | None = None


def purchase_check_register(check: Callable[..., bool]) -> None:
    """`check(*, customer_id, product_id) -> bool`: whether the customer has a paid order with it."""
    global _purchase_check
    _purchase_check = check


def sentiment_summary_register(summary: Callable[..., Any]) -> None:
    """`summary(*, product_id)`: the latest sentiment of a product's reviews (positive_ratio,
    negative_ratio, avg_sentiment, review_count, analyzed_at), or None when never analysed."""
    global _sentiment_summary
    _sentiment_summary = summary


def customer_has_bought(*, customer_id: UUID, product_id: UUID) -> bool:
    return _purchase_check is not None and _purchase_check(customer_id=customer_id, product_id=product_id)


def sentiment_summary(*, product_id: UUID) -> Any:
    return None if _sentiment_summary is None else _sentiment_summary(product_id=product_id)
