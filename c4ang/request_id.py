"""X-Request-ID: taken from the request (Istio propagates it) or generated, returned, and logged."""

import logging
import re
import uuid
from contextvars import ContextVar

from c4ang import tracing

REQUEST_ID_HEADER = "X-Request-ID"
TRACE_ID_HEADER = "X-Trace-ID"  # answered with tracing on: the access log line and support quote it
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _current_request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        # An id we cannot safely put into logs and headers is replaced, not echoed.
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs 4xx/5xx responses after the middleware chain returns,
        # and those lines need the id too. The next request in this thread sets its own.
        _current_request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        if tracing.active() and (trace_id := tracing.current_ids()[0]):
            response[TRACE_ID_HEADER] = trace_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Puts the request id, and the trace and span ids (tracing on), on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        record.trace_id, record.span_id = tracing.current_ids()
        return True
