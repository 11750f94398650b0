"""Reads of the recommendations module: served from the cache, filled from the table on a miss."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from orders import selectors as order_selectors
from products import selectors as product_selectors
from products.errors import ProductNotFound
from recommendations import cache
from recommendations.models import Recommendation
from recommendations.ranking import ALGORITHM, TOP_N

# How many of a customer's latest purchases their personal recommendations start from.
PURCHASES_CONSIDERED = 20
PERSONAL_ALGORITHM = f"{ALGORITHM}-purchases"


@dataclass(frozen=True)
class RecommendedProduct:
    product: Any  # a product summary from products' selectors
    score: float


@dataclass(frozen=True)
class Recommendations:
    algorithm: str
    generated_at: datetime | None  # None before the first run that covered these products
    results: list[RecommendedProduct]


def _entries(product_ids: list[UUID]) -> dict[UUID, dict]:
    """The cached entries of these products; misses are read from the table and cached again."""
    entries = cache.entries_get(product_ids)
    missing = [product_id for product_id in product_ids if product_id not in entries]
    if missing:
        found = {
            row.product_id: cache.entry(
                product_ids=row.recommended_product_ids,
                scores=row.scores,
                algorithm=row.algorithm,
                generated_at=row.created_at.isoformat(),
            )
            for row in Recommendation.objects.filter(product_id__in=missing)
        }
        cache.entries_set(found.items())
        entries.update(found)
    return entries


def _ranked(entry: dict) -> list[tuple[UUID, float]]:
    return [(UUID(product_id), score) for product_id, score in zip(entry["product_ids"], entry["scores"], strict=True)]


def _for_sale(ranked: list[tuple[UUID, float]], summaries: dict[UUID, Any]) -> list[RecommendedProduct]:
    # Products taken off sale since the last run are left out.
    found = [
        RecommendedProduct(summaries[product_id], score) for product_id, score in ranked if product_id in summaries
    ]
    return found[:TOP_N]


def _generated_at(entries: list[dict]) -> datetime | None:
    return max((datetime.fromisoformat(entry["generated_at"]) for entry in entries), default=None)


def recommendations_for_product(*, product_id: UUID) -> Recommendations:
    """The top recommended products of a product for sale; an unknown or hidden product is a 404."""
    entry = _entries([product_id]).get(product_id)
    ranked = _ranked(entry) if entry else []
    summaries = product_selectors.product_summaries(product_ids=[product_id, *(candidate for candidate, _ in ranked)])
    if product_id not in summaries:
        raise ProductNotFound()
    return Recommendations(
        algorithm=entry["algorithm"] if entry else ALGORITHM,
        generated_at=_generated_at([entry] if entry else []),
        results=_for_sale(ranked, summaries),
    )


def recommendations_for_customer(*, customer_id: UUID) -> Recommendations:
    """Personal recommendations from a customer's latest purchases: a candidate scores the mean of
    its scores over those purchases; products already bought are left out; ties by id."""
    bought = order_selectors.purchased_product_ids(customer_id=customer_id, limit=PURCHASES_CONSIDERED)
    entries = list(_entries(bought).values()) if bought else []
    totals: dict[UUID, float] = {}
    for entry in entries:
        for candidate, score in _ranked(entry):
            totals[candidate] = totals.get(candidate, 0.0) + score
    for product_id in bought:
        totals.pop(product_id, None)
    ranked = sorted(
        ((candidate, total / len(bought)) for candidate, total in totals.items()),
        key=lambda item: (-item[1], str(item[0])),
    )[: 2 * TOP_N]  # a few spare, in case some were taken off sale
    summaries = (
        product_selectors.product_summaries(product_ids=[candidate for candidate, _ in ranked]) if ranked else {}
    )
    return Recommendations(
        algorithm=PERSONAL_ALGORITHM, generated_at=_generated_at(entries), results=_for_sale(ranked, summaries)
    )
