"""Tracing in one process, with the SDK's in-memory exporter: off without an endpoint (nothing
instrumented, no trace ids in the logs); on, a request joins the trace Istio started (B3 or W3C
headers), placing an order is one trace of Django, saga and payment spans, calls to the PG carry
the trace on, log lines carry its id, and a saga continued by recovery stays in its trace.

The end-to-end test with real processes (gunicorn, a Celery worker, an OTLP receiver) is
tests/test_tracing_end_to_end.py."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.test import Client
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from werkzeug import Response

from c4ang import tracing
from c4ang.request_id import RequestIdLogFilter
from conftest import client_for, order_line, place_order
from orders.models import Order
from saga import services as saga_services
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

OTEL_MIDDLEWARE = "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
ISTIO_TRACE = "463ac35c9f6413ad48485a3953bb6124"  # a trace the ingress gateway's Envoy started
ISTIO_SPAN = "a2fb4a1d1a96d312"


def json_log_line(logger_name: str, message: str) -> dict:
    """The JSON line the platform's formatter writes for `message`, with the request id filter."""
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = settings.LOGGING["formatters"]["json"]
    handler.setFormatter(JsonFormatter(**{key: value for key, value in config.items() if key != "()"}))
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        logger.warning(message)
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_without_an_endpoint_nothing_is_traced_or_wrapped(settings, monkeypatch, api_client, product_factory):
    for name in tracing.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    tracing.instrument()

    assert not tracing.enabled()
    assert not tracing.active()
    assert OTEL_MIDDLEWARE not in settings.MIDDLEWARE
    assert tracing.carrier() == {}
    assert tracing.current_ids() == (None, None)
    with tracing.span("anything") as span:
        assert span is None  # a null context: no span object is made
    assert api_client.get(f"/api/v1/products/{product_factory().pk}/").status_code == 200
    line = json_log_line("c4ang.test", "no trace here")
    assert (line["trace_id"], line["span_id"]) == (None, None)


def test_a_web_process_without_an_endpoint_loads_no_tracing():
    # What "off costs nothing" rests on: no instrumentation, no SDK tracer or exporter, no middleware.
    # (redis-py imports OpenTelemetry's metrics API when it is installed, for its own opt-in metrics.)
    code = (
        "import sys, c4ang.wsgi; from django.conf import settings; from opentelemetry import trace;"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.instrumentation', "
        "'opentelemetry.sdk.trace', 'opentelemetry.exporter', 'opentelemetry.propagators'))));"
        "print(any('opentelemetry' in m for m in settings.MIDDLEWARE), type(trace.get_tracer_provider()).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}

    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)

    assert result.stdout.splitlines() == ["[]", "False ProxyTracerProvider"]


_PROVIDER: TracerProvider | None = None  # set once per process: OpenTelemetry refuses a second global provider


@pytest.fixture(scope="module")
def spans():
    """Tracing on in this process, spans kept in memory; everything undone afterwards."""
    global _PROVIDER
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"  # never called: nothing exports there
    exporter = InMemorySpanExporter()
    if _PROVIDER is None:
        _PROVIDER = TracerProvider()
        trace.set_tracer_provider(_PROVIDER)
    processor = SimpleSpanProcessor(exporter)
    _PROVIDER.add_span_processor(processor)
    textmap = propagate.get_global_textmap()
    tracing.instrument()
    tracing._provider = _PROVIDER
    try:
        yield exporter
    finally:
        tracing._provider = None
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

        for instrumentor in (
            DjangoInstrumentor,
            PsycopgInstrumentor,
            SQLite3Instrumentor,
            RedisInstrumentor,
            CeleryInstrumentor,
            HTTPXClientInstrumentor,
        ):
            instrumentor().uninstrument()
        tracing._instrumented = False
        propagate.set_global_textmap(textmap)
        processor.shutdown()
        del os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]


@pytest.fixture
def recorded(spans):
    spans.clear()
    return spans


def hex_ids(span) -> tuple[str, str, str | None]:
    parent = format(span.parent.span_id, "016x") if span.parent else None
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x"), parent


def by_name(finished, name: str):
    (span,) = [span for span in finished if span.name == name]
    return span


def test_a_request_joins_the_trace_istio_started_with_b3_headers(recorded, product_factory):
    product = product_factory()
    headers = {"HTTP_X_B3_TRACEID": ISTIO_TRACE, "HTTP_X_B3_SPANID": ISTIO_SPAN, "HTTP_X_B3_SAMPLED": "1"}

    assert Client().get(f"/api/v1/products/{product.pk}/", **headers).status_code == 200

    server = by_name(recorded.get_finished_spans(), "GET api/v1/products/<uuid:product_id>/")
    assert server.kind == trace.SpanKind.SERVER
    assert hex_ids(server)[0] == ISTIO_TRACE
    assert hex_ids(server)[2] == ISTIO_SPAN
    assert server.attributes["http.status_code"] == 200
    assert server.attributes["http.route"] == "api/v1/products/<uuid:product_id>/"


def test_a_w3c_traceparent_is_continued_too_and_probes_are_not_traced(recorded):
    traceparent = f"00-{ISTIO_TRACE}-{ISTIO_SPAN}-01"

    Client().get("/api/v1/products/", HTTP_TRACEPARENT=traceparent)
    Client().get("/readyz")
    Client().get("/metrics")

    # One request traced (with its cache and database calls, on Redis and PostgreSQL): not the probes.
    (server,) = [span for span in recorded.get_finished_spans() if span.kind == trace.SpanKind.SERVER]
    assert server.name == "GET api/v1/products/"
    assert hex_ids(server)[0::2] == (ISTIO_TRACE, ISTIO_SPAN)


def test_placing_an_order_is_one_trace_of_django_saga_and_payment_spans(recorded, customer, product_factory):
    response = place_order(client_for(customer.user), [order_line(product_factory())])
    assert response.status_code == 201

    finished = recorded.get_finished_spans()
    server = by_name(finished, "POST api/v1/orders/")
    start = by_name(finished, "saga.start place_order")
    steps = [span for span in finished if span.name.startswith("saga.action ")]
    charge = by_name(finished, "payment.confirm")
    assert {hex_ids(span)[0] for span in finished} == {hex_ids(server)[0]}
    assert hex_ids(start)[2] == hex_ids(server)[1]
    assert [span.name for span in sorted(steps, key=lambda s: s.start_time)] == [
        "saga.action create_order",
        "saga.action reserve_stock",
        "saga.action take_payment",
        "saga.action mark_paid",
    ]
    assert {hex_ids(span)[2] for span in steps} == {hex_ids(start)[1]}
    assert hex_ids(charge)[2] == hex_ids(by_name(finished, "saga.action take_payment"))[1]
    assert charge.attributes["payment.provider"] == "fake"
    # The saga keeps the trace it was started in: a worker that continues it does so in this trace.
    saga = SagaInstance.objects.get(pk=Order.objects.get().saga_id)
    (kept,) = saga.payload["trace"].values()
    assert kept.split("-")[:3] == ["00", hex_ids(server)[0], hex_ids(start)[1]]  # then the sampled flags


def test_a_log_line_carries_the_trace_and_span_it_was_written_in(spans):
    with tracing.span("logging") as span:
        line = json_log_line("c4ang.test", "inside a span")

    context = span.get_span_context()
    assert (line["trace_id"], line["span_id"]) == (format(context.trace_id, "032x"), format(context.span_id, "016x"))


def test_calls_to_toss_carry_the_trace_in_w3c_and_b3_headers(recorded, settings, httpserver, customer, product_factory):
    settings.PAYMENT_GATEWAY, settings.TOSS_SECRET_KEY = "toss", "test_sk_tracing"
    settings.TOSS_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    seen = []

    def confirm(request):
        seen.append(dict(request.headers))
        body = request.get_json()
        payment = {"paymentKey": body["paymentKey"], "orderId": body["orderId"], "status": "DONE"}
        return Response(json.dumps({**payment, "totalAmount": body["amount"]}), content_type="application/json")

    httpserver.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(confirm)

    assert place_order(client_for(customer.user), [order_line(product_factory())], pay_with="pk_1").status_code == 201

    finished = recorded.get_finished_spans()
    (call,) = [span for span in finished if span.kind == trace.SpanKind.CLIENT and span.name == "POST"]
    trace_id, span_id, parent = hex_ids(call)
    assert parent == hex_ids(by_name(finished, "payment.confirm"))[1]
    (headers,) = seen
    assert headers["Traceparent"].split("-")[:3] == ["00", trace_id, span_id]
    assert (headers["X-B3-Traceid"], headers["X-B3-Spanid"]) == (trace_id, span_id)


def test_a_saga_continued_by_recovery_stays_in_the_trace_that_started_it(recorded, settings, customer, product_factory):
    settings.SAGA_RETRY_DELAY_SECONDS = 0
    client = client_for(customer.user)
    # Approved, but the PG does not answer the refund: the cancellation's compensation is left to recovery.
    place_order(client, [order_line(product_factory())], pay_with="tok_refund_timeout")
    order = Order.objects.get()
    client.post(f"/api/v1/orders/{order.pk}/cancel/", {"note": "changed my mind"}, format="json")
    started = by_name(recorded.get_finished_spans(), "saga.start place_order")
    recorded.clear()

    with tracing.span("run/saga.tasks.recover_sagas") as task:  # as the Celery worker's span would be
        saga_services.saga_recover()

    recover = by_name(recorded.get_finished_spans(), "saga.recover place_order")
    assert hex_ids(recover)[0] == hex_ids(started)[0]
    assert hex_ids(recover)[2] == hex_ids(started)[1]
    assert [link.context.span_id for link in recover.links] == [task.get_span_context().span_id]
    assert recover.attributes["saga.id"] == str(order.saga_id)
    compensation = [s for s in recorded.get_finished_spans() if s.name == "saga.compensation take_payment"]
    assert compensation
    assert {hex_ids(s)[2] for s in compensation} == {hex_ids(recover)[1]}
