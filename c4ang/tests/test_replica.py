"""The read replica's parts that need no replica (tests/test_read_replica.py runs a real one)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache

from c4ang import replica


def test_wal_positions_order_like_the_wal():
    positions = ["0/16B3748", "0/16B3750", "0/FFFFFFFF", "1/0", "16/B374D848"]
    assert sorted(positions, key=replica.lsn_number) == positions
    assert replica.lsn_number("1/0") == 1 << 32


@pytest.mark.parametrize("cache_kind", ["redis", "embedded"])
def test_a_kept_position_only_rises(cache_kind):
    if (cache_kind == "redis") != bool(settings.REDIS_URL):
        pytest.skip(f"this pass's cache is not the {cache_kind} one")
    replica.keep_highest("replica:test", 200)
    replica.keep_highest("replica:test", 100)  # a writer that finished after a later one
    assert cache.get("replica:test") == 200
    replica.keep_highest("replica:test", 300, timeout=60)
    assert cache.get("replica:test") == 300


def test_without_a_replica_every_read_is_the_primarys_and_nothing_is_recorded():
    assert not replica.configured()
    assert replica.ReplicaRouter().db_for_read(type("Model", (), {"_meta": None})) is None
    replica.record_write(replica.CATALOG_WRITTEN_KEY)
    assert cache.get(replica.CATALOG_WRITTEN_KEY) is None


def test_migrations_never_run_on_the_replica():
    router = replica.ReplicaRouter()
    assert router.allow_migrate(replica.REPLICA, "products") is False
    assert router.allow_migrate("default", "products") is True


def test_a_replica_is_refused_unless_both_databases_are_postgresql():
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite:////tmp/c4ang-replica-refused.sqlite3",
        "DATABASE_REPLICA_URL": "postgres://postgres@127.0.0.1:5432/c4ang",
    }
    found = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "c4ang.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode != 0
    assert "DATABASE_REPLICA_URL is a streaming replica of a PostgreSQL DATABASE_URL" in found.stderr
