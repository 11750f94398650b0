"""Shared fixtures of the whole suite. The same tests run on SQLite and on PostgreSQL + Redis."""

import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from deploy.local import net

ROOT = Path(__file__).resolve().parent
# No test ever downloads a model: a hub id fails at once instead of retrying the network for a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The suite asserts the platform's English; the Korean it speaks by default is asserted by the
# language tests (tests/test_api_language.py, the admin's in backoffice/tests), which ask for it.
# Servers the tests start inherit it.
os.environ["LANGUAGE_CODE"] = settings.LANGUAGE_CODE = "en"
# A parallel worker's own Redis databases (c4ang.settings.redis_worker_db), for the servers and
# workers its tests start as they are: they must not count down from them once more.
if settings.REDIS_URL:
    os.environ["REDIS_URL"] = settings.REDIS_URL
os.environ.pop("PYTEST_XDIST_WORKER", None)


@pytest.fixture(scope="session", autouse=True)
def media_root(tmp_path_factory):
    """The run's uploaded files (product images) go to a temporary folder, never var/media: in this
    process and in the servers and workers the tests start (they read MEDIA_ROOT)."""
    root = tmp_path_factory.mktemp("media")
    os.environ["MEDIA_ROOT"] = str(root)
    with override_settings(MEDIA_ROOT=root):
        yield root


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the suite's language, active in its thread: a request through Django's
    test client (its LanguageMiddleware) leaves the language it asked for active there, and without
    one Django falls back to the Korean it loaded before this file set LANGUAGE_CODE."""
    translation.activate(settings.LANGUAGE_CODE)


_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: runs in the DATABASE_URL=postgres://... pass of CI")
    skip_redis = pytest.mark.skip(reason="needs a real Redis: runs in the REDIS_URL=redis://... pass of CI")
    for item in items:
        uses_database = item.get_closest_marker("django_db") or _DATABASE_FIXTURES.intersection(item.fixturenames)
        if "no_database" in item.keywords and uses_database:
            # pytest-django refuses its queries anyway; this names the test before CI leaves it out of a pass.
            raise pytest.UsageError(f"{item.nodeid} is marked no_database but uses the database")
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session", autouse=True)
def _own_embedded_cache(tmp_path_factory):
    """Without Redis the cache is a SQLite file beside the database (c4ang.sqlite_cache), shared by
    every process using it: this run gets a file of its own, never the one of `make run` or of
    another run on the machine."""
    if settings.CACHES["default"]["BACKEND"] != "c4ang.sqlite_cache.SQLiteCache":
        yield
        return
    location = tmp_path_factory.mktemp("cache") / "cache.sqlite3"
    with override_settings(CACHES={"default": {**settings.CACHES["default"], "LOCATION": str(location)}}):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords_and_clean_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


class ThrottleClock:
    """The clock of the fixed-window request limits (c4ang.api.throttling), stopped: a test's requests
    all fall in one window, wherever the real minute is, unless the test moves it on."""

    # One second into a window of every length the limits use (a multiple of 60 and of 3600).
    START = 1_800_000_000.0 + 1

    def __init__(self):
        self.now = self.START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def throttle_clock(monkeypatch) -> ThrottleClock:
    """Tests that count requests against a limit take this: without it a minute boundary falling
    mid-sequence starts a new window and the count from zero."""
    from c4ang.api.throttling import FixedWindowRateThrottle

    clock = ThrottleClock()
    monkeypatch.setattr(FixedWindowRateThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture(autouse=True)
def invalidations_clock(monkeypatch) -> "ThrottleClock":
    """The clock of the look for cache invalidations left over (c4ang.cache.trusted), stopped as the
    throttle's: a test's first cached read looks (one query), later ones only once the test moves
    it on past PENDING_CHECK_S, so that query budgets are exact."""
    from c4ang import cache as platform_cache

    clock = ThrottleClock()
    monkeypatch.setattr(platform_cache, "_clock", clock)
    monkeypatch.setattr(platform_cache, "_pending_checked_at", float("-inf"))
    monkeypatch.setattr(platform_cache, "_pending_applied", True)
    return clock


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def customer_factory(db):
    """customers.tests.factories.CustomerFactory: a customer with its login (password PASSWORD there)."""
    from customers.tests.factories import CustomerFactory

    return CustomerFactory


@pytest.fixture
def customer(customer_factory):
    return customer_factory()


def access_token_for(user) -> str:
    """A fresh access token (JWT) of the user, as the token endpoint would issue it."""
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user).access_token)


def in_threads(calls: list, workers: int | None = None) -> list:
    """Run the calls in threads (one per call, or a pool of `workers`), each on its own database
    connection, closed after; when every call has its thread they start together at a barrier."""
    workers = workers or len(calls)
    barrier = threading.Barrier(min(workers, len(calls)))

    def run(call):
        try:
            if len(calls) <= workers:
                barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return client


ORDERS = "/api/v1/orders/"


def order_line(product, quantity: int = 1) -> dict:
    return {"product_id": str(product.pk), "quantity": quantity}


# Where the tests' orders ship to unless a test says otherwise (every order needs an address).
SHIPPING_ADDRESS = {
    "recipient": "김민준",
    "phone": "010-1234-5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 152",
    "detail": "12층",
}


def order_body(items: list[dict] | None, pay_with: str | None = "tok_approve", **fields) -> dict:
    """The body of POST /api/v1/orders/: its items, shipped to SHIPPING_ADDRESS, paid with a test token
    of the fake PG (None: left unpaid). `fields` add to it or replace; a field given None is left out
    (address=None, address_id=...: to an address of the address book; None, from_cart=True: the cart)."""
    body = {"items": items, "address": SHIPPING_ADDRESS, "payment_token": pay_with, **fields}
    return {name: value for name, value in body.items() if value is not None}


def place_order(
    client: APIClient,
    items: list[dict] | None,
    *,
    pay_with: str | None = "tok_approve",
    key: str | None = None,
    **fields,
):
    """Place an order through the API as the client's user; `key` is sent as its Idempotency-Key,
    `fields` go into the body as order_body puts them."""
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(ORDERS, order_body(items, pay_with, **fields), format="json", **headers)


@pytest.fixture
def customer_client(customer) -> APIClient:
    return client_for(customer.user)


@pytest.fixture
def staff_user(db):
    """A staff login (password STAFF_PASSWORD of customers.tests.factories), without a customer profile."""
    from customers.tests.factories import StaffFactory

    return StaffFactory(email="staff@c4ang.com")


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return client_for(staff_user)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


class ChildProcess:
    """A real process started for a test (gunicorn, a Celery worker). Its output goes to a file: a
    pipe that nobody reads while the test runs fills up, and the process blocks on its next log line."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self, timeout_s: float = 15) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        output = self.output()
        self.log.close()
        return output


class LiveProcess(ChildProcess):
    """A real server process of the platform (gunicorn) started for a test."""

    def __init__(self, args: list[str], env: dict[str, str], port: int):
        super().__init__(args, env)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def wait_listening(self, deadline_s: float = 30) -> None:
        try:
            net.wait_listening(self.port, deadline_s, process=self.process)
        except net.ExitedEarly:
            raise RuntimeError(f"server exited early:\n{self.output()}") from None


@pytest.fixture
def gunicorn_server(tmp_path):
    """Start gunicorn serving the platform with the given environment (its mail written under the
    test's temporary directory, not var/mail/); stopped after the test."""
    started: list[LiveProcess] = []

    def start(env_overrides: dict[str, str], workers: int = 1, image_config: bool = False) -> LiveProcess:
        """image_config: with the image's gunicorn settings (deploy/gunicorn.conf.py)."""
        port = net.free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "EMAIL_FILE_PATH": str(tmp_path / "mail"), **env_overrides}
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            *(["-c", str(ROOT / "deploy" / "gunicorn.conf.py")] if image_config else []),
            "c4ang.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        server = LiveProcess(args, env, port)
        started.append(server)
        server.wait_listening()
        return server

    yield start
    for server in started:
        server.stop()


def shared_database_url(port: int | None = None) -> str:
    """The test database pytest-django created, as a URL another process can use (through `port`)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{port or db['PORT']}/{db['NAME']}"


def live_database_url(tmp_path: Path) -> str:
    """The test database for processes a test starts: PostgreSQL's is shared as is; SQLite's lives in
    this process's memory, so they get a file copy of it (what the test wrote so far included)."""
    if connection.vendor == "postgresql":
        return shared_database_url()
    path = tmp_path / "live.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    return f"sqlite:///{path}"


# One process, nothing but the queue: no heartbeats, gossip or start-up sync with other workers.
QUIET_WORKER = ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]


@pytest.fixture
def celery_worker(transactional_db):
    """Start a real `celery worker` on a queue of its own, consuming from the real broker (REDIS_URL)
    and working on the test database: start(env) returns (queue, worker). Stopped after the test."""
    started: list[ChildProcess] = []

    def start(env_overrides: dict[str, str]) -> tuple[str, ChildProcess]:
        queue = f"test-{uuid.uuid4().hex[:12]}"
        env = {**os.environ, "DATABASE_URL": shared_database_url(), "PYTHONUNBUFFERED": "1", **env_overrides}
        args = [sys.executable, "-m", "celery", "-A", "c4ang", "worker", "--pool", "solo", "--queues", queue]
        worker = ChildProcess([*args, *QUIET_WORKER], env)
        started.append(worker)
        return queue, worker

    yield start
    for worker in started:
        worker.stop(timeout_s=30)


@pytest.fixture(scope="session")
def tiny_sentiment_model(tmp_path_factory) -> Path:
    """A tiny BERT sentiment classifier built here, nothing downloaded: a WordPiece tokenizer trained with
    `tokenizers` on Korean demo reviews, 2 layers of 32, saved with save_pretrained. Untrained: its
    scores are arbitrary, but fixed. Loaded by the real code from the returned directory."""
    import random

    from c4ang.demo import labelled_reviews
    from sentiment.lambda_function import demo_model

    texts = [review.content for review in labelled_reviews(random.Random(7), 200)]
    path = tmp_path_factory.mktemp("tiny-sentiment-model")
    tokenizer = demo_model.tokenizer_train(texts, vocab_size=300)
    demo_model.model_new(vocab_size=len(tokenizer), hidden_size=32, layers=2, heads=2).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def pytest_collection_finish(session):
    # An empty selection is a broken suite (a bad testpaths, a renamed folder), not a green run.
    if not session.items and not session.config.option.collectonly:
        raise pytest.UsageError("no tests were collected: check testpaths in pyproject.toml and the -k/-m filters")


@pytest.fixture
def product_factory(db):
    """products.tests.factories.ProductFactory: for sale in 전자제품 at 10,000 won, 10 in stock unless told."""
    from products.tests.factories import ProductFactory

    return ProductFactory


@pytest.fixture(scope="session")
def _toss_sandbox_server():
    from payments.tests.toss_sandbox import TossSandbox

    sandbox = TossSandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def toss_sandbox(_toss_sandbox_server, settings):
    """The stateful Toss sandbox (payments/tests/toss_sandbox.py), empty, with this process's
    platform pointed at it: PAYMENT_GATEWAY=toss, its secret key, a 0.3 s timeout and 2 retries.
    One real server for the session; processes a test starts reach it at `toss_sandbox.url`."""
    sandbox = _toss_sandbox_server
    sandbox.reset()
    settings.PAYMENT_GATEWAY = "toss"
    settings.TOSS_API_BASE_URL = sandbox.url
    settings.TOSS_SECRET_KEY = sandbox.secret_key
    settings.TOSS_TIMEOUT_SECONDS = 0.3
    settings.TOSS_MAX_RETRIES = 2
    yield sandbox
    sandbox.reset()


@pytest.fixture
def replace_saga_step(monkeypatch):
    """Swap one step of the place-order saga for this test (to simulate crashes and lost answers)."""
    from dataclasses import replace

    from orders.place_order import PLACE_ORDER
    from saga import engine as saga_engine

    def swap(name: str, **changes) -> None:
        definition = saga_engine._definitions[PLACE_ORDER]
        steps = tuple(replace(step, **changes) if step.name == name else step for step in definition.steps)
        monkeypatch.setitem(saga_engine._definitions, PLACE_ORDER, replace(definition, steps=steps))

    return swap


def migrate(targets: list[tuple[str, str]]):
    """Move the test database's schema to `targets`; returns the apps (historical models) there."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest_schema_after():
    """For a test that migrates back: the newest schema again afterwards, for the transactional tests after it."""
    yield
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
