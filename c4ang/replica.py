"""The read replica (DATABASE_REPLICA_URL): public catalog reads go to it when it is fresh enough,
everything else to the primary.

What may be read from the replica: the models of REPLICA_APPS (the catalog, its reviews, the
recommendations and the products' review sentiment), in a GET of a view that says so
(`reads_from_replica = True`: the public product, brand, category, review and recommendation
reads), outside any transaction. Writes, the saga, the admin, the jobs and a customer's own records
(orders, payments, profile, cart, addresses) are never routed there: they are other apps' models or
other views.

Nobody reads stale what was written: the WAL position of the primary is recorded after every write
that changes what those reads show (with the cache's invalidation, c4ang.cache) and after every
write request of a signed-in client (ReplicaMiddleware); a request reads the replica only once it
has replayed past both the catalog's and, signed in, its own position (pg_last_wal_replay_lsn), and
the primary otherwise. A replica that lags or cannot be reached costs load on the primary, never a
stale answer or an error.
"""

import logging
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache, caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django_redis.cache import RedisCache

logger = logging.getLogger(__name__)

REPLICA = "replica"
REPLICA_APPS = frozenset({"products", "recommendations", "sentiment"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
WRITTEN = "SELECT pg_current_wal_lsn()"  # on the primary: how far its WAL goes
REPLAYED = "SELECT pg_last_wal_replay_lsn()"  # on the replica: how far it has replayed (NULL: not replaying)
CATALOG_WRITTEN_KEY = "replica:written:catalog"
# A client's own position is kept this long after its last write: far longer than any lag worth
# serving from, after which its writes are older than what the catalog's position covers anyway.
OWN_WRITE_SECONDS = 3600
# An unreachable replica is not tried again by this process for this long (reads use the primary).
RETRY_SECONDS = 5.0

_request: ContextVar["ReplicaRead | None"] = ContextVar("replica_read", default=None)
_unreachable_until = float("-inf")

# Raise a stored WAL position, never lower it (writers finish out of order); ARGV[2] > 0: its expiry.
_RAISE_TO = """
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > old then
    if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
    else redis.call('SET', KEYS[1], ARGV[1]) end
end
"""


def configured() -> bool:
    return REPLICA in settings.DATABASES


def lsn_number(lsn: str) -> int:
    """PostgreSQL's `16/B374D848` as a number that orders like the WAL."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _position(alias: str, query: str) -> int | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(query)
        (lsn,) = cursor.fetchone()
    return None if lsn is None else lsn_number(lsn)


def own_key(user_id) -> str:
    return f"replica:written:user:{user_id}"


def record_write(key: str, *, timeout: int | None = None) -> None:
    """Keep the primary's WAL position under `key`: the replica must have replayed this far before
    what the write changed is read from it. The write is committed: a failure here is logged, and
    the reads it concerns are fresh again once the replica has replayed past the next write's."""
    if not configured():
        return
    try:
        keep_highest(key, _position(DEFAULT_DB_ALIAS, WRITTEN), timeout=timeout)
    except Exception:
        logger.exception("could not record the primary's WAL position under %s", key)


def keep_highest(key: str, position: int, *, timeout: int | None = None) -> None:
    """Store `position` under `key` unless a higher one is there already."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend.client
        client.get_client(write=True).eval(_RAISE_TO, 1, client.make_key(key), position, timeout or 0)
    elif position > (cache.get(key) or 0):
        cache.set(key, position, timeout=timeout)  # the embedded cache: one machine, no race worth a lock


class ReplicaRead:
    """A public read in progress: whether it may read the replica is decided at its first query."""

    def __init__(self, request):
        self.request = request
        self.fresh: bool | None = None

    def use_replica(self) -> bool:
        if self.fresh is None:
            self.fresh = self._replica_is_fresh()
        return self.fresh

    def _replica_is_fresh(self) -> bool:
        global _unreachable_until
        if time.monotonic() < _unreachable_until:
            return False
        from c4ang.cache import trusted  # c4ang.cache records the catalog's writes through this module

        if not trusted():  # invalidations are waiting for the cache: so may positions be
            return False
        keys = [CATALOG_WRITTEN_KEY]
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            keys.append(own_key(user.pk))
        needed = cache.get_many(keys)
        if CATALOG_WRITTEN_KEY not in needed:  # evicted or never written: start from the primary's now
            record_write(CATALOG_WRITTEN_KEY)
            return False
        try:
            replayed = _position(REPLICA, REPLAYED)
        except DatabaseError:
            logger.warning("read replica unreachable: public reads use the primary for %ss", RETRY_SECONDS)
            _unreachable_until = time.monotonic() + RETRY_SECONDS
            return False
        # NULL: the server is not replaying (a promoted or misconfigured replica): not read.
        return replayed is not None and replayed >= max(needed.values())


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        read = _request.get()
        if read is None or model._meta.app_label not in REPLICA_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # a transaction reads what it writes, on the primary
        return REPLICA if read.use_replica() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class ReplicaMiddleware:
    """Opens a view's public read to the replica; after a signed-in client's write, keeps its position."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        token = _request.set(None)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        user = getattr(request, "user", None)
        if request.method not in SAFE_METHODS and response.status_code < 400 and user and user.is_authenticated:
            record_write(own_key(user.pk), timeout=OWN_WRITE_SECONDS)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        view = getattr(view_func, "cls", None)
        if configured() and request.method in SAFE_METHODS and getattr(view, "reads_from_replica", False):
            _request.set(ReplicaRead(request))
