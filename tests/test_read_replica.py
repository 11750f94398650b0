"""The read replica against a real PostgreSQL streaming replica (deploy/local/replica.py: a primary
and a pg_basebackup standby from Debian's binaries, both logging every statement, so that the test
sees which server answered): public catalog reads are the replica's once it has replayed what they
show; while it lags (replay paused with pg_wal_replay_pause()) or is down, they are the primary's,
and nobody, staff or customer, reads back a write stale."""

import os
import subprocess
import sys
import uuid

import pytest

from conftest import ROOT
from deploy.local import net, replica

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STAFF_LOGIN = {"email": "staff@c4ang.com", "password": "c4ang-staff-1234"}  # seed_demo_data's staff
PASSWORD = "replica-reader-2026"


@pytest.fixture(scope="module")
def pair():
    """The two servers, the platform migrated on the primary with a small shop (replayed by the standby)."""
    pair = replica.start_pair()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_REPLICA_URL"}
    env["DATABASE_URL"] = pair.primary.url
    seed = ["seed_demo_data", "--products", "5", "--customers", "1", "--reviews", "0", "--orders", "0", "-v", "0"]
    try:
        for command in (["migrate", "--no-input", "-v", "0"], seed):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
        pair.wait_replayed()
        yield pair
    finally:
        pair.stop()


class Shop:
    """The platform on gunicorn with DATABASE_URL the primary and DATABASE_REPLICA_URL the standby."""

    def __init__(self, pair: replica.StreamingPair, url: str):
        self.pair, self.url = pair, url
        self.staff = self.call("POST", "/api/v1/customers/token/", STAFF_LOGIN).body["access"]

    def call(self, method: str, path: str, body=None, token: str | None = None) -> net.JsonAnswer:
        return net.call_json(self.url + path, method, body, token=token)

    def new_product(self, name: str, price: int = 10000) -> dict:
        category = self.call("GET", "/api/v1/products/categories/").body["results"][0]["id"]
        body = {"name": name, "category_id": category, "brand": "복제", "price": price, "stock": 10}
        answer = self.call("POST", "/api/v1/products/staff/", body, token=self.staff)
        assert answer.status == 201, answer.body
        return answer.body

    def customer(self) -> str:
        email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        registered = self.call(
            "POST", "/api/v1/customers/register/", {"email": email, "password": PASSWORD, "name": "독자"}
        )
        assert registered.status == 201, registered.body
        return self.call("POST", "/api/v1/customers/token/", {"email": email, "password": PASSWORD}).body["access"]

    def answered_by(self, marker: str, method: str, path: str, token: str | None = None) -> tuple[net.JsonAnswer, set]:
        """The answer to a request and which servers ran a SELECT naming `marker` for it (an id as the
        SQL writes it: `sql_id`)."""
        offsets = {server: server.log.stat().st_size for server in (self.pair.primary, self.pair.standby)}
        answer = self.call(method, path, token=token)
        servers = set()
        for server, offset in offsets.items():
            with server.log.open(errors="replace") as log:
                log.seek(offset)
                if any("SELECT" in line and marker in line for line in log):
                    servers.add("replica" if server is self.pair.standby else "primary")
        return answer, servers


def sql_id(thing: dict) -> str:
    return uuid.UUID(thing["id"]).hex


@pytest.fixture
def shop(pair, gunicorn_server) -> Shop:
    server = gunicorn_server({"DATABASE_URL": pair.primary.url, "DATABASE_REPLICA_URL": pair.standby.url})
    return Shop(pair, server.url)


def test_public_reads_are_the_replicas_once_it_has_replayed_the_catalog(shop, pair):
    product = shop.new_product("복제 서버 테스트 상품")
    pair.wait_replayed()

    detail, servers = shop.answered_by(sql_id(product), "GET", f"/api/v1/products/{product['id']}/")
    assert detail.status == 200
    assert detail.body["name"] == "복제 서버 테스트 상품"
    assert servers == {"replica"}
    reviews, servers = shop.answered_by(sql_id(product), "GET", f"/api/v1/products/{product['id']}/reviews/")
    assert reviews.status == 200
    assert servers == {"replica"}
    # What is not the catalog's is the primary's, replayed or not: a customer's own orders.
    token = shop.customer()
    orders, servers = shop.answered_by('FROM "orders"', "GET", "/api/v1/orders/", token=token)
    assert orders.status == 200
    assert servers == {"primary"}


def test_while_the_replica_lags_nobody_reads_a_write_stale(shop, pair):
    product = shop.new_product("가격이 바뀔 상품", price=10000)
    token = shop.customer()
    pair.wait_replayed()
    pair.pause_replay()
    try:
        # Staff change the price: the public detail shows the new one, from the primary.
        changed = shop.call("PATCH", f"/api/v1/products/staff/{product['id']}/", {"price": 12900}, token=shop.staff)
        assert changed.status == 200, changed.body
        detail, servers = shop.answered_by(sql_id(product), "GET", f"/api/v1/products/{product['id']}/")
        assert (detail.status, detail.body["price"]) == (200, 12900)
        assert servers == {"primary"}
        # A product created meanwhile is found, though the replica has never seen it.
        created = shop.new_product("복제가 멈춘 동안 만든 상품")
        found, servers = shop.answered_by(sql_id(created), "GET", f"/api/v1/products/{created['id']}/")
        assert found.status == 200
        assert servers == {"primary"}
        # A customer's review is in the list they read next.
        review = {"rating": 5, "content": "복제가 멈춰도 제 리뷰가 보여요."}
        assert shop.call("POST", f"/api/v1/products/{product['id']}/reviews/", review, token=token).status == 201
        reviews, servers = shop.answered_by(sql_id(product), "GET", f"/api/v1/products/{product['id']}/reviews/", token)
        assert [entry["content"] for entry in reviews.body["results"]] == [review["content"]]
        assert servers == {"primary"}
    finally:
        pair.resume_replay()

    # Replayed again, the same reads are the replica's.
    pair.wait_replayed()
    reviews, servers = shop.answered_by(sql_id(product), "GET", f"/api/v1/products/{product['id']}/reviews/", token)
    assert [entry["content"] for entry in reviews.body["results"]] == [review["content"]]
    assert servers == {"replica"}


def test_a_replica_that_is_down_costs_no_error(shop, pair):
    product = shop.new_product("복제 서버가 꺼진 동안의 상품")
    pair.wait_replayed()
    pair.stop_server(pair.standby)
    try:
        detail, servers = shop.answered_by(sql_id(product), "GET", f"/api/v1/products/{product['id']}/")
        assert detail.status == 200
        assert servers == {"primary"}
        listed = shop.call("GET", f"/api/v1/products/{product['id']}/reviews/")
        assert listed.status == 200
    finally:
        replica.start_server(pair.standby)
