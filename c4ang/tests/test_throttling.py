"""The default request-rate limits: per IP for anonymous requests, per user for signed-in ones,
counted in fixed windows with one cache increment each."""

import pytest
from rest_framework.settings import api_settings

from c4ang.api import throttling
from conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch, throttle_clock):
    """Set limits; the throttle's clock stands still, so each test's requests share one window."""

    def set_rates(**rates):
        for throttle in (throttling.AnonRateThrottle, throttling.UserRateThrottle):
            monkeypatch.setattr(throttle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, **rates})

    return set_rates


def test_anonymous_requests_are_limited_per_ip(api_client, rates):
    rates(anon="3/min")

    statuses = [api_client.get("/api/v1/products/").status_code for _ in range(4)]
    other_ip = api_client.get("/api/v1/products/", REMOTE_ADDR="10.9.8.7")

    assert statuses == [200, 200, 200, 429]
    throttled = api_client.get("/api/v1/products/")
    assert throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert other_ip.status_code == 200


def test_signed_in_requests_are_limited_per_user(customer_factory, rates):
    rates(anon="1/min", user="2/min")
    first, second = client_for(customer_factory().user), client_for(customer_factory().user)

    statuses = [first.get("/api/v1/orders/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    # Same IP, another user: their own window, and the anonymous limit does not apply to them.
    assert second.get("/api/v1/orders/").status_code == 200


def test_each_window_counts_from_zero_and_says_when_it_ends(api_client, rates, throttle_clock):
    rates(anon="2/min")
    throttle_clock.advance(58)  # 59 s into the window

    in_window = [api_client.get("/api/v1/products/").status_code for _ in range(3)]
    throttled = api_client.get("/api/v1/products/")
    throttle_clock.advance(1)  # the next window
    next_window = [api_client.get("/api/v1/products/").status_code for _ in range(3)]

    assert in_window == [200, 200, 429]
    assert throttled["Retry-After"] == "1"
    assert next_window == [200, 200, 429]


@pytest.mark.redis
def test_one_redis_command_counts_in_a_window_and_reads_the_entries():
    from django.core.cache import cache
    from django_redis import get_redis_connection

    from c4ang.cache import count_and_get

    cache.delete_many(["test:counter", "test:entry", "test:missing"])
    cache.set("test:entry", (3, b"{}"))
    redis = get_redis_connection()
    commands = redis.info("commandstats")

    first = count_and_get("test:counter", 60, ["test:entry", "test:missing"])
    second = count_and_get("test:counter", 60, [])
    redis.persist(cache.make_key("test:counter"))  # a counter that lost its window gets one again
    third = count_and_get("test:counter", 60, ["test:entry"])

    assert first == (1, [(3, b"{}"), None])
    assert second == (2, [])
    assert third == (3, [(3, b"{}")])
    assert 0 < redis.ttl(cache.make_key("test:counter")) <= 60
    calls = redis.info("commandstats")
    assert calls["cmdstat_evalsha"]["calls"] - commands.get("cmdstat_evalsha", {"calls": 0})["calls"] >= 3
