"""Writes of the recommendations module: the daily recommendation pipeline (README, Jobs)."""

import itertools
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from c4ang.jobs import JobContext, JobSkipped, job_run
from c4ang.models import JobRun
from orders import selectors as order_selectors
from products import selectors as product_selectors
from recommendations import cache, ranking
from recommendations.models import Recommendation

# Why the job skips a run (c4ang.jobs, registered in RecommendationsConfig.ready).
NO_PURCHASES = "no_purchases"
JOB_REASONS = {NO_PURCHASES: _("No purchases on %(day)s: the recommendations in place are kept.")}

JOB = "daily_recommendation_pipeline"
STORE_BATCH = 2000


def recommendations_generate(*, trigger: str, progress: bool = False, today: date | None = None) -> JobRun:
    """Run the daily recommendation pipeline now, under the job lock, as of `today` (default: the
    shop's today); returns the run record. Skipped when yesterday had no purchases."""
    today = today or timezone.localdate()
    return job_run(job=JOB, trigger=trigger, progress=progress, body=partial(_pipeline, today=today))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _pipeline(ctx: JobContext, *, today: date) -> None:
    midnight = _day_start(today)
    yesterday = today - timedelta(days=1)

    with ctx.step("quality_check"):
        purchases_yesterday = order_selectors.purchase_count(since=_day_start(yesterday), until=midnight)
        ctx.count(purchases_yesterday=purchases_yesterday)
        if not purchases_yesterday:
            raise JobSkipped(NO_PURCHASES, day=yesterday.isoformat())

    with ctx.step("calculate_metrics"):
        window_start = _day_start(today - timedelta(days=settings.RECOMMENDATIONS_WINDOW_DAYS))
        purchases = order_selectors.purchase_counts_by_product(since=window_start, until=midnight)
        total = sum(purchases.values())
        products = [
            ranking.RankedProduct(
                id=str(product_id),
                category=str(category_id),
                brand=brand,
                popularity=ranking.popularity(purchases.get(product_id, 0), total),
            )
            for product_id, category_id, brand in product_selectors.product_ranking_attributes()
        ]
        ctx.count(products=len(products), purchases_in_window=total)

    with ctx.step("calculate_similarity"):
        tiers = ranking.SimilarityTiers(products)
        ctx.count(category_brand_groups=len(tiers.groups))

    with ctx.step("hybrid_integration", total=len(products)) as bar:
        top = ranking.top_grouped(tiers, on_progress=bar.update)

    with ctx.step("store_recommendations", total=len(top)) as bar:
        ctx.count(recommendations=recommendations_store(ranked=top, on_progress=bar.update))


def recommendations_store(
    *, ranked: ranking.CompactRanking, on_progress: Callable[[int], object] = lambda done: None
) -> int:
    """Upsert one row per ranked product and drop the rows of products no longer ranked (no
    longer for sale); then, once committed, refresh the cache the API reads. Returns rows stored.

    The rows are streamed from the compact ranking, never all built at once: on PostgreSQL COPYed
    into a staging table and merged with one INSERT ... ON CONFLICT (its fast paths for bulk
    writes), elsewhere upserted in batches."""
    generated_at = timezone.now()
    rows = (
        (product_id, [candidate for candidate, _ in best], [candidate_score for _, candidate_score in best])
        for product_id, best in ranked.items()
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _upsert_copied(rows, generated_at, on_progress)
        else:
            _upsert_batched(rows, generated_at, on_progress)
        stale = Recommendation.objects.filter(created_at__lt=generated_at)
        stale_ids = list(stale.values_list("product_id", flat=True))
        stale.delete()
        transaction.on_commit(
            partial(_cache_refresh, ranked=ranked, generated_at=generated_at.isoformat(), stale_ids=stale_ids)
        )
    return len(ranked)


Row = tuple[str, list[str], list[float]]  # product id, recommended ids, their scores

# The table is Recommendation's (db_table "recommendations"); the staging copy lives for the transaction.
_STAGING = "CREATE TEMPORARY TABLE recommendations_staging (LIKE recommendations) ON COMMIT DROP"
_COPY = "COPY recommendations_staging (product_id, recommended_product_ids, scores, algorithm, created_at) FROM STDIN"
_MERGE = """
    INSERT INTO recommendations (product_id, recommended_product_ids, scores, algorithm, created_at)
    SELECT product_id, recommended_product_ids, scores, algorithm, created_at FROM recommendations_staging
    ON CONFLICT (product_id) DO UPDATE SET
        recommended_product_ids = EXCLUDED.recommended_product_ids,
        scores = EXCLUDED.scores,
        algorithm = EXCLUDED.algorithm,
        created_at = EXCLUDED.created_at
"""


def _upsert_copied(rows: Iterable[Row], generated_at: datetime, on_progress: Callable[[int], object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_STAGING)
        done = 0
        with cursor.copy(_COPY) as copy:
            for done, (product_id, candidates, scores) in enumerate(rows, start=1):
                copy.write_row(
                    (product_id, json.dumps(candidates), json.dumps(scores), ranking.ALGORITHM, generated_at)
                )
                if done % STORE_BATCH == 0:
                    on_progress(STORE_BATCH)
        on_progress(done % STORE_BATCH)
        cursor.execute(_MERGE)
        cursor.execute("DROP TABLE recommendations_staging")  # now: the transaction may be a caller's


def _upsert_batched(rows: Iterable[Row], generated_at: datetime, on_progress: Callable[[int], object]) -> None:
    rows = iter(rows)
    while batch := list(itertools.islice(rows, STORE_BATCH)):
        Recommendation.objects.bulk_create(
            [
                Recommendation(
                    product_id=UUID(product_id),
                    recommended_product_ids=candidates,
                    scores=scores,
                    algorithm=ranking.ALGORITHM,
                    created_at=generated_at,
                )
                for product_id, candidates, scores in batch
            ],
            update_conflicts=True,
            unique_fields=["product"],
            update_fields=["recommended_product_ids", "scores", "algorithm", "created_at"],
        )
        on_progress(len(batch))


def _cache_refresh(*, ranked: ranking.CompactRanking, generated_at: str, stale_ids: list[UUID]) -> None:
    """The API's copy, chunk by chunk (recommendations.cache), from the ranking just stored."""
    cache.entries_set(
        (
            product_id,
            cache.entry(
                product_ids=[candidate for candidate, _ in best],
                scores=[candidate_score for _, candidate_score in best],
                algorithm=ranking.ALGORITHM,
                generated_at=generated_at,
            ),
        )
        for product_id, best in ranked.items()
    )
    cache.entries_delete(stale_ids)
