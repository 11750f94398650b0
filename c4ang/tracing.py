"""OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT is set, absent otherwise.

Off (the default), nothing of OpenTelemetry is imported or wrapped: `span()` is a null context and
log lines carry `trace_id: null`. On:

- `instrument()` (the platform app's ready(), in every process, before Django builds its middleware
  chain) wraps Django, psycopg, sqlite3, redis, Celery, httpx (Toss) and botocore (Lambda), and sets
  the propagators: B3 (what Istio's Envoy sends and expects back) and W3C `traceparent`, so that
  the mesh's spans and the app's join into one trace;
- `provider_start()` creates the exporter (OTLP over HTTP, to the endpoint) in the process that
  will send: after gunicorn forks a worker (deploy/gunicorn.conf.py, post_fork), in each Celery
  worker process and in beat (c4ang/celery.py). Its batch thread must not be created before a fork.

The standard OTEL_* variables apply (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS,
OTEL_EXPORTER_OTLP_HEADERS, ...).
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Probes and scrapes every few seconds would be most of the traces, and tell nothing.
EXCLUDED_URLS = "healthz,readyz,metrics"

_instrumented = False
_provider = None  # the TracerProvider of this process, once provider_start() ran


def enabled() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def active() -> bool:
    """Whether this process records and exports spans."""
    return _provider is not None


def instrument() -> None:
    """Wrap the libraries and set the propagators (once per process; nothing when tracing is off)."""
    global _instrumented
    if _instrumented or not enabled():
        return
    from opentelemetry import propagate
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
    from opentelemetry.propagators.b3 import B3MultiFormat
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if not os.environ.get("OTEL_PROPAGATORS"):
        # Extracted in this order: a traceparent, when both came, wins over the B3 headers. Both are
        # injected into outgoing calls, so Envoy's sidecar continues the trace whichever it reads.
        propagate.set_global_textmap(
            CompositePropagator([B3MultiFormat(), TraceContextTextMapPropagator(), W3CBaggagePropagator()])
        )
    DjangoInstrumentor().instrument(excluded_urls=os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS", EXCLUDED_URLS))
    PsycopgInstrumentor().instrument(skip_dep_check=True)
    SQLite3Instrumentor().instrument()
    RedisInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    BotocoreInstrumentor().instrument()
    _instrumented = True


def provider_start(service: str) -> None:
    """Start exporting this process's spans (once; nothing when tracing is off). `service` is the
    service.name unless OTEL_SERVICE_NAME says otherwise."""
    global _provider
    if _provider is not None or not enabled():
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_NAMESPACE, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {SERVICE_NAMESPACE: "c4ang"}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes[SERVICE_NAME] = service
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider


def provider_flush() -> None:
    """Send what is buffered (a gunicorn worker or a Celery process on its way out)."""
    if _provider is not None:
        _provider.force_flush()


def web_service_name(modules: str) -> str:
    """c4ang-<module> for a module's pods (C4ANG_MODULES), c4ang for a process serving every module."""
    names = [name.strip() for name in modules.split(",") if name.strip()]
    return "c4ang" if names in ([], ["all"]) else "c4ang-" + "-".join(names)


def span(name: str, **attributes: Any):
    """A span around a block, child of the current one, when this process traces; else nothing."""
    if _provider is None:
        return nullcontext()
    from opentelemetry import trace

    return trace.get_tracer("c4ang").start_as_current_span(name, attributes=attributes)


def current_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) in hex of the current span, for log lines; (None, None) without one."""
    if _provider is None:
        return None, None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def carrier() -> dict[str, str]:
    """The current span as a W3C `traceparent` to keep with work that may go on elsewhere (a saga
    continued by the worker); empty when nothing is traced."""
    if _provider is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    found: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(found)
    return found


@contextmanager
def continued(name: str, kept: Mapping[str, str] | None, **attributes: Any) -> Iterator[None]:
    """A span for work that continues what `kept` (a `carrier()`) started, in that trace, linked
    to the span this process is in (the Celery task that took the work up)."""
    if _provider is None:
        yield
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    here = trace.get_current_span().get_span_context()
    parent = TraceContextTextMapPropagator().extract(dict(kept)) if kept else None
    links = [trace.Link(here)] if here.is_valid and parent is not None else []
    tracer = trace.get_tracer("c4ang")
    with tracer.start_as_current_span(name, context=parent, links=links, attributes=attributes):
        yield
