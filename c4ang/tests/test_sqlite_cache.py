"""The embedded cache (c4ang.sqlite_cache): Django's cache semantics, expiry and culling. That it is
shared between processes, losing no increment and letting one add win: test_embedded_cache.py."""

import time

import pytest

from c4ang import sqlite_cache
from c4ang.sqlite_cache import SQLiteCache


@pytest.fixture
def backend(tmp_path) -> SQLiteCache:
    return SQLiteCache(str(tmp_path / "cache.sqlite3"), {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def test_values_round_trip_and_expire(backend, monkeypatch):
    backend.set("body", (7, b'{"price": "129000"}'), timeout=60)
    backend.set("count", 3, timeout=None)
    backend.set("gone", "x", timeout=0)  # Django's meaning: expires at once

    assert backend.get("body") == (7, b'{"price": "129000"}')
    assert backend.get_many(["body", "count", "gone", "missing"]) == {"body": (7, b'{"price": "129000"}'), "count": 3}
    assert (backend.get("gone"), backend.get("missing", "default")) == (None, "default")

    later = time.time() + 61
    monkeypatch.setattr(sqlite_cache.time, "time", lambda: later)
    assert (backend.get("body"), backend.get("count"), backend.has_key("body")) == (None, 3, False)


def test_add_only_where_missing_or_expired(backend, monkeypatch):
    assert backend.add("lock", "first", timeout=30) is True
    assert backend.add("lock", "second", timeout=30) is False
    assert backend.get("lock") == "first"

    later = time.time() + 31
    monkeypatch.setattr(sqlite_cache.time, "time", lambda: later)
    assert backend.add("lock", "third", timeout=30) is True
    assert backend.get("lock") == "third"


def test_incr_counts_integers_and_refuses_missing_keys(backend):
    backend.set("hits", 1, timeout=60)
    backend.set("text", "1", timeout=60)

    assert (backend.incr("hits"), backend.incr("hits", 5), backend.decr("hits", 2)) == (2, 7, 5)
    with pytest.raises(ValueError, match="'missing' not found"):
        backend.incr("missing")
    with pytest.raises(ValueError, match="'text' not found"):
        backend.incr("text")  # pickled, not a number
    assert (backend.get("hits"), backend.get("text")) == (5, "1")


def test_set_many_delete_touch_and_clear(backend):
    backend.set_many({f"key{number}": number for number in range(1200)}, timeout=60)  # more than one chunk

    assert len(backend.get_many([f"key{number}" for number in range(1200)])) == 1200
    backend.delete_many([f"key{number}" for number in range(600)])
    assert (backend.delete("key600"), backend.delete("key600")) == (True, False)
    assert (backend.get("key599"), backend.get("key601")) == (None, 601)
    assert (backend.touch("key601", timeout=None), backend.touch("missing")) == (True, False)
    backend.clear()
    assert backend.get_many(["key601", "key1199"]) == {}


def test_expired_entries_are_purged_and_culled(tmp_path, monkeypatch):
    backend = SQLiteCache(str(tmp_path / "cache.sqlite3"), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    backend.set_many({f"old{number}": number for number in range(5)}, timeout=1)
    backend.set_many({f"new{number}": number for number in range(12)}, timeout=60)
    later = time.time() + 2
    monkeypatch.setattr(sqlite_cache.time, "time", lambda: later)
    backend._purged_at = 0  # the next write purges

    backend.set("one-more", 1, timeout=None)

    (left,) = backend._db().execute("SELECT COUNT(*) FROM cache").fetchone()
    # The 5 expired ones deleted, then half of the 13 left culled, those expiring first.
    assert left == 13 - 13 // 2
    assert backend.get("one-more") == 1
