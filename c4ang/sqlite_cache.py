"""The embedded cache (no REDIS_URL): a Django cache backend in a SQLite file of its own.

An in-memory cache is one per process: with gunicorn's 2 workers and the jobs running as processes
of their own, a write dropped the entry in one process and the others kept serving it, and every
worker counted rate limits for itself. Every process that opens this file shares one cache.

Each operation is one statement in autocommit (a transaction of its own): increments are atomic
across processes (`UPDATE ... SET value = value + 1 ... RETURNING`) and so is `add` (an upsert that
only replaces an expired entry), so rate limits and job locks hold across processes too. Integers
are stored as SQLite integers (so that they can be incremented there), anything else pickled.
Measured against Django's file-based and database caches in bench/embedded_cache.py (README).

Not diskcache's DjangoCache (SQLite too, its incr and add atomic across processes), measured in the
same runs (bench/RESULTS.md): as shipped it closes its connections after each request (Django closes
every cache), and reopening them left it 19-25% of this backend's cached-detail throughput (median
per round, 4 runs); kept open, 87-94% (89% over 22 rounds): its incr is a transaction of 4
statements, and the other worker waits out the write lock (2 processes counting and reading: about
110-140 us each vs 56-70 us here)."""

import os
import pickle  # nosec B403 - the cache file is written by this backend only, as Django's own caches pickle
import sqlite3
import time
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

_SCHEMA = "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL) WITHOUT ROWID"
# Expired entries are skipped by every read; a write deletes them (and culls) at most this often.
PURGE_EVERY_S = 60
# SQLite's default limit of host parameters is 32766; keys are sent in chunks well under it.
_CHUNK = 500


class SQLiteCache(BaseCache):
    def __init__(self, location: str, params: dict):
        super().__init__(params)
        self._path = Path(location)
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._purged_at = 0.0

    def _db(self) -> sqlite3.Connection:
        # Django gives each thread its own backend instance; a forked child opens its own connection.
        if self._connection is None or self._pid != os.getpid():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self._path, timeout=20, isolation_level=None, check_same_thread=True)
            # WAL: readers never wait for the writer. A cache loses nothing worth an fsync per write.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @staticmethod
    def _encode(value: Any) -> int | bytes:
        if type(value) is int:
            return value
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def _decode(stored: int | bytes) -> Any:
        return stored if isinstance(stored, int) else pickle.loads(stored)  # noqa: S301  # nosec B301 - written by this backend

    def _expires(self, timeout) -> float | None:
        return self.get_backend_timeout(timeout)

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute("SELECT value FROM cache WHERE key = ? AND (expires IS NULL OR expires > ?)", (key, time.time()))
            .fetchone()
        )
        return default if row is None else self._decode(row[0])

    def get_many(self, keys, version=None) -> dict:
        named = {self.make_and_validate_key(key, version=version): key for key in keys}
        found, made = {}, list(named)
        for start in range(0, len(made), _CHUNK):
            chunk = made[start : start + _CHUNK]
            rows = self._db().execute(
                f"SELECT key, value FROM cache WHERE key IN ({_placeholders(chunk)}) "  # noqa: S608  # nosec B608 - placeholders
                "AND (expires IS NULL OR expires > ?)",
                (*chunk, time.time()),
            )
            found.update({named[key]: self._decode(value) for key, value in rows})
        return found

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._db().execute(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
            (key, self._encode(value), self._expires(timeout)),
        )
        self._purge_now_and_then()

    def set_many(self, data: dict, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        expires = self._expires(timeout)
        rows = [(self.make_and_validate_key(key, version=version), self._encode(v), expires) for key, v in data.items()]
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                rows,
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self._purge_now_and_then()
        return []

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """Set `key` only where it is missing or expired: atomic across processes (job locks)."""
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute(
                "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires "
                "WHERE cache.expires IS NOT NULL AND cache.expires <= ? RETURNING 1",
                (key, self._encode(value), self._expires(timeout), time.time()),
            )
            .fetchone()
        )
        return row is not None

    def incr(self, key, delta=1, version=None) -> int:
        """Add `delta` to an integer entry in one statement (no lost increments between processes);
        ValueError when the key is missing or expired, as Django's caches do."""
        made = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute(
                "UPDATE cache SET value = value + ? WHERE key = ? AND typeof(value) = 'integer' "
                "AND (expires IS NULL OR expires > ?) RETURNING value",
                (delta, made, time.time()),
            )
            .fetchone()
        )
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return row[0]

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        cursor = self._db().execute(
            "UPDATE cache SET expires = ? WHERE key = ? AND (expires IS NULL OR expires > ?)",
            (self._expires(timeout), key, time.time()),
        )
        return cursor.rowcount > 0

    def has_key(self, key, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute("SELECT 1 FROM cache WHERE key = ? AND (expires IS NULL OR expires > ?)", (key, time.time()))
            .fetchone()
        )
        return row is not None

    def delete(self, key, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._db().execute("DELETE FROM cache WHERE key = ?", (key,)).rowcount > 0

    def delete_many(self, keys, version=None) -> None:
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        for start in range(0, len(made), _CHUNK):
            chunk = made[start : start + _CHUNK]
            self._db().execute(f"DELETE FROM cache WHERE key IN ({_placeholders(chunk)})", chunk)  # noqa: S608  # nosec B608

    def clear(self) -> None:
        self._db().execute("DELETE FROM cache")

    def close(self, **kwargs) -> None:
        """Kept open between requests (Django closes caches after each one), like a local-memory cache."""

    def _purge_now_and_then(self) -> None:
        now = time.time()
        if now - self._purged_at < PURGE_EVERY_S:
            return
        self._purged_at = now
        db = self._db()
        db.execute("DELETE FROM cache WHERE expires IS NOT NULL AND expires <= ?", (now,))
        (entries,) = db.execute("SELECT COUNT(*) FROM cache").fetchone()
        if entries > self._max_entries and self._cull_frequency:
            # Django's culling: drop a share of the entries, those expiring first.
            db.execute(
                "DELETE FROM cache WHERE key IN (SELECT key FROM cache ORDER BY expires IS NULL, expires LIMIT ?)",
                (entries // self._cull_frequency,),
            )


def _placeholders(values: list) -> str:
    return ", ".join("?" * len(values))
