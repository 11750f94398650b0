"""Liveness, readiness and metrics, in-process and on a real gunicorn with broken dependencies."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from deploy.local.net import call_json, free_port

pytestmark = pytest.mark.django_db


def test_readyz_reports_each_check(api_client):
    response = api_client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "cache": "ok", "migrations": "ok"}
    assert body["failing"] == []


def test_probes_answer_any_host_over_plain_http(api_client, settings):
    # The kubelet calls the pod by IP over HTTP; production redirects and validates hosts elsewhere.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["api.c4ang.com"]

    assert api_client.get("/healthz", HTTP_HOST="10.1.2.3:8080").status_code == 200
    assert api_client.get("/readyz", HTTP_HOST="10.1.2.3:8080").status_code == 200
    assert api_client.get("/api/v1/products/", HTTP_HOST="10.1.2.3:8080").status_code == 400


def test_metrics_exports_prometheus_text(api_client):
    api_client.get("/api/v1/products/")

    response = api_client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def workers_answering(server, path: str, count: int, deadline_s: float = 10) -> list[str]:
    """The pids of the gunicorn workers that answered the requests for `path`, read from the image's
    access log (its lines name the worker); polled until all `count` of them are logged."""
    deadline = time.monotonic() + deadline_s
    while True:
        lines = [line for line in server.output().splitlines() if line.startswith('{"logger": "gunicorn.access"')]
        pids = [entry["worker"] for entry in map(json.loads, lines) if entry["path"] == path]
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def at_once(server, path: str, count: int) -> list:
    # Concurrent requests: while one worker answers, the other takes the next (one at a time, a
    # single worker may well take them all).
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: call_json(f"{server.url}{path}"), range(count)))


@pytest.mark.slow
def test_metrics_add_up_every_gunicorn_worker(gunicorn_server, tmp_path):
    # The image's settings: each worker counts in files that /metrics adds up.
    server = gunicorn_server({"DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}"}, 2, image_config=True)
    deadline = time.monotonic() + 60

    # Requests until both workers have answered some: each worker counted only its own.
    not_found = 0
    while len(set(workers_answering(server, "/no-such-page/", not_found))) < 2:
        assert time.monotonic() < deadline, "one worker answered every request"
        assert [answer.status for answer in at_once(server, "/no-such-page/", 16)] == [404] * 16
        not_found += 16

    # Scrapes until both workers have answered one: whichever answers reports the requests of both.
    scrapes = []
    while len(set(workers_answering(server, "/metrics", len(scrapes)))) < 2:
        assert time.monotonic() < deadline, "one worker answered every scrape"
        scrapes += at_once(server, "/metrics", 8)
    for status, metrics, _ in scrapes:
        served = re.search(r'^django_http_responses_total_by_status_total\{status="404"\} (\S+)$', metrics, re.M)
        assert (status, float(served[1])) == (200, not_found)


@pytest.mark.slow
def test_readyz_names_unreachable_database_and_cache(gunicorn_server):
    dead_port = free_port()
    server = gunicorn_server(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead_port}/nowhere",
            "REDIS_URL": f"redis://127.0.0.1:{dead_port}/0",
            "DB_CONNECT_TIMEOUT": "2",
        }
    )

    live_status, _, _ = call_json(f"{server.url}/healthz")
    status, body, _ = call_json(f"{server.url}/readyz")

    assert live_status == 200
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database", "migrations"]
    assert body["degraded"] == ["cache"]
    assert body["checks"]["database"].startswith("error: OperationalError")
    assert body["checks"]["cache"] == "error: RuntimeError: cache did not return the value just written (unreachable?)"
    assert body["checks"]["migrations"] == "skipped: database unavailable"
    # Any other request: a 503 the client may retry, in the API's error shape, never a 500.
    for path, headers in [("/api/v1/products/", {}), ("/admin/", {"Cookie": f"sessionid={'a' * 32}"})]:
        status, body, answered = call_json(f"{server.url}{path}", headers=headers)
        assert (status, body["code"], answered["Retry-After"]) == (503, "service_unavailable", "5"), path


@pytest.mark.slow
def test_readyz_names_pending_migrations(gunicorn_server, tmp_path):
    server = gunicorn_server({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "REDIS_URL": ""})

    status, body, _ = call_json(f"{server.url}/readyz")

    assert status == 503
    assert body["failing"] == ["migrations"]
    assert "migration(s) not applied: " in body["checks"]["migrations"]
    assert "contenttypes.0001_initial" in body["checks"]["migrations"]


@pytest.mark.slow
def test_readyz_in_production_names_failing_checks_without_their_error_text(gunicorn_server):
    # Given production settings and a database and Redis nobody listens on
    dead_port = free_port()
    server = gunicorn_server(
        {
            "C4ANG_ENV": "production",
            "SECRET_KEY": "r" * 20 + "Zq8-Vn3Lm5Xc7Bt1Wy4Pk6Hd9Gs2Fj0A",
            "ALLOWED_HOSTS": "api.c4ang.com",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead_port}/nowhere",
            "REDIS_URL": f"redis://127.0.0.1:{dead_port}/0",
            "DB_CONNECT_TIMEOUT": "2",
        }
    )

    # When anyone asks for readiness
    status, body, _ = call_json(f"{server.url}/readyz")

    # Then it names what fails and nothing of why: no host, port or error text
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "error", "cache": "error", "migrations": "skipped"}
    assert (body["failing"], body["degraded"]) == (["database", "migrations"], ["cache"])
    assert str(dead_port) not in json.dumps(body)
    # The detail is still in the server's log for the operator
    assert str(dead_port) in server.output()
