"""Dependency outages on a real gunicorn: Redis (cache and broker) killed, PostgreSQL cut off.

Without Redis the platform degrades to the database: cached reads come from the tables, orders are
placed, rate limits fail open, and /readyz names the cache. Without PostgreSQL every path answers
a 503 in the platform's error shape with Retry-After, never a 500, and no order is left half placed:
one cut mid-saga is finished by recovery, and a retry with its Idempotency-Key finds that order."""

import contextlib
import http.cookiejar
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conftest import access_token_for, order_body, order_line, shared_database_url
from customers.tests.factories import hashed_for_live_server
from deploy.local.net import JsonAnswer, call_json, free_port, wait_listening
from orders.models import Order
from products.models import Product
from recommendations.tests.factories import RecommendationFactory
from saga import services as saga_services
from saga.models import SagaInstance

STAFF_PASSWORD = "a staff password 2026"
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# --- Redis -----------------------------------------------------------------------------------------


def redis_server_binary() -> str:
    """Debian's redis-server, installed through apt when missing: without it these tests would prove
    nothing, so they never skip for want of it (as the browser tests install chromium)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if shutil.which("apt-get") is None:
            pytest.fail("the Redis outage tests need redis-server: apt-get install redis-server")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"]
        subprocess.run(install, check=True, env=env)
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("apt-get installed redis-server but no redis-server binary was found")
    return binary


def start_redis(port: int, tmp_path) -> subprocess.Popen:
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    wait_listening(port, 10, process=process)
    return process


def wait_out_a_minute_about_to_end(seconds_needed: float) -> None:
    """The request limits count per minute of the clock, and a live server's clock cannot be stopped
    (the in-process tests stop the throttle's, conftest.throttle_clock): when fewer than
    `seconds_needed` are left in this minute, wait for the next, so that the requests that follow
    fall in one window."""
    left = 60 - time.time() % 60
    if left < seconds_needed:
        time.sleep(left)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own (never the shared one), that the test may kill and restart."""
    port = free_port()
    started = [start_redis(port, tmp_path)]
    yield port, started
    for process in started:
        process.kill()
        process.wait()


def test_redis_down_degrades_to_the_database(
    own_redis, gunicorn_server, customer, staff_user, product_factory, tmp_path
):
    port, redis_processes = own_redis
    product, other = product_factory(price=Decimal("30000"), stock=5), product_factory()
    RecommendationFactory(product=product, recommended=[other], algorithm="cosine")
    server = gunicorn_server(
        {"DATABASE_URL": shared_database_url(), "REDIS_URL": f"redis://127.0.0.1:{port}/0", "THROTTLE_ANON": "3/min"}
    )
    detail, listing = f"{server.url}/api/v1/products/{product.pk}/", f"{server.url}/api/v1/products/"
    recommended = f"{server.url}/api/v1/recommendations/{product.pk}/"
    # With Redis: cached, and anonymous clients limited to 3 requests a minute.
    wait_out_a_minute_about_to_end(seconds_needed=10)
    assert [call_json(url)[0] for url in (detail, listing, recommended, detail)] == [200, 200, 200, 429]

    redis_processes[0].kill()
    redis_processes[0].wait()
    Product.objects.filter(pk=product.pk).update(price=Decimal("31000"))

    # Served from the database (the new price), and no longer limited: the limits fail open.
    answers = [call_json(url) for url in (detail, listing, recommended, detail, listing)]
    assert [status for status, _, _ in answers] == [200] * 5
    assert answers[0][1]["price"] == 31000
    assert product.name in [item["name"] for item in answers[1][1]["results"]]
    assert [item["product"]["id"] for item in answers[2][1]["results"]] == [str(other.pk)]
    auth = access_token_for(customer.user)
    assert call_json(f"{server.url}/api/v1/customers/me/", token=auth)[1]["email"] == customer.user.email
    status, order, _ = call_json(
        f"{server.url}/api/v1/orders/",
        "POST",
        order_body([order_line(product, 2)]),
        token=auth,
    )
    assert (status, order["status"], order["total_amount"]) == (201, "PAID", 62000)
    assert Product.objects.get(pk=product.pk).stock == 3
    # Reported, but the pod stays ready: it serves without the cache.
    status, ready, _ = call_json(f"{server.url}/readyz")
    assert (status, ready["status"], ready["failing"], ready["degraded"]) == (200, "degraded", [], ["cache"])
    # Staff's "run now" cannot reach the broker (the same Redis): said on the dashboard, not a 500.
    assert "The job queue (the Celery broker) cannot be reached" in run_now(server.url, staff_user)

    redis_processes.append(start_redis(port, tmp_path))

    assert call_json(f"{server.url}/readyz")[1]["status"] == "ready"


def run_now(base: str, staff_user) -> str:
    """Sign in to the admin through its form, press "Run ... now" on the dashboard; the page shown after."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies := http.cookiejar.CookieJar()))

    def post(path: str, form: dict[str, str]) -> str:
        csrf = next(cookie.value for cookie in cookies if cookie.name == "csrftoken")
        data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": csrf}).encode()
        with browser.open(f"{base}{path}", data=data, timeout=30) as response:
            return response.read().decode()

    staff_user.password = hashed_for_live_server(STAFF_PASSWORD)
    staff_user.save(update_fields=["password"])
    browser.open(f"{base}/admin/login/", timeout=30).close()
    post("/admin/login/?next=/admin/", {"username": staff_user.email, "password": STAFF_PASSWORD, "next": "/admin/"})
    return post("/admin/jobs/daily_recommendation_pipeline/start/", {})


def test_a_hung_redis_is_served_around(gunicorn_server, product_factory):
    """A Redis that accepts connections and never answers (a stalled node): each cache operation
    gives up after REDIS_SOCKET_TIMEOUT_MS and the request is served from the database."""
    product = product_factory(price=Decimal("12000"))
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)  # accepted by the kernel, never read
        server = gunicorn_server(
            {
                "DATABASE_URL": shared_database_url(),
                "REDIS_URL": f"redis://127.0.0.1:{hung.getsockname()[1]}/0",
                "REDIS_SOCKET_TIMEOUT_MS": "100",
            }
        )

        status, body, _ = call_json(f"{server.url}/api/v1/products/{product.pk}/")
        ready_status, ready, _ = call_json(f"{server.url}/readyz")

    assert (status, body["price"]) == (200, 12000)
    assert (ready_status, ready["status"], ready["degraded"]) == (200, "degraded", ["cache"])
    assert ready["checks"]["cache"].startswith("error: ")


# --- PostgreSQL ------------------------------------------------------------------------------------


class TcpProxy:
    """A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones refused)
    and open again on the same port."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.open()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with contextlib.suppress(OSError):  # already cut
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.sockets.clear()


@pytest.fixture
def proxied_server(gunicorn_server):
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"], int(db["PORT"])))
    server = gunicorn_server({"DATABASE_URL": shared_database_url(proxy.port), "SAGA_LEASE_SECONDS": "2"}, workers=2)
    yield proxy, server
    proxy.cut()


UNAVAILABLE = "The database is unavailable; retry shortly."


def assert_unavailable(answer: JsonAnswer) -> None:
    status, body, headers = answer
    assert status == 503, body
    assert body == {
        "code": "service_unavailable",
        "message": "The database is unavailable; retry shortly.",
        "errors": [],
    }
    assert headers["Retry-After"] == "5"


def test_a_database_cut_between_requests_is_a_503_and_writes_nothing(proxied_server, customer, product_factory):
    proxy, server = proxied_server
    product = product_factory(stock=5)
    orders, auth = f"{server.url}/api/v1/orders/", access_token_for(customer.user)
    body = order_body([order_line(product)])
    assert [call_json(orders, token=auth)[0] for _ in range(4)] == [200] * 4
    # A blip between requests (a failover, a proxy restart): each worker's connection is dead.
    proxy.cut()
    proxy.open()
    assert [call_json(orders, token=auth)[0] for _ in range(4)] == [200] * 4

    proxy.cut()

    assert_unavailable(call_json(orders, token=auth))  # a DRF view
    assert_unavailable(call_json(orders, "POST", body, token=auth))
    session = {"Cookie": f"sessionid={uuid.uuid4().hex}"}
    assert_unavailable(call_json(f"{server.url}/admin/", headers=session))  # a plain Django path
    status, ready, _ = call_json(f"{server.url}/readyz")
    assert (status, ready["failing"]) == (503, ["database", "migrations"])
    assert (Order.objects.count(), Product.objects.get(pk=product.pk).stock) == (0, 5)

    proxy.open()

    # Each worker's dropped connection is replaced on its next request: no 503 after the outage.
    assert [call_json(orders, token=auth)[0] for _ in range(4)] == [200] * 4
    assert call_json(orders, "POST", body, token=auth)[1]["status"] == "PAID"


def test_a_database_cut_mid_saga_leaves_no_half_placed_order(proxied_server, customer, product_factory):
    proxy, server = proxied_server
    product = product_factory(stock=5)
    orders, auth = f"{server.url}/api/v1/orders/", access_token_for(customer.user)
    body = order_body([order_line(product, 2)])

    def place(key: str):
        return lambda: call_json(orders, "POST", body, token=auth, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=2) as pool, transaction.atomic():
        # Holding the product row against updates (not against the order items' foreign keys), both
        # orders are created and stop at the stock reservation, one per worker.
        Product.objects.select_for_update(no_key=True).get(pk=product.pk)
        placing = [pool.submit(place(key)) for key in ("cut-1", "cut-2")]
        waiting_for_lock(2)
        proxy.cut()
        answers = [future.result(timeout=30) for future in placing]

    for answer in answers:
        assert_unavailable(answer)
    proxy.open()
    # Their orders exist (step 1 committed), unpaid, no stock taken: the reservation rolled back.
    assert set(Order.objects.values_list("status", "stock_reserved")) == {("PENDING", False)}
    assert Product.objects.get(pk=product.pk).stock == 5

    assert saga_services.saga_recover(now=timezone.now() + timezone.timedelta(seconds=3)) == {"COMPLETED": 2}
    retried = [place(key)() for key in ("cut-1", "cut-2")]

    assert [(status, order["status"]) for status, order, _ in retried] == [(201, "PAID")] * 2
    assert {headers["Idempotent-Replayed"] for *_, headers in retried} == {"true"}
    assert Order.objects.count() == 2
    assert Product.objects.get(pk=product.pk).stock == 1
    assert set(SagaInstance.objects.values_list("status", flat=True)) == {"COMPLETED"}


def waiting_for_lock(count: int, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # taken once per transaction otherwise
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            if time.monotonic() > deadline:
                cursor.execute("SELECT datname, state, wait_event_type, wait_event, query FROM pg_stat_activity")
                raise AssertionError(f"the orders never reached the stock reservation: {cursor.fetchall()}")
            time.sleep(0.05)
