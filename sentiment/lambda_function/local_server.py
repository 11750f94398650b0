"""A local endpoint that speaks the AWS Lambda Invoke API and runs the real handler.

    POST /2015-03-31/functions/{FunctionName}/invocations

With it the `lambda` backend of the sentiment job (boto3) runs for real on one machine:

    SENTIMENT_MODEL=var/sentiment-demo-model python -m sentiment.lambda_function.local_server --port 9001
    SENTIMENT_BACKEND=lambda SENTIMENT_LAMBDA_ENDPOINT_URL=http://127.0.0.1:9001 \\
        AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local python manage.py run_sentiment

Like one Lambda container it runs one invocation at a time, RequestResponse only. Like the Python
runtime, an exception raised by the handler is answered 200 with `X-Amz-Function-Error: Unhandled`
and {"errorMessage", "errorType", "stackTrace"}; a bad request is a 4xx with `x-amzn-ErrorType`,
as the Lambda API answers it. Request signatures are not checked.
"""

import argparse
import json
import logging
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

from sentiment.lambda_function.handler import lambda_handler

logger = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
TIMEOUT_S = 600


class LambdaApiServer(HTTPServer):
    def __init__(self, address: tuple[str, int], *, function_name: str, handler: Callable[[object, object], object]):
        super().__init__(address, _InvokeRequest)
        self.function_name = function_name
        self.handler = handler

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _InvokeRequest(BaseHTTPRequestHandler):
    server: LambdaApiServer
    # One request per connection: an idle keep-alive connection would block this one-at-a-time server.
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = INVOKE_PATH.match(urlsplit(self.path).path)
        if not match:
            self._api_error(404, "UnknownOperationException", f"no operation at {self.path}")
            return
        name = unquote(match["name"])
        if name != self.server.function_name and not name.endswith(f":function:{self.server.function_name}"):
            self._api_error(404, "ResourceNotFoundException", f"Function not found: {name}")
            return
        if self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            self._api_error(
                400, "InvalidParameterValueException", "this endpoint runs RequestResponse invocations only"
            )
            return
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            self._api_error(400, "InvalidRequestContentException", "Could not parse request body into json")
            return
        request_id = str(uuid.uuid4())
        deadline = time.monotonic() + TIMEOUT_S
        context = SimpleNamespace(
            function_name=self.server.function_name,
            aws_request_id=request_id,
            get_remaining_time_in_millis=lambda: max(0, int((deadline - time.monotonic()) * 1000)),
        )
        try:
            result = self.server.handler(event, context)
        except Exception as error:  # noqa: BLE001 - as in the Lambda runtime, any exception is a function error
            logger.warning("invocation failed: %s: %s", type(error).__name__, error)
            payload = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            self._send(200, payload, {"X-Amz-Function-Error": "Unhandled", "x-amzn-RequestId": request_id})
            return
        self._send(200, result, {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": request_id})

    def _api_error(self, status: int, error_type: str, message: str) -> None:
        self._send(status, {"Type": "User", "message": message}, {"x-amzn-ErrorType": error_type})

    def _send(self, status: int, payload: object, headers: dict[str, str]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for header, value in headers.items():
            self.send_header(header, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        logger.info("%s " + format, self.address_string(), *args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--function-name", default=os.environ.get("SENTIMENT_LAMBDA_FUNCTION", "c4ang-sentiment"))
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    server = LambdaApiServer((options.host, options.port), function_name=options.function_name, handler=lambda_handler)
    logger.info("Lambda Invoke API for %r on %s", options.function_name, server.url)
    server.serve_forever()


if __name__ == "__main__":
    main()
