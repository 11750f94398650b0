"""The embedded default (no REDIS_URL) with several processes, as `make run` serves: two gunicorn
workers and a job process share one cache (c4ang.sqlite_cache, a SQLite file beside the database).

Every write is seen at once by both workers, whichever process made it (a worker, or the sentiment
job started as `manage.py run_sentiment`), and a rate limit is counted across the workers. Which
worker answered is read from gunicorn's access log (the image's format names the worker's pid)."""

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from conftest import ROOT, access_token_for, live_database_url, order_body, order_line
from deploy.local.net import JsonAnswer, call_json
from products.tests.factories import ReviewFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
UNLIMITED = "1000000/min"
AUTH_LIMIT = 4


class Workers:
    """Calls to a gunicorn started with the image's config, each answered by a worker found by pid."""

    def __init__(self, server):
        self.server = server

    def call(self, path: str, method: str = "GET", body=None, *, token=None, headers=None) -> tuple[JsonAnswer, str]:
        request_id = uuid.uuid4().hex
        sent = {"X-Request-ID": request_id, **(headers or {})}
        answer = call_json(f"{self.server.url}{path}", method, body, token=token, headers=sent)
        return answer, self.worker_of(request_id)

    def worker_of(self, request_id: str, deadline_s: float = 10) -> str:
        """The pid of the worker that answered `request_id`: its access log line comes after the answer."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            for line in self.server.output().splitlines():
                if line.startswith('{"logger": "gunicorn.access"') and request_id in line:
                    return json.loads(line)["worker"]
            time.sleep(0.02)
        raise AssertionError(f"no access log line for {request_id}:\n{self.server.output()[-3000:]}")

    def from_both(self, path: str, *, token=None, deadline_s: float = 30) -> list:
        """The bodies of reads of `path` until each of the 2 workers answered at least once."""
        seen: dict[str, list] = {}
        deadline = time.monotonic() + deadline_s
        while len(seen) < 2:
            assert time.monotonic() < deadline, f"one worker answered every read: {seen}"
            (status, body, _), worker = self.call(path, token=token)
            assert status == 200, body
            seen.setdefault(worker, []).append(body)
        return [body for bodies in seen.values() for body in bodies]


def test_two_workers_and_a_job_share_the_embedded_cache(
    gunicorn_server, customer_factory, product_factory, tiny_sentiment_model, tmp_path
):
    product = product_factory(name="무선 이어폰", price=Decimal("30000"), stock=10)
    ReviewFactory.create_batch(3, product=product, content="좋아요")
    customer = customer_factory(name="김민지")
    env = {
        "DATABASE_URL": live_database_url(tmp_path),
        "REDIS_URL": "",  # the embedded default: the cache file, eager Celery
        "C4ANG_VAR_DIR": str(tmp_path),
        "SENTIMENT_MODEL": str(tiny_sentiment_model),
        "TRUSTED_PROXY_COUNT": "1",  # each round of the rate-limit check comes from an address of its own
        "THROTTLE_AUTH": f"{AUTH_LIMIT}/day",  # a window no round straddles
        **{f"THROTTLE_{scope}": UNLIMITED for scope in ("ANON", "USER")},
    }
    workers = Workers(gunicorn_server(env, workers=2, image_config=True))
    token = access_token_for(customer.user)
    detail, me = f"/api/v1/products/{product.pk}/", "/api/v1/customers/me/"

    # Both workers have the detail and the profile cached.
    shown = workers.from_both(detail)
    assert {(body["stock"], body["sentiment"]) for body in shown} == {(10, None)}
    assert {body["name"] for body in workers.from_both(me, token=token)} == {"김민지"}

    # A profile change by one worker: the other shows it at once.
    (status, _, _), _ = workers.call(me, "PATCH", {"name": "이서연"}, token=token)
    assert status == 200
    assert {body["name"] for body in workers.from_both(me, token=token)} == {"이서연"}

    # An order takes stock: both workers show what is left.
    (status, order, _), _ = workers.call("/api/v1/orders/", "POST", order_body([order_line(product, 3)]), token=token)
    assert (status, order["status"]) == (201, "PAID")
    assert {body["stock"] for body in workers.from_both(detail)} == {7}

    # The sentiment job, a process of its own, stores a result: both workers show it.
    job = subprocess.run(
        [sys.executable, "manage.py", "run_sentiment", "--min-reviews", "3", "--max-products", "1", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert job.returncode == 0, job.stderr[-3000:]
    assert {body["sentiment"]["review_count"] for body in workers.from_both(detail)} == {3}

    # A rate limit counts the requests of both workers: AUTH_LIMIT in all, then 429.
    deadline = time.monotonic() + 60
    for round_number in range(1, 1000):
        assert time.monotonic() < deadline, "no round was answered by both workers"
        answers = refresh_attempts(workers, f"10.20.{round_number // 250}.{round_number % 250}", 3 * AUTH_LIMIT)
        if len({worker for _, worker in answers}) == 2:
            break
    assert sorted(status for status, _ in answers) == [401] * AUTH_LIMIT + [429] * (2 * AUTH_LIMIT)


def refresh_attempts(workers: Workers, address: str, count: int) -> list[tuple[int, str]]:
    """`count` token refreshes with a bad token from `address` (as the trusted proxy says), two at a
    time so that both workers take some: (status, worker) of each."""

    def attempt(_) -> tuple[int, str]:
        answer, worker = workers.call(
            "/api/v1/customers/token/refresh/", "POST", {"refresh": "not-a-token"}, headers={"X-Forwarded-For": address}
        )
        return answer.status, worker

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(attempt, range(count)))
