"""The local mesh end to end: nginx in front of one gunicorn per module (and, with Redis, a Celery
worker and beat), routing by path exactly like the VirtualServices. Every request of the customer
flow must be answered by its module's process: nginx names the upstream that answered, and the
request id we send must appear in that process's access log and in no other."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from conftest import access_token_for, order_body, order_line
from customers.tests.factories import CustomerFactory
from deploy.local.mesh import Mesh, Route, alive, mesh_routes
from deploy.local.net import call_json, free_port
from deploy.render import render
from orders.models import Order
from payments.models import Payment
from products.models import Product
from products.tests.factories import ProductFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_nginx_routes_are_the_virtualservices_routes():
    routes, modules = mesh_routes(render("local"))

    assert routes == [
        Route("prefix", "/api/v1/customers", "customer-api"),
        Route("prefix", "/api/v1/products", "product-api"),
        Route("prefix", "/api/v1/orders", "order-api"),
        Route("prefix", "/api/v1/payments", "payment-api"),
        Route("prefix", "/api/v1/recommendations", "recommendation-api"),
        Route("prefix", "/api/v1/saga", "saga-tracker"),
        Route("prefix", "/admin", "admin"),
        Route("prefix", "/static", "admin"),
        Route("exact", "/healthz", "admin"),
        Route("exact", "/readyz", "admin"),
    ]
    assert modules == {
        "customer-api": "customers",
        "product-api": "products",
        "order-api": "orders",
        "payment-api": "payments",
        "recommendation-api": "recommendations",
        "saga-tracker": "saga",
        "admin": "admin",
    }


@pytest.fixture(scope="module")
def mesh(django_db_setup, django_db_blocker, tmp_path_factory):
    """The mesh on the test database (PostgreSQL pass) or on a SQLite file of its own (in-memory pass)."""
    state = tmp_path_factory.mktemp("localmesh")
    database = settings.DATABASES["default"]
    on_postgres = database["ENGINE"] == "django.db.backends.postgresql"
    if on_postgres:
        login = f"{database['USER']}:{database['PASSWORD'] or ''}"
        url = f"postgres://{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    else:
        url = f"sqlite:///{state / 'mesh.sqlite3'}"
    env = {"DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "THROTTLE_AUTH": "1000/min"}
    mesh = Mesh(state, port=free_port(), workers=2)  # two of each: concurrent requests really race
    mesh.start(env)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo_data", "--products", "3", "--customers", "0", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            timeout=120,
        )
        yield mesh
    finally:
        processes = mesh.processes()
        mesh.stop()
        assert not mesh.running()
        assert processes
        assert not [pid for pid in processes.values() if alive(pid)]
        if on_postgres:
            with django_db_blocker.unblock():
                call_command("flush", interactive=False, verbosity=0)


@pytest.mark.slow
def test_a_mesh_that_cannot_start_leaves_no_process_behind(tmp_path):
    with socket.socket() as taken:  # nginx's port, held by someone else
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        nginx_port = taken.getsockname()[1]
        mesh = Mesh(tmp_path, port=nginx_port, workers=1)

        with pytest.raises(subprocess.CalledProcessError):
            mesh.start({"DATABASE_URL": f"sqlite:///{tmp_path / 'mesh.sqlite3'}", "REDIS_URL": ""})

    assert len(mesh.upstreams) == 7  # one per module Service
    assert nginx_port not in [up.port for up in mesh.upstreams]
    for up in mesh.upstreams:  # every module's gunicorn was started, and is gone
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", up.port), timeout=2):
            pass


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None, **extra: str):
    """call_json with a request id of its own, returned last: the access logs are searched for it."""
    request_id = uuid.uuid4().hex
    answer = call_json(f"{base}{path}", method, body, token=token, headers={"X-Request-ID": request_id, **extra})
    return (*answer, request_id)


def served_by(mesh: Mesh, request_id: str, deadline_s: float = 10) -> list[str]:
    """The processes whose access log has this request id (gunicorn logs just after it answers)."""
    _, upstreams = mesh.recorded()
    deadline = time.monotonic() + deadline_s
    while True:
        found = [
            up.service
            for up in upstreams
            if f'"request_id": "{request_id}"' in (mesh.logs / f"{up.service}.log").read_text(encoding="utf-8")
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_customer_flow_is_served_by_each_modules_own_process(mesh):
    _, upstreams = mesh.recorded()
    port_of = {up.service: f"127.0.0.1:{up.port}" for up in upstreams}
    email = f"mesh-{uuid.uuid4().hex[:8]}@example.kr"
    seen = []

    def step(service: str, method: str, path: str, status: int, body=None, token=None, logged=True):
        answer, payload, headers, request_id = call(mesh.url, method, path, body, token)
        assert (answer, headers["X-Mesh-Upstream"]) == (status, port_of[service]), (path, payload)
        if logged:  # the probes answer before the request-id middleware: nginx's header is the proof
            assert headers["X-Request-ID"] == request_id
            seen.append((path, service, request_id))
        return payload

    assert step("admin", "GET", "/healthz", 200, logged=False) == {"status": "ok"}
    assert step("admin", "GET", "/readyz", 200, logged=False)["status"] == "ready"
    password = "a mesh password 2026"
    registered = step(
        "customer-api",
        "POST",
        "/api/v1/customers/register/",
        201,
        {"email": email, "password": password, "name": "메시"},
    )
    token = step("customer-api", "POST", "/api/v1/customers/token/", 200, {"email": email, "password": password})[
        "access"
    ]
    assert step("customer-api", "GET", "/api/v1/customers/me/", 200, token=token)["id"] == registered["customer"]["id"]
    products = step("product-api", "GET", "/api/v1/products/", 200)["results"]
    assert step("product-api", "GET", f"/api/v1/products/{products[0]['id']}/", 200)["id"] == products[0]["id"]
    assert step("order-api", "GET", "/api/v1/orders/", 200, token=token)["results"] == []
    assert step("order-api", "GET", "/api/v1/orders/", 401)["code"] == "not_authenticated"
    in_stock = next(product for product in products if product["stock"] > 0)
    order = step(
        "order-api",
        "POST",
        "/api/v1/orders/",
        201,
        order_body([{"product_id": in_stock["id"], "quantity": 1}]),
        token=token,
    )
    assert order["status"] == "PAID"
    payments = step("payment-api", "GET", "/api/v1/payments/", 200, token=token)["results"]
    assert [(payment["status"], payment["amount"]) for payment in payments] == [("APPROVED", order["total_amount"])]
    assert step("saga-tracker", "GET", "/api/v1/saga/", 401)["code"] == "not_authenticated"
    assert "Log in | C4ang staff" in step("admin", "GET", "/admin/login/", 200)

    assert [(path, served_by(mesh, request_id)) for path, _, request_id in seen] == [
        (path, [service]) for path, service, _ in seen
    ]


def test_a_path_no_route_matches_is_a_404_of_the_mesh(mesh):
    status, payload, headers, _ = call(mesh.url, "GET", "/api/v2/orders/")

    assert status == 404
    assert payload == {"code": "not_found", "message": "No route for this path."}
    assert "X-Mesh-Upstream" not in headers  # nginx answered: no process was asked


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("order-api", "/api/v1/products/"),
        ("product-api", "/api/v1/customers/me/"),
        ("customer-api", "/api/v1/orders/"),
        ("saga-tracker", "/admin/login/"),
        ("admin", "/api/v1/products/"),
    ],
)
def test_a_modules_process_does_not_serve_another_modules_path(mesh, service, path):
    _, upstreams = mesh.recorded()
    ports = {up.service: up.port for up in upstreams}

    status, payload, _, _ = call(f"http://127.0.0.1:{ports[service]}", "GET", path)

    assert status == 404
    assert payload["code"] == "not_found"


@pytest.mark.redis
def test_the_celery_worker_and_the_single_beat_run_beside_the_web_processes(mesh):
    processes = mesh.processes()
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL}

    ping = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "c4ang", "inspect", "ping", "--timeout", "10", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert {"celery-worker", "celery-beat"} <= set(processes)
    assert ping.returncode == 0, ping.stderr
    answers = json.loads(ping.stdout.strip().splitlines()[-1])
    assert [name.split("@")[0] for name in answers] == ["localmesh"]
    assert "beat: Starting..." in (mesh.logs / "celery-beat.log").read_text(encoding="utf-8")


@pytest.fixture
def shop(mesh, django_db_blocker):
    """A product and ten signed-in customers, written to the mesh's database (PostgreSQL pass)."""

    with django_db_blocker.unblock():
        product = ProductFactory(
            name=f"한정판 {uuid.uuid4().hex[:6]}", category__name="한정판", brand="c4ang", price=1000, stock=20
        )
        # Emails of their own: the mesh's database outlives each test.
        racers = [CustomerFactory(email=f"racer-{uuid.uuid4().hex[:8]}@example.kr", name="경주") for _ in range(10)]
        tokens = [access_token_for(racer.user) for racer in racers]
    return product, tokens


def stock_and_orders(product, django_db_blocker) -> tuple[int, dict[str, int]]:

    with django_db_blocker.unblock():
        orders = Order.objects.filter(items__product=product)
        statuses = {status: orders.filter(status=status).count() for status in ("PAID", "CANCELLED", "PENDING")}
        return Product.objects.get(pk=product.pk).stock, statuses


# An oversell through the mesh is caught only in the PostgreSQL pass of CI: SQLite runs one writer at a time.
@pytest.mark.postgres
def test_60_clients_racing_for_20_units_through_the_mesh_buy_exactly_20(mesh, shop, django_db_blocker):

    product, tokens = shop
    body = order_body([order_line(product)])
    lowest_seen, selling = [], threading.Event()

    def watch_stock():
        with django_db_blocker.unblock():
            while not selling.is_set():
                lowest_seen.append(Product.objects.get(pk=product.pk).stock)

    watcher = threading.Thread(target=watch_stock)
    watcher.start()
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(lambda n: call(mesh.url, "POST", "/api/v1/orders/", body, tokens[n % 10]), range(60)))
    selling.set()
    watcher.join(timeout=30)

    # A shortage seen before the saga starts is a 409 that places nothing; one the saga meets (a race
    # past that check) cancels its order.
    placed = [payload for status, payload, *_ in answers if status == 201]
    refused = [payload["code"] for status, payload, *_ in answers if status == 409]
    assert len(placed) + len(refused) == 60
    assert set(refused) <= {"insufficient_stock"}
    outcomes = [payload["status"] for payload in placed]
    assert outcomes.count("PAID") == 20
    assert {payload["cancel_code"] for payload in placed if payload["status"] == "CANCELLED"} <= {"insufficient_stock"}
    assert min(lowest_seen) >= 0
    # Stock conserved: the 20 units went to the 20 paid orders, and every refused one released its hold.
    cancelled = outcomes.count("CANCELLED")
    assert stock_and_orders(product, django_db_blocker) == (0, {"PAID": 20, "CANCELLED": cancelled, "PENDING": 0})


# A double charge through the mesh is caught only in the PostgreSQL pass of CI: SQLite runs one writer at a time.
@pytest.mark.postgres
def test_one_idempotency_key_replayed_at_once_through_the_mesh_is_one_order_and_one_charge(
    mesh, shop, django_db_blocker
):

    product, tokens = shop
    body = order_body([order_line(product, 2)])

    def place(_):
        return call(mesh.url, "POST", "/api/v1/orders/", body, tokens[0], **{"Idempotency-Key": "mesh-checkout-1"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(place, range(20)))

    assert {status for status, *_ in answers} == {201}
    assert len({payload["id"] for _, payload, *_ in answers}) == 1
    assert sum(headers.get("Idempotent-Replayed") == "true" for _, _, headers, _ in answers) == 19
    assert stock_and_orders(product, django_db_blocker) == (18, {"PAID": 1, "CANCELLED": 0, "PENDING": 0})
    with django_db_blocker.unblock():
        assert Payment.objects.filter(order_id=answers[0][1]["id"]).count() == 1
