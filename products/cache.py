"""Caches of the public catalog (list pages and product details), dropped after any product write.

A detail is cached under its product id and deleted on write. List pages are too many to find
and delete, so their keys carry a catalog generation that every write bumps: old pages are never
read again and expire on their own. Both run after commit, so no reader caches a rolled-back row.
"""

import hashlib
import time
from collections.abc import Callable, Iterable
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from c4ang import cache as shared_cache

_GENERATION_KEY = "catalog:generation"


def _start_generation() -> None:
    # Started from the clock, so a counter lost to eviction never comes back to an old number.
    cache.add(_GENERATION_KEY, time.time_ns() // 1000, timeout=None)


def _generation() -> int:
    generation = cache.get(_GENERATION_KEY)
    if generation is None:
        _start_generation()
        generation = cache.get(_GENERATION_KEY)
    return generation


def detail_key(product_id: UUID) -> str:
    return f"catalog:product:{product_id}"


def list_key(query: str) -> str:
    digest = hashlib.sha256(query.encode()).hexdigest()[:32]
    return f"catalog:list:{_generation()}:{digest}"


def cached(key: str, build: Callable[[], dict]) -> dict:
    return shared_cache.cached(key, build, timeout=settings.CATALOG_CACHE_SECONDS)


def _bump_generation() -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # the counter was evicted
        _start_generation()


def invalidate_after_commit(product_ids: Iterable[UUID]) -> None:
    shared_cache.delete_after_commit([detail_key(product_id) for product_id in product_ids], then=_bump_generation)
