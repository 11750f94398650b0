"""Writes of the recommendations module: the daily recommendation pipeline (README, Jobs)."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from c4ang.jobs import JobContext, JobSkipped, job_run
from c4ang.models import JobRun
from orders import selectors as order_selectors
from products import selectors as product_selectors
from recommendations import cache, ranking
from recommendations.models import Recommendation

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
            raise JobSkipped(f"No purchases on {yesterday}: the recommendations in place are kept.")

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


def recommendations_store(*, ranked: ranking.Ranking, on_progress: Callable[[int], object] = lambda done: None) -> int:
    """Upsert one row per ranked product and drop the rows of products no longer ranked (no
    longer for sale); then, once committed, refresh the cache the API reads. Returns rows stored."""
    generated_at = timezone.now()
    rows = [
        Recommendation(
            product_id=UUID(product_id),
            recommended_product_ids=[candidate for candidate, _ in best],
            scores=[candidate_score for _, candidate_score in best],
            algorithm=ranking.ALGORITHM,
            created_at=generated_at,
        )
        for product_id, best in ranked.items()
    ]
    with transaction.atomic():
        for start in range(0, len(rows), STORE_BATCH):
            batch = rows[start : start + STORE_BATCH]
            Recommendation.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["product"],
                update_fields=["recommended_product_ids", "scores", "algorithm", "created_at"],
            )
            on_progress(len(batch))
        stale = Recommendation.objects.filter(created_at__lt=generated_at)
        stale_ids = list(stale.values_list("product_id", flat=True))
        stale.delete()
        entries = {
            row.product_id: cache.entry(
                product_ids=row.recommended_product_ids,
                scores=row.scores,
                algorithm=ranking.ALGORITHM,
                generated_at=generated_at.isoformat(),
            )
            for row in rows
        }
        transaction.on_commit(partial(_cache_refresh, entries=entries, stale_ids=stale_ids))
    return len(rows)


def _cache_refresh(*, entries: dict[UUID, dict], stale_ids: list[UUID]) -> None:
    cache.entries_set(entries)
    cache.entries_delete(stale_ids)
