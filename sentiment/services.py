"""Writes of the sentiment module: the weekly review sentiment analysis (README, Jobs)."""

import contextvars
import itertools
import logging
import math
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from c4ang.jobs import JobContext, JobSkipped, job_run
from c4ang.models import JobRun
from products import selectors as product_selectors
from products import services as product_services
from sentiment import backends, selectors
from sentiment.models import ProductSentiment

logger = logging.getLogger(__name__)

JOB = "weekly_sentiment_analysis"
# Why the job skips a run (c4ang.jobs, registered in SentimentConfig.ready).
NOTHING_TO_ANALYSE = "nothing_to_analyse"
JOB_REASONS = {
    NOTHING_TO_ANALYSE: gettext_lazy(
        "No product has %(min_reviews)s or more approved reviews from the last %(window_days)s days and no "
        "analysis in that time."
    )
}


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
            raise JobSkipped(NOTHING_TO_ANALYSE, min_reviews=min_reviews, window_days=window_days)

    results: dict[UUID, tuple[list[float], str]] = {}
    with ctx.step("analyze_sentiment_batch", total=sum(count for _, count in selected)) as bar:
        scorer = backends.scorer_from_settings()
        # Batches come back in any order: each product's scores are put together in its reviews' order.
        answers: dict[UUID, dict[int, backends.Scores]] = {}

        def scored(batch: _Batch, answer: backends.Scores) -> None:
            answers.setdefault(batch.product_id, {})[batch.index] = answer
            bar.update(len(batch.reviews))

        batches = _batches(selected, since=since, batch_size=settings.SENTIMENT_BATCH_SIZE)
        _score_batches(ctx, scorer, batches, on_scored=scored)
        for product_id, _ in selected:
            if parts := answers.get(product_id):
                ordered = [parts[index] for index in range(len(parts))]
                results[product_id] = ([score for part in ordered for score in part.sentiments], ordered[-1].model)
        ctx.count(reviews=sum(len(scores) for scores, _ in results.values()))

    with ctx.step("store_sentiment_results"):
        ctx.count(stored=sentiment_store(results=results, analyzed_at=now))


@dataclass(frozen=True)
class _Batch:
    product_id: UUID
    index: int
    reviews: list[str]


def _batches(selected: list[tuple[UUID, int]], *, since: datetime, batch_size: int) -> Iterator[_Batch]:
    """Each product's reviews in batches; a product's reviews are read only when its batches are due."""
    for product_id, _ in selected:
        reviews = product_selectors.review_contents(product_id=product_id, since=since)
        for index, start in enumerate(range(0, len(reviews), batch_size)):
            yield _Batch(product_id=product_id, index=index, reviews=reviews[start : start + batch_size])


def _score_batches(
    ctx: JobContext,
    scorer: backends.Scorer,
    batches: Iterator[_Batch],
    *,
    on_scored: Callable[[_Batch, backends.Scores], None],
) -> None:
    """Score every batch once, at most `scorer.concurrency` at a time, each on a thread of a pool.

    The threads only wait on the scorer; the batches are read, and the answers handed to `on_scored`,
    in this thread (the one with the database connection). The first failure ends it: no further
    batch is sent, the ones in flight are waited for and their answers dropped (a sent invoke
    cannot be called back, and none may outlive the run and its lock), then that failure is raised.
    """
    in_flight: dict[Future[backends.Scores], _Batch] = {}
    sent = 0
    try:
        with ThreadPoolExecutor(max_workers=scorer.concurrency, thread_name_prefix="sentiment-invoke") as pool:
            while True:
                for batch in itertools.islice(batches, scorer.concurrency - len(in_flight)):
                    # Names the batch in the function's logs; scoring is pure, so a batch sent twice is harmless.
                    batch_id = f"{ctx.run.pk}:{batch.product_id}:{batch.index}"
                    # In the job's context (its trace, for the botocore span): a pool thread starts without it.
                    in_context = contextvars.copy_context().run
                    in_flight[pool.submit(in_context, scorer.score, reviews=batch.reviews, batch_id=batch_id)] = batch
                    sent += 1
                if not in_flight:
                    return
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in [future for future in in_flight if future in done]:  # in the order sent
                    batch = in_flight.pop(future)
                    if error := future.exception():
                        logger.error(
                            "sentiment batch failed; no further batch is sent, those in flight are waited for",
                            extra={
                                "run_id": str(ctx.run.pk),
                                "product_id": str(batch.product_id),
                                "batch": batch.index,
                                "in_flight": len(in_flight),
                            },
                        )
                        raise error
                    on_scored(batch, future.result())
    finally:
        ctx.count(invocations=sent)


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
