"""A hung Redis loses no cache invalidation: writes committed while it was stopped (SIGSTOP), whose
drops of the cached copies failed, are not served stale once it answers again (SIGCONT).

Each write records what it makes stale in its own transaction (c4ang.models.CacheInvalidation);
a drop that fails leaves the record, and readers apply what is left before they trust the cache."""

import signal
from decimal import Decimal

import pytest

from conftest import access_token_for, live_database_url, order_body, order_line
from deploy.local.net import call_json, free_port
from tests.test_outages import start_redis

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
UNLIMITED = "1000000/min"


@pytest.fixture
def stoppable_redis(tmp_path):
    """A redis-server of this test's own, that the test stops and resumes."""
    port = free_port()
    process = start_redis(port, tmp_path)
    yield port, process
    process.kill()  # a stopped process is killed all the same
    process.wait()


def test_writes_during_a_redis_hang_are_fresh_once_it_answers(
    stoppable_redis, gunicorn_server, customer_factory, staff_user, product_factory, tmp_path
):
    port, redis = stoppable_redis
    product = product_factory(name="무선 이어폰", price=Decimal("30000"), stock=10)
    customer = customer_factory(name="김민지")
    server = gunicorn_server(
        {
            "DATABASE_URL": live_database_url(tmp_path),
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "REDIS_SOCKET_TIMEOUT_MS": "100",
            **{f"THROTTLE_{scope}": UNLIMITED for scope in ("ANON", "USER")},
        },
        workers=2,
    )
    shopper, staff = access_token_for(customer.user), access_token_for(staff_user)
    detail, listing = f"{server.url}/api/v1/products/{product.pk}/", f"{server.url}/api/v1/products/"
    me = f"{server.url}/api/v1/customers/me/"

    def seen() -> list[tuple]:
        """What customers are shown, several times (either worker may answer each)."""
        answers = []
        for _ in range(4):
            shown = call_json(detail)[1]
            listed = next(item for item in call_json(listing)[1]["results"] if item["id"] == str(product.pk))
            answers.append((shown["price"], shown["stock"], listed["price"], listed["stock"]))
            answers.append(call_json(me, token=shopper)[1]["name"])
        return answers

    # Cached in Redis: the detail, the list page and the profile.
    assert seen() == [(30000, 10, 30000, 10), "김민지"] * 4

    redis.send_signal(signal.SIGSTOP)
    try:
        # Each write commits; its cache drop times out (Redis accepts connections and never answers).
        price = call_json(f"{server.url}/api/v1/products/staff/{product.pk}/", "PATCH", {"price": "35000"}, token=staff)
        renamed = call_json(me, "PATCH", {"name": "이서연"}, token=shopper)
        order = call_json(f"{server.url}/api/v1/orders/", "POST", order_body([order_line(product, 3)]), token=shopper)
    finally:
        redis.send_signal(signal.SIGCONT)

    assert (price.status, price.body["price"]) == (200, 35000)
    assert (renamed.status, renamed.body["name"]) == (200, "이서연")
    assert (order.status, order.body["status"], order.body["total_amount"]) == (201, "PAID", 105000)
    # Redis answers again, with the entries cached before the hang: none of them is served.
    assert seen() == [(35000, 7, 35000, 7), "이서연"] * 4
