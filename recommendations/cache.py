"""The Redis copy of the recommendation table that the API reads: one entry per product."""

import itertools
from collections.abc import Iterable
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from c4ang import metrics

# Bounded pipelines: a refresh of 100,000 products never sends one giant request.
CHUNK = 1000


def _key(product_id: UUID | str) -> str:
    return f"recommendations:product:{product_id}"


def entry(*, product_ids: list[str], scores: list[float], algorithm: str, generated_at: str) -> dict:
    return {"product_ids": product_ids, "scores": scores, "algorithm": algorithm, "generated_at": generated_at}


def entries_set(entries: Iterable[tuple[UUID | str, dict]]) -> None:
    """Cache (product id, entry) pairs, CHUNK at a time: a stream of a million is never all in memory."""
    entries = iter(entries)
    while chunk := {_key(product_id): value for product_id, value in itertools.islice(entries, CHUNK)}:
        cache.set_many(chunk, timeout=settings.RECOMMENDATIONS_CACHE_SECONDS)


def entries_get(product_ids: Iterable[UUID]) -> dict[UUID, dict]:
    keys = {_key(product_id): product_id for product_id in product_ids}
    found = {keys[key]: value for key, value in cache.get_many(list(keys)).items()}
    metrics.cache_read("recommendations", hits=len(found), misses=len(keys) - len(found))
    return found


def entries_delete(product_ids: Iterable[UUID | str]) -> None:
    keys = [_key(product_id) for product_id in product_ids]
    for start in range(0, len(keys), CHUNK):
        cache.delete_many(keys[start : start + CHUNK])
