"""How the weekly job scores reviews: `local` runs the Lambda handler in this process,
`lambda` invokes the deployed function through boto3. Both send the same event and check the
same answer: {"reviews": [...], "batch_id": ...} -> {"sentiments": [...], "model": ...}.
"""

import importlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from django.conf import settings

from sentiment.errors import SentimentFunctionError, SentimentInvokeFailed, SentimentModelUnavailable

logger = logging.getLogger(__name__)

# Loaded by name, in the process that runs the job: web code never imports torch.
HANDLER_MODULE = "sentiment.lambda_function.handler"
THROTTLED = {"TooManyRequestsException", "ThrottlingException"}


@dataclass(frozen=True)
class Scores:
    sentiments: list[float]
    model: str


class Scorer(Protocol):
    # How many batches the job may have this scorer score at once.
    concurrency: int

    def score(self, *, reviews: list[str], batch_id: str) -> Scores: ...


def _scores(answer: object, *, expected: int, source: str) -> Scores:
    """The function's answer, checked: one score in [-1, 1] per review sent."""
    sentiments = answer.get("sentiments") if isinstance(answer, dict) else None
    if (
        not isinstance(sentiments, list)
        or len(sentiments) != expected
        or not all(isinstance(s, int | float) and not isinstance(s, bool) and -1 <= s <= 1 for s in sentiments)
    ):
        shown = json.dumps(answer, ensure_ascii=False)[:300]
        raise SentimentInvokeFailed(f"{source} answered without {expected} sentiments in [-1, 1]: {shown}")
    return Scores(sentiments=[float(s) for s in sentiments], model=str(answer.get("model") or source))


class LocalScorer:
    """The handler, called in this process with the model of SENTIMENT_MODEL (None: the handler's default)."""

    # One batch at a time: a forward pass already spreads over every core of this machine.
    concurrency = 1

    def __init__(self, *, model_name: str | None):
        self.handler = importlib.import_module(HANDLER_MODULE)
        self.model_name = model_name or self.handler.DEFAULT_MODEL

    def score(self, *, reviews: list[str], batch_id: str) -> Scores:
        try:
            answer = self.handler.handle({"reviews": reviews, "batch_id": batch_id}, model_name=self.model_name)
        except self.handler.ModelUnavailable as error:
            raise SentimentModelUnavailable(str(error)) from None
        except (self.handler.InvalidEvent, self.handler.Misconfigured) as error:
            raise SentimentFunctionError(f"the sentiment handler failed: {type(error).__name__}: {error}") from None
        return _scores(answer, expected=len(reviews), source=self.model_name)


class LambdaScorer:
    """The deployed function, invoked synchronously (RequestResponse) through boto3.

    botocore retries nothing: an invoke that timed out on the read may have run, and is never sent
    again. Only invokes that cannot have run (throttled, endpoint unreachable) are tried again, at
    most `attempts` times with exponential back-off. `score` may be called from `concurrency` threads
    at once: they share the one client, created here in the calling thread (boto3 clients are
    thread-safe; creating one from the default session in several threads at once is not).
    """

    def __init__(
        self,
        *,
        function_name: str,
        region: str,
        endpoint_url: str | None,
        read_timeout_s: int,
        attempts: int,
        backoff_ms: int,
        concurrency: int,
    ):
        self.function_name = function_name
        self.concurrency = concurrency
        self.read_timeout_s = read_timeout_s
        self.attempts = attempts
        self.backoff_ms = backoff_ms
        self.client = boto3.client(
            "lambda",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                read_timeout=read_timeout_s,
                connect_timeout=10,
                tcp_keepalive=True,
                retries={"total_max_attempts": 1},
                # A pooled connection for every invoke in flight (botocore keeps 10; more would each
                # open a connection and drop it afterwards).
                max_pool_connections=concurrency,
            ),
        )

    def _invoke(self, payload: bytes) -> dict:
        for attempt in range(1, self.attempts + 1):
            retry_reason = None
            try:
                return self.client.invoke(
                    FunctionName=self.function_name, InvocationType="RequestResponse", Payload=payload
                )
            except ClientError as error:
                code, message = error.response["Error"].get("Code"), error.response["Error"].get("Message")
                if code not in THROTTLED:
                    raise SentimentInvokeFailed(
                        f"invoking {self.function_name} was refused: {code}: {message}"
                    ) from None
                retry_reason = f"throttled ({code})"
            except (EndpointConnectionError, ConnectTimeoutError) as error:
                retry_reason = f"unreachable ({error})"
            except NoCredentialsError:
                raise SentimentInvokeFailed(
                    f"no AWS credentials to invoke {self.function_name}: give the worker a role (IRSA) or keys"
                ) from None
            except ReadTimeoutError:
                raise SentimentInvokeFailed(
                    f"{self.function_name} gave no answer within {self.read_timeout_s} s; "
                    "not invoked again, since it may have run"
                ) from None
            if attempt < self.attempts:
                logger.warning("sentiment invoke retried", extra={"attempt": attempt, "reason": retry_reason})
                time.sleep(self.backoff_ms / 1000 * 2 ** (attempt - 1))
        raise SentimentInvokeFailed(f"{self.function_name} {retry_reason} after {self.attempts} attempts")

    def score(self, *, reviews: list[str], batch_id: str) -> Scores:
        response = self._invoke(json.dumps({"reviews": reviews, "batch_id": batch_id}).encode())
        body = response["Payload"].read()
        try:
            answer = json.loads(body)
        except ValueError:
            raise SentimentInvokeFailed(
                f"{self.function_name} answered with something not JSON: {body[:200]!r}"
            ) from None
        if response.get("FunctionError"):
            # Handled or Unhandled: a raised exception, a timeout (Sandbox.Timedout), out of memory.
            error_type = answer.get("errorType", "unknown") if isinstance(answer, dict) else "unknown"
            error_message = answer.get("errorMessage", body[:300]) if isinstance(answer, dict) else body[:300]
            if error_type == "ModelUnavailable":
                raise SentimentModelUnavailable(f"{self.function_name}: {error_message}")
            raise SentimentFunctionError(
                f"{self.function_name} failed ({response['FunctionError']}): {error_type}: {error_message}"
            )
        return _scores(answer, expected=len(reviews), source=self.function_name)


def scorer_from_settings() -> Scorer:
    if settings.SENTIMENT_BACKEND == "lambda":
        return LambdaScorer(
            function_name=settings.SENTIMENT_LAMBDA_FUNCTION,
            region=settings.SENTIMENT_LAMBDA_REGION,
            endpoint_url=settings.SENTIMENT_LAMBDA_ENDPOINT_URL,
            read_timeout_s=settings.SENTIMENT_LAMBDA_READ_TIMEOUT_S,
            attempts=settings.SENTIMENT_LAMBDA_ATTEMPTS,
            backoff_ms=settings.SENTIMENT_LAMBDA_BACKOFF_MS,
            concurrency=settings.SENTIMENT_LAMBDA_CONCURRENCY,
        )
    return LocalScorer(model_name=settings.SENTIMENT_MODEL)
