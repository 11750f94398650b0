"""Read-through caching shared by the modules: build on a miss, drop keys only after commit; and
the one-round-trip count-and-read of the rate limits and the cached public reads.

No invalidation is lost to a cache that was unreachable or hung when a write committed: the write
records what it makes stale in its own transaction (CacheInvalidation), and the record is deleted
once the cache has dropped it. Before serving from the cache, a process applies the records left
over, looking for them at most every PENDING_CHECK_S: an entry a write made stale is never served
more than that long after the commit, whatever happened to the write's own drop."""

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from django.core.cache import cache, caches
from django.db import transaction
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

from c4ang import metrics, replica
from c4ang.models import CacheInvalidation

logger = logging.getLogger(__name__)

# How often a process looks for invalidations left over (one indexed query on an empty table).
PENDING_CHECK_S = 0.1
# _clock() of this process's last look, and whether what it found left over could be applied.
_pending_checked_at = float("-inf")
_pending_applied = True
_clock = time.monotonic
# A cache that could not be reached: Redis down or hung (django-redis' client raises it), the
# embedded SQLite file locked past its timeout.
_UNREACHABLE = (ConnectionInterrupted, sqlite3.OperationalError)


def cached(key: str, build: Callable[[], dict], *, timeout: int, area: str) -> dict:
    """The value under `key`, built and cached on a miss; counted as a hit or miss of `area`."""
    value = cache.get(key) if trusted() else None
    metrics.cache_read(area, hits=value is not None, misses=value is None)
    if value is None:
        value = build()
        cache.set(key, value, timeout=timeout)
    return value


def delete_after_commit(keys: list[str], *, versions: tuple[str, ...] = ()) -> None:
    """Drop cached values (`keys`, and whatever was built under the counters `versions`) once the write
    that made them stale is committed: never before, since a reader in between would cache the old
    row again. Recorded in the write's transaction; a drop that fails is applied later (see above)."""
    pending = CacheInvalidation.objects.create(keys=list(keys), versions=list(versions))

    def drop() -> None:
        # Before the drop: a reader that misses the dropped entries finds the replica must have
        # replayed this write before it may build them again from there (c4ang.replica).
        replica.record_write(replica.CATALOG_WRITTEN_KEY)
        if _drop(pending.keys, pending.versions):
            CacheInvalidation.objects.filter(pk=pending.pk).delete()

    transaction.on_commit(drop)


def trusted() -> bool:
    """Whether this process may serve from the cache now: no committed write has a drop left over,
    or those left were just applied. False while they cannot be (the cache unreachable): reads then
    skip the cache, and the next try is PENDING_CHECK_S later (not one more timeout per request)."""
    global _pending_checked_at, _pending_applied
    looked_at = _clock()  # before the query: a write committed after it is found next time
    if looked_at - _pending_checked_at >= PENDING_CHECK_S:
        _pending_applied = invalidations_apply()
        _pending_checked_at = looked_at
    return _pending_applied


def invalidations_apply(*, batch: int = 500) -> bool:
    """Drop what the writes whose own drop failed left behind, oldest first; False (and left for the
    next try) while the cache cannot be reached. Readers run it (`trusted`), and a periodic task."""
    while pending := list(CacheInvalidation.objects.order_by("pk").values_list("pk", "keys", "versions")[:batch]):
        keys = [key for _, row_keys, _ in pending for key in row_keys]
        versions = sorted({version for _, _, row_versions in pending for version in row_versions})
        if not _drop(keys, versions):
            return False
        CacheInvalidation.objects.filter(pk__in=[pk for pk, _, _ in pending]).delete()
        if len(pending) < batch:
            break
    return True


def _drop(keys: list[str], versions: list[str]) -> bool:
    """Delete `keys` and bump `versions` in the cache; False when it cannot be reached."""
    backend = caches["default"]
    # django-redis ignores connection errors (IGNORE_EXCEPTIONS), and a drop must know: its client raises.
    store = backend.client if isinstance(backend, RedisCache) else backend
    try:
        if keys:
            store.delete_many(keys)
        for version_key in versions:
            _bump(store, version_key)
    except _UNREACHABLE:
        logger.warning("cache unreachable: %d entries and %d versions left to drop", len(keys), len(versions))
        return False
    return True


def _bump(store, version_key: str) -> None:
    try:
        store.incr(version_key)
    except ValueError:  # the counter was evicted
        start_version(version_key, store=store)


def count_and_get(counter_key: str, window_s: int, keys: list[str]) -> tuple[int | None, list[Any]]:
    """Count one more event in the window of `counter_key` (which expires `window_s` after its
    first event) and read `keys`: the count, and the values (None where missing).

    With Redis this is one command (a Lua script), which is most of the cost of a cached read.
    The count is None when the cache is unreachable, and the values are then all missing (so they
    are too while invalidations left over cannot be applied: see `trusted`)."""
    if keys and not trusted():
        return None, [None] * len(keys)  # as unreachable: the limit fails open, nothing read
    backend = caches["default"]  # `cache` is a proxy to it
    if isinstance(backend, RedisCache):
        return _count_and_get_redis(backend, counter_key, window_s, keys)
    try:
        count = cache.incr(counter_key)
    except ValueError:  # first event of the window; add loses to a racing add
        count = 1 if cache.add(counter_key, 1, window_s) else cache.incr(counter_key)
    return count, read(keys)


def read(keys: list[str]) -> list[Any]:
    """The values of `keys`, in their order (None where missing, and all while `trusted` is not)."""
    if not keys:
        return []
    if not trusted():
        return [None] * len(keys)
    values = cache.get_many(keys)
    return [values.get(key) for key in keys]


# count_and_get in one command: the counter's increment, its window on the first event (NX: a counter
# without one gets it), and the entries. One command instead of a pipeline of three: the server
# and the client each handle one request and one reply.
_COUNT_AND_GET = redis.client.Script(
    None,
    b"""
    local count = redis.call('INCR', KEYS[1])
    redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
    if #KEYS == 1 then return {count} end
    local values = redis.call('MGET', unpack(KEYS, 2))
    table.insert(values, 1, count)
    return values
    """,  # bytes: no client to take an encoding from at import
)


def _count_and_get_redis(
    backend: RedisCache, counter_key: str, window_s: int, keys: list[str]
) -> tuple[int | None, list[Any]]:
    client = backend.client
    try:
        count, *values = _COUNT_AND_GET(
            keys=[client.make_key(key) for key in (counter_key, *keys)],
            args=[window_s],
            client=client.get_client(write=True),
        )
    except (redis.ConnectionError, redis.TimeoutError):
        # As django-redis does for the other cache calls (IGNORE_EXCEPTIONS): served without the cache.
        logger.warning("cache unreachable: counted nothing, read nothing", exc_info=True)
        metrics.REDIS_ERRORS.inc()
        return None, [None] * len(keys)
    return count, [None if value is None else client.decode(value) for value in values]


def uncount(counter_key: str) -> None:
    """Take back an event counted by `count_and_get` (the request is counted again elsewhere)."""
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(counter_key)


def start_version(version_key: str, *, store=cache) -> None:
    # Started from the clock, so a counter lost to eviction never comes back to an old number.
    store.add(version_key, time.time_ns() // 1000, timeout=None)


@dataclass(frozen=True)
class CachedBody:
    """A rendered response body in the cache, read with `keys` (all at once, see count_and_get).

    With a `version_key` (a counter that writes bump, for entries too many to find and delete) the
    body is stored with the version it was built under, and is stale once the version moved on."""

    key: str
    timeout: int
    version_key: str | None = None
    area: str = "other"  # the cache area its reads are counted under (c4ang_cache_requests_total)

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
