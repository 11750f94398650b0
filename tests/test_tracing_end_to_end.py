"""Traces of real processes, received by a real OTLP/HTTP receiver (deploy/local/otlp.py): an order
placed through gunicorn (the image's settings, tracing initialised after the fork) is one trace that
continues the gateway's B3 headers, with Django, database, saga, payment and httpx (Toss) spans; and
an order whose payment the PG could not settle is finished by a real Celery worker in the same trace.

Run with -s to see each trace as a tree of spans."""

import json
import re
import time

import pytest
from django.conf import settings
from django.db import connection
from werkzeug import Response

from conftest import access_token_for, live_database_url, order_body, order_line, shared_database_url
from deploy.local.net import call_json
from deploy.local.otlp import OtlpReceiver, Span, tree
from orders.models import Order
from saga.models import SagaInstance

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GATEWAY_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"  # what Istio's ingress gateway would send
GATEWAY_SPAN = "00f067aa0ba902b7"
TOSS_SECRET_KEY = "test_sk_tracing_0000000000"
ORDERS = "api/v1/orders/"


def traced_env(receiver: OtlpReceiver, toss_url: str, **extra: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within 0.1 s instead of 5 s
        "PAYMENT_GATEWAY": "toss",
        "TOSS_SECRET_KEY": TOSS_SECRET_KEY,
        "TOSS_API_BASE_URL": toss_url,
        "C4ANG_MODULES": "orders",
        **extra,
    }


def one(spans: list[Span], name: str) -> Span:
    (span,) = [span for span in spans if span.name == name]
    return span


def approving_toss(httpserver) -> str:
    def confirm(request):
        body = request.get_json()
        payment = {"paymentKey": body["paymentKey"], "orderId": body["orderId"], "status": "DONE"}
        return Response(json.dumps({**payment, "totalAmount": body["amount"]}), content_type="application/json")

    httpserver.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(confirm)
    return httpserver.url_for("/").rstrip("/")


def test_an_order_placed_through_gunicorn_is_one_trace(
    gunicorn_server, httpserver, customer, product_factory, tmp_path
):
    product = product_factory()
    toss = approving_toss(httpserver)
    with OtlpReceiver() as receiver:
        server = gunicorn_server(
            {"DATABASE_URL": live_database_url(tmp_path), **traced_env(receiver, toss)}, workers=1, image_config=True
        )
        b3 = {"X-B3-TraceId": GATEWAY_TRACE, "X-B3-SpanId": GATEWAY_SPAN, "X-B3-Sampled": "1"}

        answer = call_json(
            f"{server.url}/{ORDERS}",
            "POST",
            order_body([order_line(product)], pay_with="pk_traced"),
            token=access_token_for(customer.user),
            headers=b3,
        )

        assert answer.status == 201, answer.body
        assert answer.headers["X-Trace-ID"] == GATEWAY_TRACE
        spans = receiver.wait_for(lambda spans: any(s.name == f"POST {ORDERS}" for s in spans))
        trace = receiver.trace(GATEWAY_TRACE)
        access = [json.loads(line) for line in server.output().splitlines() if '"gunicorn.access"' in line]
    print(f"\nthe trace of one order ({len(trace)} spans):\n{tree(trace)}")

    assert [(line["path"], line["status"], line["trace_id"]) for line in access] == [(f"/{ORDERS}", 201, GATEWAY_TRACE)]

    assert {span.trace_id for span in spans} == {GATEWAY_TRACE}  # nothing else was traced
    server_span = one(trace, f"POST {ORDERS}")
    assert (server_span.kind, server_span.parent_id, server_span.service) == ("server", GATEWAY_SPAN, "c4ang-orders")
    assert server_span.attributes["http.route"] == ORDERS
    start = one(trace, "saga.start place_order")
    assert start.parent_id == server_span.span_id
    steps = sorted((s for s in trace if s.name.startswith("saga.action ")), key=lambda s: s.start_ns)
    assert [s.name for s in steps] == [
        f"saga.action {n}" for n in ("create_order", "reserve_stock", "take_payment", "mark_paid")
    ]
    assert {s.parent_id for s in steps} == {start.span_id}
    charge = one(trace, "payment.confirm")
    assert charge.parent_id == one(trace, "saga.action take_payment").span_id
    call = one(trace, "POST")  # httpx, to Toss
    assert (call.kind, call.parent_id) == ("client", charge.span_id)
    assert call.attributes["http.status_code"] == 200
    queries = [s for s in trace if s.kind == "client" and s.attributes.get("db.system") in {"sqlite", "postgresql"}]
    assert {s.attributes["db.system"] for s in queries} == {connection.vendor}
    # With Redis, the cache's commands too (the catalog entries dropped after the stock moved).
    assert any(s.attributes.get("db.system") == "redis" for s in trace) == bool(settings.REDIS_URL)
    assert {s.name.split()[0] for s in queries} >= {"SELECT", "INSERT", "UPDATE"}
    # Each step's writes are its children: the database spans are parented where they ran.
    create_order = one(trace, "saga.action create_order")
    assert any(s.parent_id == create_order.span_id and s.name.startswith("INSERT") for s in queries)
    assert {s.service for s in trace} == {"c4ang-orders"}


@pytest.mark.postgres
@pytest.mark.redis
def test_an_order_the_worker_settles_stays_in_its_trace(
    gunicorn_server, celery_worker, httpserver, customer, product_factory
):
    """The PG does not answer the charge, nor say afterwards whether it took it: the request leaves the
    saga compensating; once Toss answers again, the Celery worker's recovery settles it, in the trace
    the request started."""
    product = product_factory()
    toss = {"lookup": 500}

    def confirm(request):
        return Response('{"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "잠시 후 다시 시도해주세요."}', 500)

    def lookup(request):
        if toss["lookup"] == 500:
            return Response(
                '{"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "잠시 후 다시 시도해주세요."}', 500
            )
        return Response('{"code": "NOT_FOUND_PAYMENT", "message": "존재하지 않는 결제 정보 입니다."}', 404)

    httpserver.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(confirm)
    httpserver.expect_request(re.compile(r"^/v1/payments/[^/]+$"), method="GET").respond_with_handler(lookup)
    url = httpserver.url_for("/").rstrip("/")
    with OtlpReceiver() as receiver:
        overrides = {"TOSS_MAX_RETRIES": "0", "SAGA_RETRY_DELAY_SECONDS": "0"}
        env = traced_env(receiver, url, **overrides)
        server = gunicorn_server({"DATABASE_URL": shared_database_url(), **env}, workers=1, image_config=True)
        queue, worker = celery_worker(env)
        traceparent = f"00-{GATEWAY_TRACE}-{GATEWAY_SPAN}-01"

        answer = call_json(
            f"{server.url}/{ORDERS}",
            "POST",
            order_body([order_line(product)], pay_with="pk_unsettled"),
            token=access_token_for(customer.user),
            headers={"traceparent": traceparent},
        )

        order = Order.objects.get()
        assert (answer.status, order.status) == (201, "PENDING")
        assert SagaInstance.objects.get(pk=order.saga_id).status == "COMPENSATING"
        toss["lookup"] = 404  # Toss answers again: it never took that payment
        from saga.tasks import recover_sagas

        recover_sagas.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while SagaInstance.objects.get(pk=order.saga_id).status != "COMPENSATED":
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.1)
        spans = receiver.wait_for(
            lambda spans: (
                {"saga.recover place_order", "run/saga.tasks.recover_sagas"} <= {s.name for s in spans}
                and any(s.name == "saga.action mark_paid" or s.name == "saga.compensation create_order" for s in spans)
            )
        )
        trace = receiver.trace(GATEWAY_TRACE)
    print(f"\nthe trace of one order, settled by the worker ({len(trace)} spans):\n{tree(trace)}")

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("CANCELLED", "payment_timeout")
    assert {s.service for s in trace} == {"c4ang-orders", "c4ang-worker"}
    start = one(trace, "saga.start place_order")
    assert one(trace, f"POST {ORDERS}").parent_id == GATEWAY_SPAN
    recover = one(trace, "saga.recover place_order")
    assert (recover.service, recover.parent_id) == ("c4ang-worker", start.span_id)
    (task,) = [s for s in spans if s.name == "run/saga.tasks.recover_sagas"]
    assert (task.kind, task.service) == ("consumer", "c4ang-worker")
    assert recover.links == ((task.trace_id, task.span_id),)
    in_worker = [s for s in trace if s.service == "c4ang-worker"]
    assert {s.name for s in in_worker} >= {
        "saga.compensation take_payment",
        "payment.fetch",
        "GET",
        "saga.compensation reserve_stock",
        "saga.compensation create_order",
    }
    assert any(s.attributes.get("db.system") == "postgresql" for s in in_worker)
    fetches = [s for s in trace if s.name == "payment.fetch"]
    assert {s.service for s in fetches} == {"c4ang-orders", "c4ang-worker"}  # first without an answer, then 404
