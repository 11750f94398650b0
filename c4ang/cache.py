"""Read-through caching shared by the modules: build on a miss, drop keys only after commit."""

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction


def cached(key: str, build: Callable[[], dict], *, timeout: int) -> dict:
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout=timeout)
    return value


def delete_after_commit(keys: list[str], *, then: Callable[[], None] | None = None) -> None:
    """Drop cached values once the write that made them stale is committed (never before: a reader
    in between would cache the old row again)."""

    def drop() -> None:
        cache.delete_many(keys)
        if then is not None:
            then()

    transaction.on_commit(drop)
