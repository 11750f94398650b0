"""Caches of the public catalog (list pages, brand pages and product details), dropped after any product write.

A detail is cached under its product id and deleted on write. List pages are too many to find
and delete, so they carry the catalog version they were built under, which every write bumps: old
pages are never served again and expire on their own. Both run after commit, so no reader caches
a rolled-back row.
"""

import hashlib
from collections.abc import Iterable
from uuid import UUID

from django.conf import settings

from c4ang import cache as shared_cache

_VERSION_KEY = "catalog:version"


# Key names change whenever the format of the entries does: during a deploy both versions share
# Redis, and neither may read the other's entries.
def detail_key(product_id: UUID) -> str:
    return f"catalog:detail:{product_id}"


def product_detail(product_id: UUID) -> shared_cache.CachedBody:
    return shared_cache.CachedBody(
        key=detail_key(product_id), timeout=settings.CATALOG_CACHE_SECONDS, area="catalog_detail"
    )


def product_list_page(query: str) -> shared_cache.CachedBody:
    digest = hashlib.sha256(query.encode()).hexdigest()[:32]
    return shared_cache.CachedBody(
        key=f"catalog:page:{digest}",
        timeout=settings.CATALOG_CACHE_SECONDS,
        version_key=_VERSION_KEY,
        area="catalog_list",
    )


def brand_list_page(query: str) -> shared_cache.CachedBody:
    """A page of the brand list: built under the catalog version like the product list's pages (a
    product write may add, move or take off sale a brand's product)."""
    digest = hashlib.sha256(query.encode()).hexdigest()[:32]
    return shared_cache.CachedBody(
        key=f"catalog:brands:{digest}",
        timeout=settings.CATALOG_CACHE_SECONDS,
        version_key=_VERSION_KEY,
        area="catalog_brands",
    )


def invalidate_after_commit(product_ids: Iterable[UUID]) -> None:
    shared_cache.delete_after_commit([detail_key(product_id) for product_id in product_ids], versions=(_VERSION_KEY,))
