"""The blue/green analysis against a real Prometheus (Debian's) scraping real servers: the local mesh
(blue: nginx in front of one gunicorn per module) and a green orders server beside it, labelled as
the PodMonitor labels green's pods. A load generator sends good traffic to green (as the header
route would) and `python -m deploy.bluegreen analyze orders` passes; then green loses its database
(a release with a wrong DATABASE_URL, a failover) and every answer is a 503: the same analysis
fails. With -s the analysis' reports are printed."""

import io
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing, redirect_stderr
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from conftest import SHIPPING_ADDRESS, LiveProcess, shared_database_url
from deploy import bluegreen
from deploy.local.mesh import GUNICORN_CONFIG, Mesh
from deploy.local.net import call_json, free_port
from deploy.local.observe import Prometheus, Target, mesh_targets
from tests.test_outages import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # the test database exists for the servers
WINDOW = "10s"
LIMITS = {"THROTTLE_USER": "100000/min", "THROTTLE_AUTH": "1000/min"}


@pytest.fixture(scope="module")
def mesh(django_db_setup, django_db_blocker, tmp_path_factory):
    """The local mesh (blue) on the test database (PostgreSQL) or a SQLite file of its own, with a catalog."""
    state = tmp_path_factory.mktemp("analysis-mesh")
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    url = shared_database_url() if on_postgres else f"sqlite:///{state / 'mesh.sqlite3'}"
    env = {"DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, **LIMITS}
    mesh = Mesh(state, port=free_port(), workers=1)
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
        mesh.stop()
        if on_postgres:
            with django_db_blocker.unblock():
                call_command("flush", interactive=False, verbosity=0)


class Green:
    """The orders module's green: the image's gunicorn, whose database the test can take away
    (PostgreSQL through a relay it cuts; SQLite a file copy it deletes)."""

    def __init__(self, mesh: Mesh, folder: Path):
        if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
            db = settings.DATABASES["default"]
            self.proxy = TcpProxy((db["HOST"], int(db["PORT"])))
            url = shared_database_url(self.proxy.port)
        else:
            self.proxy, self.file = None, folder / "green.sqlite3"
            with (
                closing(sqlite3.connect(mesh.state_dir / "mesh.sqlite3")) as blue,
                closing(sqlite3.connect(self.file)) as copy,
            ):
                blue.backup(copy)
            url = f"sqlite:///{self.file}"
        port = free_port()
        env = {
            **os.environ,
            **LIMITS,
            "DATABASE_URL": url,
            "DB_CONN_MAX_AGE": "0",  # a connection per request: the next one meets the cut
            "C4ANG_MODULES": "orders",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            # One more than the load generator's clients: a scrape never waits behind them (its timeout is 1 s).
            "GUNICORN_WORKERS": "3",
            "PYTHONUNBUFFERED": "1",
        }
        self.server = LiveProcess(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "c4ang.wsgi:application"], env, port
        )
        self.server.wait_listening(60)
        self.url = self.server.url

    def lose_database(self) -> None:
        if self.proxy:
            self.proxy.cut()
        else:
            self.file.unlink()  # the next connection opens an empty file: no such table

    def stop(self) -> None:
        self.server.stop()
        if self.proxy:
            self.proxy.cut()


@pytest.fixture(scope="module")
def shopper(mesh):
    # The demo product with the most stock (some are sold out): most of the load's orders can be paid.
    products = call_json(f"{mesh.url}/api/v1/products/").body["results"]
    product_id = max(products, key=lambda product: product["stock"])["id"]
    return Shopper(mesh.url, product_id)


@pytest.fixture(scope="module")
def green(mesh, shopper, tmp_path_factory):
    server = Green(mesh, tmp_path_factory.mktemp("green"))  # after the shopper signed up: a SQLite copy has them
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prometheus(mesh, green, tmp_path_factory):
    """Prometheus scraping every process of the mesh and green each second."""
    targets = [*mesh_targets(mesh), Target(green.url.removeprefix("http://"), {"app": "order-api", "version": "green"})]
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), port=free_port())
    server.start(targets, interval="1s")
    try:
        yield server
    finally:
        server.stop()


class Shopper:
    """A customer of the mesh: signs up through nginx, then places orders and reads them."""

    def __init__(self, url: str, product_id: str, token: str | None = None):
        self.url, self.product_id, self.token = url, product_id, token
        if token:
            return
        email = f"analysis-{time.monotonic_ns()}@c4ang.com"
        password = "analysis-password-2026"
        body = {"email": email, "password": password, "name": "분석"}
        assert call_json(f"{url}/api/v1/customers/register/", "POST", body).status == 201
        answer = call_json(f"{url}/api/v1/customers/token/", "POST", {"email": email, "password": password})
        self.token = answer.body["access"]

    def order(self, token: str) -> int:
        items = [{"product_id": self.product_id, "quantity": 1}]
        body = {"items": items, "address": SHIPPING_ADDRESS, "payment_token": token}
        return call_json(f"{self.url}/api/v1/orders/", "POST", body, token=self.token).status

    def orders(self) -> int:
        return call_json(f"{self.url}/api/v1/orders/", token=self.token).status


def load(shopper: Shopper, seconds: float, *, pay_with: str, threads: int = 2) -> list[int]:
    """Each thread alternates a read of the orders and an order paid with `pay_with`, for `seconds`
    (bounded: at most 4000 requests a thread); returns the statuses."""
    statuses: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def shop() -> None:
        for _ in range(2000):
            if time.monotonic() >= deadline:
                return
            answers = [shopper.orders(), shopper.order(pay_with)]
            with lock:
                statuses.extend(answers)

    workers = [threading.Thread(target=shop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


def analysis(prometheus: Prometheus, *extra: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        code = bluegreen.main(
            ["analyze", "orders", "--prometheus", prometheus.url, "--window", WINDOW, "--min-requests", "20", *extra],
            out=out,
        )
    return code, out.getvalue() + err.getvalue()


def scraped_after(prometheus: Prometheus, started: float) -> None:
    """Wait until green was scraped, successfully, after `started` (Unix time): the window holds the load."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        (up,) = prometheus.query('up{app="order-api", version="green"}') or [{"value": [0, "0"]}]
        if float(up["value"][0]) > started and up["value"][1] == "1":
            scrape = prometheus.query('timestamp(up{app="order-api", version="green"})')
            if scrape and float(scrape[0]["value"][1]) > started:
                return
        time.sleep(0.2)
    raise AssertionError("Prometheus did not scrape green after the load")


def test_the_analysis_passes_on_good_traffic_and_fails_on_failing_traffic(shopper, green, prometheus):
    at_green = Shopper(green.url, shopper.product_id, token=shopper.token)

    good = load(at_green, 12, pay_with="tok_approve")
    scraped_after(prometheus, time.time())
    # The production bound (0.5 s) is a target for the cluster, not for this shared two-core machine
    # running the suite in parallel, where a paid order's p95 reaches 0.7 s in a busy hour; the gate
    # itself is proven by the 1 ms run below.
    passed = analysis(prometheus, "--max-p95", "5")
    too_slow = analysis(prometheus, "--max-p95", "0.001")
    print(f"\n--- good traffic: {len(good)} requests ---\n{passed[1]}--- the same, held to 1 ms ---\n{too_slow[1]}")

    # Once the product's stock runs out, checkout refuses with a 409 (a client error, not green's).
    assert {200, 201} <= set(good) <= {200, 201, 409}
    assert passed[0] == 0, passed[1]
    assert "order-api-green passes the analysis" in passed[1]
    assert too_slow[0] == 1
    assert "order-api-green fails the analysis: p95" in too_slow[1]

    green.lose_database()
    failing = load(at_green, 12, pay_with="tok_approve")
    scraped_after(prometheus, time.time())
    failed = analysis(prometheus)
    print(f"--- failing traffic: {len(failing)} requests ---\n{failed[1]}")

    assert set(failing) == {503}
    assert failed[0] == 1
    assert "order-api-green fails the analysis: 5xx rate" in failed[1]
    # Blue served on: only green's series are judged.
    assert prometheus.query('min(up{version="blue"})')[0]["value"][1] == "1"


def test_no_traffic_on_green_fails_the_analysis_too(prometheus):
    code, report = analysis(prometheus, "--window", "1s")  # a window without two scrapes: nothing to judge

    assert code == 1
    assert "too little traffic to judge" in report
