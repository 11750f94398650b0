"""Both jobs end to end through the real broker: a Celery worker process consumes them from Redis
and runs them against the test database (never eager mode), as beat would have them run."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from c4ang.models import JobRun
from conftest import ChildProcess
from orders.models import Order, OrderItem, OrderStatus
from orders.tests.factories import OrderFactory, OrderItemFactory
from products.tests.factories import ProductFactory, ReviewFactory
from recommendations.models import Recommendation
from recommendations.tasks import daily_recommendation_pipeline
from sentiment.models import ProductSentiment
from sentiment.tasks import weekly_sentiment_analysis

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def worker(celery_worker, tiny_sentiment_model):
    """A real `celery worker` that runs the jobs: (queue, worker)."""
    return celery_worker(
        {"SENTIMENT_BACKEND": "local", "SENTIMENT_MODEL": str(tiny_sentiment_model), "SENTIMENT_MIN_REVIEWS": "3"}
    )


def finished_run(job: str, worker: ChildProcess, deadline_s: float = 120) -> JobRun:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        run = JobRun.objects.filter(job=job).exclude(status=JobRun.Status.RUNNING).first()
        if run:
            return run
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{worker.output()}")
        time.sleep(0.2)
    raise AssertionError(f"{job} did not finish within {deadline_s}s")


def test_a_worker_runs_both_jobs_from_the_redis_broker(worker, customer_factory, tiny_sentiment_model):
    queue, celery = worker
    cream, toner = (
        ProductFactory(name=name, category__name="뷰티", brand="라네즈", price=Decimal("25000"), stock=5)
        for name in ("수분 크림", "토너")
    )
    reviewers = [customer_factory() for _ in range(3)]
    order = OrderFactory(customer=reviewers[0], items_amount=Decimal("25000"), status=OrderStatus.PAID)
    OrderItemFactory(order=order, product=cream)
    yesterday = timezone.now() - timedelta(days=1)
    Order.objects.filter(pk=order.pk).update(created_at=yesterday)
    OrderItem.objects.filter(order=order).update(created_at=yesterday)
    for reviewer, text in zip(
        reviewers, ["배송이 빨라서 좋았어요", "너무 실망했어요", "포장이 꼼꼼했어요"], strict=True
    ):
        ReviewFactory(product=toner, customer=reviewer, rating=4, content=text)

    assert not daily_recommendation_pipeline.app.conf.task_always_eager
    daily_recommendation_pipeline.apply_async(queue=queue)
    weekly_sentiment_analysis.apply_async(queue=queue)

    recommendations_run = finished_run("daily_recommendation_pipeline", celery)
    sentiment_run = finished_run("weekly_sentiment_analysis", celery)
    assert (recommendations_run.status, recommendations_run.trigger) == (JobRun.Status.SUCCEEDED, "schedule")
    assert (sentiment_run.status, sentiment_run.trigger) == (JobRun.Status.SUCCEEDED, "schedule")
    assert Recommendation.objects.get(product=cream).recommended_product_ids == [str(toner.id)]
    sentiment = ProductSentiment.objects.get(product=toner)
    assert (sentiment.review_count, sentiment.model_name) == (3, str(tiny_sentiment_model))
