"""The cache as the rate limits and job locks use it (c4ang.cache.count_and_get, c4ang.jobs), through
Django's cache API whatever the backend (the embedded one, or Redis): shared between processes, with
increments and adds that no concurrent process can lose or win twice."""

import multiprocessing
import time

import pytest
from django.conf import settings
from django.core.cache import CacheHandler, cache

# Processes of their own, as gunicorn's workers and the jobs are (nothing inherited from this one).
SPAWN = multiprocessing.get_context("spawn")


def _backend(config: dict):
    return CacheHandler({"default": config})["default"]


def _count(config: dict, key: str, times: int) -> None:
    backend = _backend(config)
    for _ in range(times):
        try:
            backend.incr(key)
        except ValueError:  # first of the window, as c4ang.cache.count_and_get does
            if not backend.add(key, 1, timeout=60):
                backend.incr(key)


def _lock(config: dict, key: str, results) -> None:
    results.put(_backend(config).add(key, "mine", timeout=60))


def _poll(condition, deadline_s: float = 10) -> bool:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_incr_refuses_a_missing_key_and_add_takes_a_key_once():
    with pytest.raises(ValueError, match="not found"):
        cache.incr("window")  # the throttle then starts the window with add
    assert (cache.add("window", 1, timeout=60), cache.add("window", 1, timeout=60)) == (True, False)
    assert (cache.incr("window"), cache.incr("window", 5), cache.decr("window")) == (2, 7, 6)
    assert cache.get("window") == 6


def test_an_increment_keeps_the_window_and_an_expired_lock_is_free_again():
    cache.add("window", 1, timeout=1)
    cache.incr("window")
    cache.add("job-lock", "first", timeout=1)

    assert cache.add("job-lock", "second", timeout=1) is False
    assert _poll(lambda: cache.get("window") is None)  # the count ends with its window
    assert _poll(lambda: cache.add("job-lock", "third", timeout=60))
    assert cache.get("job-lock") == "third"


def test_processes_share_it_and_lose_no_increment():
    config = settings.CACHES["default"]
    processes = [SPAWN.Process(target=_count, args=(config, "window", 300)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    assert [process.exitcode for process in processes] == [0] * 4
    assert cache.get("window") == 1200


def test_one_process_of_many_takes_a_lock():
    config, results = settings.CACHES["default"], SPAWN.Queue()
    processes = [SPAWN.Process(target=_lock, args=(config, "job-lock", results)) for _ in range(6)]
    for process in processes:
        process.start()
    taken = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=60)

    assert taken == [False] * 5 + [True]
    assert cache.get("job-lock") == "mine"
