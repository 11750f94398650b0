import json
import threading
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from customers.models import Customer, User
from products.models import Category, Product, Review
from sentiment.lambda_function.handler import lambda_handler
from sentiment.lambda_function.local_server import LambdaApiServer

INVOKE_PATH = "/2015-03-31/functions/c4ang-sentiment/invocations"


@pytest.fixture
def product_factory(db):
    def make(name: str, *, is_active: bool = True) -> Product:
        category, _ = Category.objects.get_or_create(name="뷰티")
        return Product.objects.create(
            name=name, category=category, brand="라네즈", price=Decimal("25000"), stock=10, is_active=is_active
        )

    return make


@pytest.fixture
def review_factory(db):
    """Reviews of a product by as many new customers, created at `at` (default now)."""

    def make(product: Product, texts: list[str], *, at: datetime | None = None, status=Review.Status.APPROVED):
        users = User.objects.bulk_create([User(email=f"{uuid.uuid4().hex}@example.kr") for _ in texts])
        customers = Customer.objects.bulk_create(
            [Customer(user=user, email=user.email, name="리뷰어") for user in users]
        )
        reviews = Review.objects.bulk_create(
            [
                Review(product=product, customer=customer, rating=3, content=text, status=status)
                for customer, text in zip(customers, texts, strict=True)
            ]
        )
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
def lambda_endpoint(tiny_sentiment_model, settings, monkeypatch):
    """The local Lambda Invoke API running the real handler with the tiny model, reached through boto3."""
    monkeypatch.setenv("SENTIMENT_MODEL", str(tiny_sentiment_model))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    server = LambdaApiServer(("127.0.0.1", 0), function_name="c4ang-sentiment", handler=lambda_handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SENTIMENT_BACKEND = "lambda"
    settings.SENTIMENT_LAMBDA_ENDPOINT_URL = server.url
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
