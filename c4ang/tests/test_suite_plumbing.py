"""The suite's own plumbing: a test's clean-up empties only what it owns, and the outage tests
never skip for want of redis-server."""

import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from c4ang.celery import app
from c4ang.settings import redis_neighbour_db, redis_worker_db
from tests.test_outages import redis_server_binary


def test_the_broker_takes_the_database_next_to_the_caches():
    assert redis_neighbour_db("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/14"
    assert redis_neighbour_db("redis://127.0.0.1:6379/8") == "redis://127.0.0.1:6379/9"
    assert redis_neighbour_db("redis://:secret@redis:6379") == "redis://:secret@redis:6379/1"


def test_parallel_workers_of_the_suite_take_pairs_of_redis_databases_of_their_own():
    assert redis_worker_db("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert redis_worker_db("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/13"
    assert redis_neighbour_db(redis_worker_db("redis://127.0.0.1:6379/15", "gw1")) == "redis://127.0.0.1:6379/12"
    with pytest.raises(ImproperlyConfigured, match="gw1"):
        redis_worker_db("redis://127.0.0.1:6379/1", "gw1")


@pytest.mark.redis
def test_clearing_the_cache_leaves_the_tasks_queued_for_workers():
    # Given a task queued on the broker (a queue nobody consumes) and something cached
    queue = f"test-{uuid.uuid4().hex[:12]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.send_task("c4ang.tests.nothing", queue=queue)
    cache.set("suite-isolation", 1)
    try:
        # When the suite clears the cache, as it does around every test
        cache.clear()

        # Then the cache is empty and the task is still queued
        assert cache.get("suite-isolation") is None
        assert broker.llen(queue) == 1
        assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL
    finally:
        broker.delete(queue)


def fake_command(folder, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_a_missing_redis_server_is_installed_through_apt(tmp_path, monkeypatch):
    # Given a machine without redis-server, whose apt-get installs it (a stand-in that logs its calls)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    redis_server = bin_dir / "redis-server"
    installs = f"echo '#!/bin/sh' > {redis_server}; /bin/chmod +x {redis_server}"
    fake_command(bin_dir, "apt-get", f'echo "$*" >> {calls}; if [ "$1" = install ]; then {installs}; fi')
    monkeypatch.setenv("PATH", str(bin_dir))

    # When an outage test asks for it
    binary = redis_server_binary()

    # Then it was installed, not skipped
    assert binary == str(redis_server)
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq --no-install-recommends redis-server"]


def test_without_redis_server_or_apt_the_outage_tests_fail_rather_than_skip(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(pytest.fail.Exception, match="need redis-server: apt-get install redis-server"):
        redis_server_binary()


def test_a_test_marked_no_database_that_uses_the_database_stops_the_run(tmp_path):
    # Given a test module, inside the project so that its conftest applies, marked no_database
    # (CI leaves such tests out of its PostgreSQL pass) with one test that asks for the database
    folder = Path(settings.BASE_DIR) / f".suite-check-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    try:
        (folder / "test_marked.py").write_text(MARKED_NO_DATABASE)

        # When pytest collects it
        collected = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(folder)],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(folder)

    # Then the run stops, naming the test, rather than leave it out of the pass it needs
    assert collected.returncode == pytest.ExitCode.USAGE_ERROR, collected.stdout + collected.stderr
    assert "test_marked.py::test_reads_the_database is marked no_database but uses the database" in collected.stderr
    assert "test_reads_nothing" not in collected.stderr


MARKED_NO_DATABASE = """
import pytest

pytestmark = pytest.mark.no_database


def test_reads_nothing():
    pass


def test_reads_the_database(db):
    pass
"""
