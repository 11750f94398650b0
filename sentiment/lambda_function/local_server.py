"""A local endpoint that speaks the AWS Lambda Invoke API and runs the real handler.

    POST /2015-03-31/functions/{FunctionName}/invocations

With it the `lambda` backend of the sentiment job (boto3) runs for real on one machine:

    SENTIMENT_MODEL=var/sentiment-demo-model python -m sentiment.lambda_function.local_server --port 9001
    SENTIMENT_BACKEND=lambda SENTIMENT_LAMBDA_ENDPOINT_URL=http://127.0.0.1:9001 \\
        AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local python manage.py run_sentiment

Like Lambda, which starts another container for an invocation that finds the others busy, it runs
every invocation at once on a thread of its own (RequestResponse only), and counts them: `in_flight`
now, `max_in_flight` and `invocations` since it started. `--delay-ms` adds a fixed time to each
invocation, before the handler runs: the real function's latency (bench/RESULTS.md: about 35
reviews/s for a BERT-base-size model on 2 cores, near a second for a batch of 32) on top of a small
model's milliseconds. Like the Python runtime, an exception raised by the handler is answered
200 with `X-Amz-Function-Error: Unhandled` and {"errorMessage", "errorType", "stackTrace"}; a bad
request is a 4xx with `x-amzn-ErrorType`, as the Lambda API answers it. Request signatures are not
checked.
"""

import argparse
import json
import logging
import os
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

from sentiment.lambda_function.handler import lambda_handler

logger = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
TIMEOUT_S = 600


class LambdaApiServer(ThreadingHTTPServer):
    # An invocation left running by a client that gave up must not keep the process from ending.
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        function_name: str,
        handler: Callable[[object, object], object],
        delay_s: float = 0.0,
    ):
        super().__init__(address, _InvokeRequest)
        self.function_name = function_name
        self.handler = handler
        self.delay_s = delay_s
        self.in_flight = 0
        self.max_in_flight = 0
        self.invocations = 0
        self._counting = threading.Lock()

    @contextmanager
    def invocation(self) -> Iterator[None]:
        """Count one invocation while it runs: how many run at once is what Lambda's concurrency limit counts."""
        with self._counting:
            self.invocations += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._counting:
                self.in_flight -= 1

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _InvokeRequest(BaseHTTPRequestHandler):
    server: LambdaApiServer
    # One request per connection: no thread lingers on an idle keep-alive connection after its invocation.
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
        # Over before its answer is sent, as Lambda counts it: the client may send its next one on reading it.
        with self.server.invocation():
            time.sleep(self.server.delay_s)
            try:
                result = self.server.handler(event, context)
            except Exception as error:  # noqa: BLE001 - as in the Lambda runtime, any exception is a function error
                logger.warning("invocation failed: %s: %s", type(error).__name__, error)
                payload = {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
                headers = {"X-Amz-Function-Error": "Unhandled", "x-amzn-RequestId": request_id}
            else:
                payload, headers = result, {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": request_id}
        self._send(200, payload, headers)

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
    parser.add_argument("--delay-ms", type=int, default=0, help="added to every invocation, as the real latency")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    server = LambdaApiServer(
        (options.host, options.port),
        function_name=options.function_name,
        handler=lambda_handler,
        delay_s=options.delay_ms / 1000,
    )
    logger.info("Lambda Invoke API for %r on %s", options.function_name, server.url)
    server.serve_forever()


if __name__ == "__main__":
    main()
