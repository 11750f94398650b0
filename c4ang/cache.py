"""Read-through caching shared by the modules: build on a miss, drop keys only after commit; and
the one-round-trip count-and-read of the rate limits and the cached public reads."""

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from django.core.cache import cache, caches
from django.db import transaction
from django_redis.cache import RedisCache

logger = logging.getLogger(__name__)


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


def count_and_get(counter_key: str, window_s: int, keys: list[str]) -> tuple[int | None, list[Any]]:
    """Count one more event in the window of `counter_key` (which expires `window_s` after its
    first event) and read `keys`: the count, and the values (None where missing).

    With Redis this is one round trip (a pipeline), which is most of the cost of a cached read.
    The count is None when the cache is unreachable, and the values are then all missing."""
    backend = caches["default"]  # `cache` is a proxy to it
    if isinstance(backend, RedisCache):
        return _count_and_get_redis(backend, counter_key, window_s, keys)
    try:
        count = cache.incr(counter_key)
    except ValueError:  # first event of the window; add loses to a racing add
        count = 1 if cache.add(counter_key, 1, window_s) else cache.incr(counter_key)
    return count, read(keys)


def read(keys: list[str]) -> list[Any]:
    """The values of `keys`, in their order (None where missing)."""
    values = cache.get_many(keys)
    return [values.get(key) for key in keys]


def _count_and_get_redis(
    backend: RedisCache, counter_key: str, window_s: int, keys: list[str]
) -> tuple[int | None, list[Any]]:
    client = backend.client
    counter = client.make_key(counter_key)
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    pipeline.incr(counter)
    pipeline.expire(counter, window_s, nx=True)
    if keys:
        pipeline.mget([client.make_key(key) for key in keys])
    try:
        count, _, *read = pipeline.execute()
    except (redis.ConnectionError, redis.TimeoutError):
        # As django-redis does for the other cache calls (IGNORE_EXCEPTIONS): served without the cache.
        logger.warning("cache unreachable: counted nothing, read nothing", exc_info=True)
        return None, [None] * len(keys)
    values = read[0] if read else []
    return count, [None if value is None else client.decode(value) for value in values]


def uncount(counter_key: str) -> None:
    """Take back an event counted by `count_and_get` (the request is counted again elsewhere)."""
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(counter_key)


def start_version(version_key: str) -> None:
    # Started from the clock, so a counter lost to eviction never comes back to an old number.
    cache.add(version_key, time.time_ns() // 1000, timeout=None)


def bump_version(version_key: str) -> None:
    try:
        cache.incr(version_key)
    except ValueError:  # the counter was evicted
        start_version(version_key)


@dataclass(frozen=True)
class CachedBody:
    """A rendered response body in the cache, read with `keys` (all at once, see count_and_get).

    With a `version_key` (a counter that writes bump, for entries too many to find and delete) the
    body is stored with the version it was built under, and is stale once the version moved on."""

    key: str
    timeout: int
    version_key: str | None = None

    @property
    def keys(self) -> list[str]:
        return [self.key] if self.version_key is None else [self.key, self.version_key]

    def current(self, values: list[Any]) -> bytes | None:
        stored = values[0]
        version = values[1] if self.version_key else None
        if stored is None or (self.version_key and version is None) or stored[0] != version:
            return None
        return stored[1]

    def store(self, values: list[Any], body: bytes) -> None:
        """Keep `body`, built after `values` were read: under the version read then, so that a write
        committed while it was built makes it stale."""
        version = values[1] if self.version_key else None
        if self.version_key and version is None:
            start_version(self.version_key)
            version = cache.get(self.version_key)
        cache.set(self.key, (version, body), timeout=self.timeout)
