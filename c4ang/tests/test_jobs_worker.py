"""Both jobs end to end through the real broker: a Celery worker process consumes them from Redis
and runs them against the test database (never eager mode), as beat would have them run."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from c4ang.models import JobRun
from orders.models import Order, OrderItem, OrderStatus
from products.models import Category, Product, Review
from recommendations.models import Recommendation
from recommendations.tasks import daily_recommendation_pipeline
from sentiment.models import ProductSentiment
from sentiment.tasks import weekly_sentiment_analysis

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
# One process, nothing but the queue: no heartbeats, gossip or start-up sync with other workers.
QUIET_WORKER = ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]


def shared_database_url() -> str:
    """The test database pytest-django created, as a URL another process can use."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tiny_sentiment_model):
    """A real `celery worker` on its own queue; yields (queue, process), stopped after the test."""
    queue = f"test-jobs-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "SENTIMENT_BACKEND": "local",
        "SENTIMENT_MODEL": str(tiny_sentiment_model),
        "SENTIMENT_MIN_REVIEWS": "3",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "c4ang", "worker", "--pool", "solo", "--queues", queue, *QUIET_WORKER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue, process
    process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def finished_run(job: str, process: subprocess.Popen, deadline_s: float = 120) -> JobRun:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        run = JobRun.objects.filter(job=job).exclude(status=JobRun.Status.RUNNING).first()
        if run:
            return run
        if process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{process.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError(f"{job} did not finish within {deadline_s}s")


def test_a_worker_runs_both_jobs_from_the_redis_broker(worker, customer_factory, tiny_sentiment_model):
    queue, process = worker
    category = Category.objects.create(name="뷰티")
    cream, toner = (
        Product.objects.create(name=name, category=category, brand="라네즈", price=Decimal("25000"), stock=5)
        for name in ("수분 크림", "토너")
    )
    reviewers = [customer_factory() for _ in range(3)]
    order = Order.objects.create(customer=reviewers[0], total_amount=Decimal("25000"), status=OrderStatus.PAID)
    OrderItem.objects.create(order=order, product=cream, quantity=1, price=Decimal("25000"))
    yesterday = timezone.now() - timedelta(days=1)
    Order.objects.filter(pk=order.pk).update(created_at=yesterday)
    OrderItem.objects.filter(order=order).update(created_at=yesterday)
    for reviewer, text in zip(
        reviewers, ["배송이 빨라서 좋았어요", "너무 실망했어요", "포장이 꼼꼼했어요"], strict=True
    ):
        Review.objects.create(product=toner, customer=reviewer, rating=4, content=text)

    assert not daily_recommendation_pipeline.app.conf.task_always_eager
    daily_recommendation_pipeline.apply_async(queue=queue)
    weekly_sentiment_analysis.apply_async(queue=queue)

    recommendations_run = finished_run("daily_recommendation_pipeline", process)
    sentiment_run = finished_run("weekly_sentiment_analysis", process)
    assert (recommendations_run.status, recommendations_run.trigger) == (JobRun.Status.SUCCEEDED, "schedule")
    assert (sentiment_run.status, sentiment_run.trigger) == (JobRun.Status.SUCCEEDED, "schedule")
    assert Recommendation.objects.get(product=cream).recommended_product_ids == [str(toner.id)]
    sentiment = ProductSentiment.objects.get(product=toner)
    assert (sentiment.review_count, sentiment.model_name) == (3, str(tiny_sentiment_model))
