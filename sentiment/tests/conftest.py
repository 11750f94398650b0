import json
import threading
from datetime import datetime

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from customers.models import Customer, User
from products.models import Product, Review
from products.tests.factories import ReviewFactory
from sentiment.lambda_function.handler import lambda_handler
from sentiment.lambda_function.local_server import LambdaApiServer

INVOKE_PATH = "/2015-03-31/functions/c4ang-sentiment/invocations"


@pytest.fixture
def review_factory(db):
    """Reviews of a product by as many new customers, created at `at` (default now). Built by ReviewFactory
    and written in one insert per table: the tests make hundreds."""

    def make(product: Product, texts: list[str], *, at: datetime | None = None, status=Review.Status.APPROVED):
        reviews = [
            ReviewFactory.build(product=product, content=text, status=status, customer__name="리뷰어") for text in texts
        ]
        User.objects.bulk_create([review.customer.user for review in reviews])
        Customer.objects.bulk_create([review.customer for review in reviews])
        Review.objects.bulk_create(reviews)
        Review.objects.filter(pk__in=[review.pk for review in reviews]).update(created_at=at or timezone.now())
        return reviews

    return make


@pytest.fixture
def fake_lambda(httpserver, settings, monkeypatch):
    """A stand-in for the deployed function, reached through boto3: scores each review by `scores`
    (0.5 for any other text); tests swap `answer` to make it fail. Requests are in httpserver.log."""
    settings.SENTIMENT_BACKEND = "lambda"
    settings.SENTIMENT_LAMBDA_ENDPOINT_URL = httpserver.url_for("/")
    settings.SENTIMENT_LAMBDA_BACKOFF_MS = 0
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")

    class Fake:
        scores: dict[str, float] = {}

        def answer(self, request: Request) -> Response:
            reviews = json.loads(request.data)["reviews"]
            body = {"sentiments": [self.scores.get(review, 0.5) for review in reviews], "model": "fake-model"}
            return Response(json.dumps(body), content_type="application/json")

    fake = Fake()
    httpserver.expect_request(INVOKE_PATH, method="POST").respond_with_handler(lambda request: fake.answer(request))
    return fake


@pytest.fixture
def lambda_server(tiny_sentiment_model, settings, monkeypatch):
    """Start the local Lambda Invoke API, reached through boto3 by the job: start(handler=..., delay_s=...)
    returns the server (the real handler with the tiny model unless told); the job uses the latest one."""
    monkeypatch.setenv("SENTIMENT_MODEL", str(tiny_sentiment_model))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    settings.SENTIMENT_BACKEND = "lambda"
    started: list[tuple[LambdaApiServer, threading.Thread]] = []

    def start(*, handler=lambda_handler, delay_s: float = 0.0) -> LambdaApiServer:
        server = LambdaApiServer(("127.0.0.1", 0), function_name="c4ang-sentiment", handler=handler, delay_s=delay_s)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        settings.SENTIMENT_LAMBDA_ENDPOINT_URL = server.url
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def lambda_endpoint(lambda_server):
    """The local Lambda Invoke API running the real handler with the tiny model, reached through boto3."""
    return lambda_server()
