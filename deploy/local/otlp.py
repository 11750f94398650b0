"""A small OTLP/HTTP trace receiver: what the platform exports when OTEL_EXPORTER_OTLP_ENDPOINT points
at it, kept in memory and shown as trees of spans (no Jaeger needed on a laptop).

    .venv/bin/python -m deploy.local.otlp --port 4318        # then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318

The tests receive the spans of real processes with it (c4ang/tests/test_tracing.py), and the
tracing benchmark sends its spans here (bench/tracing_overhead.py). It accepts the protobuf
encoding (the exporter's default) on POST /v1/traces.
"""

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    service: str
    start_ns: int
    end_ns: int
    attributes: dict = field(default_factory=dict, hash=False, compare=False)
    links: tuple[tuple[str, str], ...] = ()

    @property
    def ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return None if kind is None else getattr(any_value, kind)


def decode(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    Span(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        kind=KINDS.get(span.kind, str(span.kind)),
                        service=str(resource.get("service.name", "")),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                    )
                )
    return spans


class OtlpReceiver(ThreadingHTTPServer):
    """Listens on 127.0.0.1 (port 0: any free one) and keeps every span it receives."""

    daemon_threads = True

    def __init__(self, port: int = 0, on_spans: Callable[[list[Span]], None] | None = None, *, keep: bool = True):
        super().__init__(("127.0.0.1", port), _Handler)
        self.keep = keep  # False: answer and count the exports only (a benchmark's sink)
        self.exports = 0
        self.spans: list[Span] = []
        self.lock = threading.Lock()
        self.on_spans = on_spans
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "OtlpReceiver":
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def received(self, spans: list[Span]) -> None:
        with self.lock:
            self.spans.extend(spans)
        if self.on_spans:
            self.on_spans(spans)

    def trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [span for span in self.spans if span.trace_id == trace_id]

    def wait_for(self, found: Callable[[list[Span]], bool], deadline_s: float = 30) -> list[Span]:
        """Poll until `found(spans received so far)` holds; returns them. TimeoutError after the deadline."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            with self.lock:
                spans = list(self.spans)
            if found(spans):
                return spans
            time.sleep(0.05)
        raise TimeoutError(f"the spans awaited did not arrive within {deadline_s}s ({len(self.spans)} received)")


class _Handler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.rstrip("/") != "/v1/traces":
            self.send_error(404)
            return
        self.server.exports += 1
        if self.server.keep:
            self.server.received(decode(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args):
        pass


def tree(spans: list[Span]) -> str:
    """The spans of one trace as an indented tree: name [kind, service] duration; children in start order."""
    by_id = {span.span_id: span for span in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in by_id else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def add(span: Span, depth: int) -> None:
        orphan = " (parent not received)" if depth == 0 and span.parent_id else ""
        lines.append(f"{'  ' * depth}{span.name} [{span.kind}, {span.service}] {span.ms:.1f} ms{orphan}")
        for child in sorted(children.get(span.span_id, []), key=lambda s: s.start_ns):
            add(child, depth + 1)

    for root in sorted(children.get(None, []), key=lambda s: s.start_ns):
        add(root, 0)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.otlp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4318, help="OTLP/HTTP's usual port")
    args = parser.parse_args(argv)

    def show(spans: list[Span]) -> None:
        for span in spans:
            parent = span.parent_id or "-"
            print(f"{span.trace_id} {span.span_id} <- {parent:<16} {span.name} [{span.kind}, {span.service}]")

    receiver = OtlpReceiver(args.port, on_spans=show)
    print(f"receiving OTLP/HTTP traces on {receiver.url}/v1/traces (Ctrl-C ends)")
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
