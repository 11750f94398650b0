"""Writes of the sentiment module: the weekly review sentiment analysis (README, Jobs)."""

import math
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from c4ang.jobs import JobContext, JobSkipped, job_run
from c4ang.models import JobRun
from products import selectors as product_selectors
from products import services as product_services
from sentiment import backends, selectors
from sentiment.models import ProductSentiment

JOB = "weekly_sentiment_analysis"


def sentiment_analyze(
    *,
    trigger: str,
    progress: bool = False,
    min_reviews: int | None = None,
    window_days: int | None = None,
    max_products: int | None = None,
) -> JobRun:
    """Run the weekly review sentiment analysis now, under the job lock; returns the run record.

    The numbers default to settings (100 reviews, 30 days, 10 products). Skipped when no product
    qualifies; failed, with every earlier result left as it was, when the model or the function fails.
    """
    body = partial(
        _pipeline,
        min_reviews=settings.SENTIMENT_MIN_REVIEWS if min_reviews is None else min_reviews,
        window_days=settings.SENTIMENT_WINDOW_DAYS if window_days is None else window_days,
        max_products=settings.SENTIMENT_MAX_PRODUCTS if max_products is None else max_products,
    )
    return job_run(job=JOB, trigger=trigger, progress=progress, body=body)


def sentiment_summary(scores: list[float]) -> tuple[float, float, float]:
    """(positive ratio, negative ratio, average): scores of exactly 0 are neither positive nor negative."""
    return (
        sum(score > 0 for score in scores) / len(scores),
        sum(score < 0 for score in scores) / len(scores),
        math.fsum(scores) / len(scores),
    )


def _pipeline(ctx: JobContext, *, min_reviews: int, window_days: int, max_products: int) -> None:
    now = timezone.now()
    since = now - timedelta(days=window_days)

    with ctx.step("select_products"):
        selected = product_selectors.review_counts_by_product(
            since=since,
            min_reviews=min_reviews,
            exclude_product_ids=selectors.product_ids_analysed_since(since=since),
            limit=max_products,
        )
        ctx.count(products=len(selected))
        if not selected:
            raise JobSkipped(
                f"No product has {min_reviews} or more approved reviews from the last {window_days} days "
                "and no analysis in that time."
            )

    batch_size = settings.SENTIMENT_BATCH_SIZE
    results: dict[UUID, tuple[list[float], str]] = {}
    with ctx.step("analyze_sentiment_batch", total=sum(count for _, count in selected)) as bar:
        scorer = backends.scorer_from_settings()
        invocations = 0
        for product_id, _ in selected:
            reviews = product_selectors.review_contents(product_id=product_id, since=since)
            scores: list[float] = []
            for start in range(0, len(reviews), batch_size):
                batch = reviews[start : start + batch_size]
                # Names the batch in the function's logs; scoring is pure, so a batch sent twice is harmless.
                answer = scorer.score(reviews=batch, batch_id=f"{ctx.run.pk}:{product_id}:{start // batch_size}")
                scores += answer.sentiments
                invocations += 1
                bar.update(len(batch))
            if scores:
                results[product_id] = (scores, answer.model)
        ctx.count(reviews=sum(len(scores) for scores, _ in results.values()), invocations=invocations)

    with ctx.step("store_sentiment_results"):
        ctx.count(stored=sentiment_store(results=results, analyzed_at=now))


def sentiment_store(*, results: dict[UUID, tuple[list[float], str]], analyzed_at: datetime) -> int:
    """Upsert the sentiment of each product from its review scores and the model that gave them."""
    rows = []
    for product_id, (scores, model) in results.items():
        positive, negative, average = sentiment_summary(scores)
        rows.append(
            ProductSentiment(
                product_id=product_id,
                positive_ratio=positive,
                negative_ratio=negative,
                avg_sentiment=average,
                review_count=len(scores),
                model_name=model[:200],
                analyzed_at=analyzed_at,
            )
        )
    with transaction.atomic():
        ProductSentiment.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["product"],
            update_fields=[
                "positive_ratio",
                "negative_ratio",
                "avg_sentiment",
                "review_count",
                "model_name",
                "analyzed_at",
            ],
        )
        # The product detail shows the summary: its cached copy must not outlive the new one.
        product_services.catalog_cache_invalidate(product_ids=list(results))
    return len(rows)
