"""diskcache's Django backend with its SQLite connections kept open between requests: a candidate of
bench/embedded_cache.py. Django closes every cache after each request, and diskcache's `close()`
closes its connections (reopening them is most of what the backend as shipped costs a request);
its author advises leaving them open. A forked child opens its own (diskcache checks the pid)."""

from diskcache import DjangoCache


class KeptOpenDjangoCache(DjangoCache):
    def close(self, **kwargs) -> None:
        """Kept open between requests, as c4ang.sqlite_cache does."""
