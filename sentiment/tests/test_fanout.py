"""The weekly job's fan-out: many batches invoked at once through boto3 against the local Lambda Invoke
API (the real handler, the tiny model), never more than SENTIMENT_LAMBDA_CONCURRENCY at a time, with
the same results as one at a time; a failing batch stops the sending and waits for those in flight."""

import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from opentelemetry import context as otel_context

from c4ang.models import JobRun
from sentiment import backends, services
from sentiment.errors import SentimentFunctionError
from sentiment.lambda_function import handler as sentiment_handler
from sentiment.lambda_function.handler import lambda_handler
from sentiment.models import ProductSentiment

pytestmark = pytest.mark.django_db

# Stands in for the real function's latency (about a second for 32 reviews): long enough that the
# invokes sent together are all in flight together, short enough for a test.
LATENCY_S = 0.2
STORED = ("positive_ratio", "negative_ratio", "avg_sentiment", "review_count", "model_name")


def recording(batch_ids: list[str]):
    """The real handler, noting each batch it is invoked for."""

    def record(event, context):
        batch_ids.append(event["batch_id"])
        return lambda_handler(event, context)

    return record


def stored_rows() -> dict:
    return {row.product_id: tuple(getattr(row, field) for field in STORED) for row in ProductSentiment.objects.all()}


def batch_ids(run: JobRun, batches: dict) -> list[str]:
    """The ids of a run's batches, product by product, as one-at-a-time sends them."""
    return [f"{run.pk}:{product.id}:{index}" for product, count in batches.items() for index in range(count)]


def test_never_more_than_the_concurrency_in_flight_and_the_same_results_as_one_at_a_time(
    lambda_server, settings, product_factory, review_factory
):
    texts = [f"너무 실망했어요 {n}" if n % 3 == 0 else f"배송이 빨라서 좋았어요 {n}" for n in range(70)]
    products = [product_factory(name=name) for name in ("수분 크림", "선크림", "립밤")]
    for product, count in zip(products, (70, 40, 33), strict=True):
        review_factory(product, texts[:count])
    # 70 + 40 + 33 reviews in batches of 32.
    batches = dict(zip(products, (3, 2, 2), strict=True))
    settings.SENTIMENT_LAMBDA_CONCURRENCY = 3
    fanned_ids: list[str] = []
    fanned_server = lambda_server(handler=recording(fanned_ids), delay_s=LATENCY_S)

    fanned = services.sentiment_analyze(trigger="command", min_reviews=33)

    fanned_rows = stored_rows()
    ProductSentiment.objects.all().delete()
    settings.SENTIMENT_LAMBDA_CONCURRENCY = 1
    sequential_ids: list[str] = []
    sequential_server = lambda_server(handler=recording(sequential_ids), delay_s=LATENCY_S)

    sequential = services.sentiment_analyze(trigger="command", min_reviews=33)

    assert (fanned_server.max_in_flight, fanned_server.invocations) == (3, 7)
    assert (sequential_server.max_in_flight, sequential_server.invocations) == (1, 7)
    assert sorted(fanned_ids) == sorted(batch_ids(fanned, batches))
    assert sequential_ids == batch_ids(sequential, batches)
    assert fanned.counts == sequential.counts == {"products": 3, "invocations": 7, "reviews": 143, "stored": 3}
    assert set(fanned_rows) == {product.id for product in products}
    assert fanned_rows == stored_rows()


def test_a_failing_batch_sends_nothing_more_and_the_run_ends_after_those_in_flight(
    lambda_server, settings, product_factory, review_factory
):
    first, second = product_factory(name="수분 크림"), product_factory(name="선크림")
    review_factory(first, ["배송이 빨라서 좋았어요"] * 64)
    review_factory(second, ["너무 실망했어요"] * 33)
    settings.SENTIMENT_LAMBDA_CONCURRENCY = 2
    answered: list[str] = []

    def handler(event, context):
        if event["batch_id"].endswith(f"{first.id}:0"):
            raise MemoryError("Runtime exited with error: signal: killed")
        time.sleep(1)  # the other batch is still running when the failure comes back
        answer = lambda_handler(event, context)
        answered.append(event["batch_id"])
        return answer

    server = lambda_server(handler=handler)

    with pytest.raises(SentimentFunctionError) as raised:
        services.sentiment_analyze(trigger="schedule", min_reviews=33)
    finished = list(answered)

    run = JobRun.objects.get()
    message = "c4ang-sentiment failed (Unhandled): MemoryError: Runtime exited with error: signal: killed"
    assert raised.value.message == message
    assert (run.status, run.message) == (JobRun.Status.FAILED, f"SentimentFunctionError: {message}")
    # Both of the first product's batches went out together; the second product's were never sent,
    # and the run ended only after the batch in flight had its answer (dropped).
    assert run.counts == {"products": 2, "invocations": 2}
    assert server.invocations == 2
    assert finished == [f"{run.pk}:{first.id}:1"]
    assert not ProductSentiment.objects.exists()
    assert cache.get("jobs:lock:weekly_sentiment_analysis") is None


def test_the_local_backend_scores_one_batch_at_a_time_in_this_process(
    settings, tiny_sentiment_model, product_factory, review_factory, monkeypatch
):
    settings.SENTIMENT_BACKEND = "local"
    settings.SENTIMENT_MODEL = str(tiny_sentiment_model)
    settings.SENTIMENT_LAMBDA_CONCURRENCY = 8
    review_factory(product_factory(name="수분 크림"), ["배송이 빨라서 좋았어요"] * 96)
    handle = sentiment_handler.handle
    scoring, most = [], []

    def one_more(event, *, model_name):
        scoring.append(event["batch_id"])
        most.append(len(scoring))
        time.sleep(LATENCY_S)  # time for a second batch to start, if one were sent alongside
        try:
            return handle(event, model_name=model_name)
        finally:
            scoring.remove(event["batch_id"])

    monkeypatch.setattr(sentiment_handler, "handle", one_more)

    run = services.sentiment_analyze(trigger="command", min_reviews=96)

    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts["invocations"] == 3
    assert most == [1, 1, 1]
    assert ProductSentiment.objects.get().model_name == str(tiny_sentiment_model)


def test_each_invoke_runs_in_the_job_s_context(lambda_endpoint, product_factory, review_factory, monkeypatch):
    # Where OpenTelemetry keeps the current span: the botocore span of an invoke is the job's child only if
    # the pool thread runs in the job's context.
    review_factory(product_factory(name="수분 크림"), ["배송이 빨라서 좋았어요"] * 96)
    score = backends.LambdaScorer.score
    seen = []

    def score_and_look(self, **batch):
        seen.append(otel_context.get_value("job"))
        return score(self, **batch)

    monkeypatch.setattr(backends.LambdaScorer, "score", score_and_look)
    token = otel_context.attach(otel_context.set_value("job", "weekly_sentiment_analysis"))
    try:
        run = services.sentiment_analyze(trigger="schedule", min_reviews=96)
    finally:
        otel_context.detach(token)

    assert run.status == JobRun.Status.SUCCEEDED
    assert seen == ["weekly_sentiment_analysis"] * 3


def test_the_client_keeps_a_connection_for_each_invoke_in_flight(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    settings.SENTIMENT_BACKEND = "lambda"
    settings.SENTIMENT_LAMBDA_CONCURRENCY = 24

    scorer = backends.scorer_from_settings()

    assert scorer.concurrency == 24
    assert scorer.client.meta.config.max_pool_connections == 24


@pytest.mark.parametrize("value", ["0", "-2"])
def test_a_concurrency_below_one_is_refused_at_start_up(value):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "c4ang.settings", "SENTIMENT_LAMBDA_CONCURRENCY": value},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert f"SENTIMENT_LAMBDA_CONCURRENCY must be 1 or more, got {value}" in result.stderr
