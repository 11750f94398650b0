"""The platform's metrics: requests by URL pattern (never the raw path), cache areas, database and Redis
errors, jobs, Celery tasks, saga and PG durations, and the gauges beat serves. Read from the process's
registry, as /metrics would report them."""

import logging
import uuid
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client
from prometheus_client import REGISTRY

from c4ang import metrics
from c4ang.celery import app as celery_app
from c4ang.jobs import JobSkipped, job_run
from c4ang.models import JobRun
from c4ang.worker_metrics import PLATFORM_GAUGES, PlatformCollector
from conftest import order_line, place_order
from recommendations.services import NO_PURCHASES

pytestmark = pytest.mark.django_db


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0


def series(name: str) -> list[dict[str, str]]:
    """The label sets of every sample of `name` in the registry."""
    return [sample.labels for family in REGISTRY.collect() for sample in family.samples if sample.name == name]


def label_values(name: str, label: str, **where: str) -> set[str]:
    return {s[label] for s in series(name) if where.items() <= s.items()}


REQUESTS = "c4ang_http_request_duration_seconds_count"


def test_a_request_is_counted_under_its_url_pattern_module_and_status_class(api_client, product_factory):
    product = product_factory()
    labels = {"module": "products", "route": "api/v1/products/<uuid:product_id>/", "method": "GET"}
    before = value(REQUESTS, **labels, status_class="2xx"), value(REQUESTS, **labels, status_class="4xx")

    assert api_client.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert api_client.get(f"/api/v1/products/{uuid.uuid4()}/").status_code == 404

    assert value(REQUESTS, **labels, status_class="2xx") - before[0] == 1
    assert value(REQUESTS, **labels, status_class="4xx") - before[1] == 1
    assert value("c4ang_http_request_duration_seconds_bucket", **labels, status_class="2xx", le="30.0") >= 1


def test_label_cardinality_stays_bounded_whatever_the_paths(api_client, staff_client, customer_client):
    before = {tuple(sorted(labels.items())) for labels in series(REQUESTS)}
    detail = {"module": "products", "route": "api/v1/products/<uuid:product_id>/", "method": "GET"}
    detail["status_class"] = "4xx"
    unmatched = {"module": "orders", "route": "unmatched", "method": "GET", "status_class": "4xx"}
    counted = value(REQUESTS, **detail), value(REQUESTS, **unmatched)
    # 60 distinct product ids, 20 paths no route matches (in a module and outside), the admin's pages.
    for _ in range(60):
        api_client.get(f"/api/v1/products/{uuid.uuid4()}/")
        api_client.get(f"/api/v1/recommendations/{uuid.uuid4()}/")
    for number in range(10):
        api_client.get(f"/api/v1/orders/no-such-{number}/")
        api_client.get(f"/wp-login-{number}.php")
        staff_client.get(f"/admin/customers/customer/{uuid.uuid4()}/change/")
    api_client.generic("BREW", "/api/v1/products/")
    customer_client.get("/api/v1/customers/me/")

    added = [dict(labels) for labels in {tuple(sorted(s.items())) for s in series(REQUESTS)} - before]
    # 143 requests on 143 distinct paths: a handful of series, one per pattern, method and status class.
    assert {(s["module"], s["route"], s["method"], s["status_class"]) for s in added} <= {
        ("products", "api/v1/products/<uuid:product_id>/", "GET", "4xx"),
        ("recommendations", "api/v1/recommendations/<uuid:product_id>/", "GET", "2xx"),
        ("recommendations", "api/v1/recommendations/<uuid:product_id>/", "GET", "4xx"),
        ("orders", "unmatched", "GET", "4xx"),
        ("platform", "unmatched", "GET", "4xx"),
        ("admin", "admin/", "GET", "2xx"),
        ("admin", "admin/", "GET", "3xx"),
        ("admin", "unmatched", "GET", "4xx"),
        ("products", "api/v1/products/", "other", "4xx"),
        ("customers", "api/v1/customers/me/", "GET", "2xx"),
    }
    # Each set of raw paths landed in the one series of its pattern.
    assert (value(REQUESTS, **detail) - counted[0], value(REQUESTS, **unmatched) - counted[1]) == (60, 10)
    routes = label_values(REQUESTS, "route")
    assert "wp-login" not in " ".join(routes)
    assert not [route for route in routes if any(part.count("-") == 4 for part in route.split("/"))]  # no raw uuid
    assert label_values(REQUESTS, "module") <= {*metrics.MODULES, "admin", "platform"}
    assert label_values(REQUESTS, "method") <= {*metrics.METHODS, "other"}
    assert label_values(REQUESTS, "status_class") <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    # Every c4ang_* label takes values from the code, not from what clients send.
    for family in REGISTRY.collect():
        if family.name.startswith("c4ang_"):
            for sample in family.samples:
                for label, text in sample.labels.items():
                    assert len(text) <= 80, (family.name, label, text)
                    assert "?" not in text, (family.name, label, text)
                    assert "wp-login" not in text, (family.name, label, text)


def test_cached_reads_are_counted_as_hits_and_misses_by_area(api_client, customer_client, product_factory):
    product = product_factory()

    def counts(area):
        return value("c4ang_cache_requests_total", area=area, result="hit"), value(
            "c4ang_cache_requests_total", area=area, result="miss"
        )

    before = {area: counts(area) for area in ("catalog_detail", "catalog_list", "profile", "recommendations")}
    api_client.get(f"/api/v1/products/{product.pk}/")  # miss, then stored
    api_client.get(f"/api/v1/products/{product.pk}/")  # hit, answered before DRF
    customer_client.get(f"/api/v1/products/{product.pk}/")  # hit, through DRF
    api_client.get("/api/v1/products/")
    api_client.get("/api/v1/products/")
    customer_client.get("/api/v1/customers/me/")
    customer_client.get("/api/v1/customers/me/")
    api_client.get(f"/api/v1/recommendations/{product.pk}/")

    def moved(area):
        return tuple(now - then for now, then in zip(counts(area), before[area], strict=True))

    assert moved("catalog_detail") == (2, 1)
    assert moved("catalog_list") == (1, 1)
    assert moved("profile") == (1, 1)
    assert moved("recommendations") == (0, 1)


def test_a_request_the_database_could_not_serve_is_counted(product_factory):
    product = product_factory()
    before = value("c4ang_db_connection_errors_total", source="request")
    client = Client(raise_request_exception=False)

    with mock.patch("products.selectors.product_get_public", side_effect=OperationalError("connection refused")):
        response = client.get(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 503
    assert value("c4ang_db_connection_errors_total", source="request") - before == 1


def test_redis_errors_that_django_redis_ignores_are_counted():
    before = value("c4ang_redis_errors_total")
    logger = logging.getLogger("django_redis.cache")
    try:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6399")
    except ConnectionError:
        logger.exception("Exception ignored")
    logger.warning("a line without an error")

    assert value("c4ang_redis_errors_total") - before == 1


def test_job_runs_are_counted_and_timed_by_outcome():
    def skipped(ctx):
        raise JobSkipped(NO_PURCHASES, day="2026-12-01")

    before = (
        value("c4ang_job_runs_total", job="metrics_test", status="succeeded"),
        value("c4ang_job_runs_total", job="metrics_test", status="skipped"),
        value("c4ang_job_duration_seconds_count", job="metrics_test", status="succeeded"),
    )

    job_run(job="metrics_test", body=lambda ctx: None, trigger="command")
    job_run(job="metrics_test", body=skipped, trigger="command")

    assert value("c4ang_job_runs_total", job="metrics_test", status="succeeded") - before[0] == 1
    assert value("c4ang_job_runs_total", job="metrics_test", status="skipped") - before[1] == 1
    assert value("c4ang_job_duration_seconds_count", job="metrics_test", status="succeeded") - before[2] == 1


def test_celery_tasks_are_counted_and_timed_by_outcome():
    from saga.tasks import recover_sagas

    name = "saga.tasks.recover_sagas"
    before = (
        value("c4ang_celery_tasks_total", task=name, outcome="succeeded"),
        value("c4ang_celery_task_duration_seconds_count", task=name),
    )

    recover_sagas.apply()  # run here (eagerly), through Celery's signals as in a worker

    assert value("c4ang_celery_tasks_total", task=name, outcome="succeeded") - before[0] == 1
    assert value("c4ang_celery_task_duration_seconds_count", task=name) - before[1] == 1


def test_a_placed_order_times_its_saga_steps_and_its_pg_call(customer_client, product_factory):
    step = {"saga_type": "place_order", "phase": "action", "outcome": "ok"}
    before = (
        value("c4ang_saga_step_duration_seconds_count", **step, step="take_payment"),
        value("c4ang_saga_duration_seconds_count", saga_type="place_order", outcome="completed"),
        value("c4ang_payment_pg_duration_seconds_count", provider="fake", operation="confirm", outcome="ok"),
        value("c4ang_payment_pg_duration_seconds_count", provider="fake", operation="confirm", outcome="declined"),
    )

    assert place_order(customer_client, [order_line(product_factory())]).status_code == 201
    place_order(customer_client, [order_line(product_factory())], pay_with="tok_decline")

    assert value("c4ang_saga_step_duration_seconds_count", **step, step="take_payment") - before[0] == 1
    for name in ("create_order", "reserve_stock", "mark_paid"):
        assert value("c4ang_saga_step_duration_seconds_count", **step, step=name) >= 1
    assert value("c4ang_saga_duration_seconds_count", saga_type="place_order", outcome="completed") - before[1] == 1
    assert (
        value("c4ang_payment_pg_duration_seconds_count", provider="fake", operation="confirm", outcome="ok") - before[2]
        == 1
    )
    assert (
        value("c4ang_payment_pg_duration_seconds_count", provider="fake", operation="confirm", outcome="declined")
        - before[3]
        == 1
    )


def test_beat_serves_the_queue_length_and_when_each_job_last_succeeded():
    from django.utils import timezone

    finished = timezone.now().replace(microsecond=0)
    for status, at in ((JobRun.Status.SUCCEEDED, finished), (JobRun.Status.FAILED, timezone.now())):
        JobRun.objects.create(
            job="daily_recommendation_pipeline", trigger="schedule", status=status, started_at=at, finished_at=at
        )

    # Tasks other tests queued with no worker to take them (a password reset's mail) are not this test's.
    celery_app.control.purge()
    families = {family.name: family for family in PlatformCollector(celery_app).collect()}

    # On SQLite there is no connection count to read: those two gauges are PostgreSQL's.
    postgres = {"c4ang_db_connections", "c4ang_db_max_connections"}
    assert set(families) == set(PLATFORM_GAUGES) - (set() if connection.vendor == "postgresql" else postgres)
    if connection.vendor == "postgresql":
        (in_use,) = families["c4ang_db_connections"].samples
        (limit,) = families["c4ang_db_max_connections"].samples
        assert 1 <= in_use.value < limit.value

    assert [(s.labels, s.value) for s in families["c4ang_job_last_success_timestamp_seconds"].samples] == [
        ({"job": "daily_recommendation_pipeline"}, finished.timestamp())
    ]
    assert [(s.labels, s.value) for s in families["c4ang_celery_queue_length"].samples] == [({"queue": "celery"}, 0)]
    assert {s.labels["check"]: s.value for s in families["c4ang_platform_check_up"].samples} == {
        "broker": 1,
        "database": 1,
    }
