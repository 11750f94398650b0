"""X-Request-ID is taken or generated, returned in the response, and carried by every log line."""

import io
import json
import logging
import re

import pytest

from c4ang.request_id import RequestIdLogFilter, RequestIdMiddleware

pytestmark = pytest.mark.django_db


def test_incoming_request_id_is_returned(api_client):
    response = api_client.get("/api/v1/products/", HTTP_X_REQUEST_ID="abc-123.trace:7")

    assert response["X-Request-ID"] == "abc-123.trace:7"


def test_missing_request_id_is_generated(api_client):
    first = api_client.get("/api/v1/products/")["X-Request-ID"]
    second = api_client.get("/api/v1/products/")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_unsafe_request_id_is_replaced(api_client):
    response = api_client.get("/api/v1/products/", HTTP_X_REQUEST_ID="bad id\nInjected: header")

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_log_lines_are_json_with_the_request_id(rf, settings):
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter_config = settings.LOGGING["formatters"]["json"]
    handler.setFormatter(JsonFormatter(**{key: value for key, value in formatter_config.items() if key != "()"}))
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger("c4ang.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("order placed", extra={"order_id": "o-1"})
        from django.http import HttpResponse

        return HttpResponse("ok")

    try:
        RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="req-42"))
    finally:
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue().strip())
    assert line["message"] == "order placed"
    assert line["request_id"] == "req-42"
    assert line["order_id"] == "o-1"
    assert line["level"] == "INFO"
    assert line["logger"] == "c4ang.test"
    assert line["time"].endswith("+00:00")
