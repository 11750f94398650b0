"""daily_recommendation_pipeline on a small catalog whose results are worked out by hand."""

from datetime import date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from c4ang.models import JobRun
from orders.models import OrderStatus
from recommendations import services
from recommendations.models import Recommendation
from recommendations.tests.factories import RecommendationFactory

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 11, 20)
YESTERDAY_NOON = datetime(2026, 11, 19, 12, 0, tzinfo=SEOUL)
STEPS = ["quality_check", "calculate_metrics", "calculate_similarity", "hybrid_integration", "store_recommendations"]


@pytest.fixture
def shop(product_factory, buy):
    """Five products for sale and one hidden; nine purchases in the 30-day window:
    phone 3, tablet 0, tv 1, hoodie 0, sneakers 5 -> popularity (n + 5) / (9 + 50)."""
    shop = {
        "phone": product_factory(name="갤럭시 폰", category__name="전자제품", brand="삼성"),
        "tablet": product_factory(name="갤럭시 탭", category__name="전자제품", brand="삼성"),
        "tv": product_factory(name="올레드 TV", category__name="전자제품", brand="LG"),
        "hoodie": product_factory(name="삼성 후드티", category__name="패션", brand="삼성"),
        "sneakers": product_factory(name="에어 운동화", category__name="패션", brand="나이키"),
        "old_phone": product_factory(name="단종 폰", category__name="전자제품", brand="삼성", is_active=False),
    }
    buy(shop["phone"], at=YESTERDAY_NOON)
    buy(shop["phone"], at=YESTERDAY_NOON - timedelta(days=3), status=OrderStatus.SHIPPED)
    buy(shop["phone"], at=datetime(2026, 10, 21, 0, 0, tzinfo=SEOUL), status=OrderStatus.DELIVERED)  # first window day
    buy(shop["tv"], at=YESTERDAY_NOON - timedelta(days=10))
    for days in range(5):
        buy(shop["sneakers"], at=YESTERDAY_NOON - timedelta(days=days + 1))
    # Not purchases of the window: cancelled, unpaid, before the window, after yesterday.
    buy(shop["tablet"], at=YESTERDAY_NOON, status=OrderStatus.CANCELLED)
    buy(shop["hoodie"], at=YESTERDAY_NOON, status=OrderStatus.PENDING)
    buy(shop["tablet"], at=datetime(2026, 10, 20, 23, 59, tzinfo=SEOUL))
    buy(shop["tablet"], at=datetime(2026, 11, 20, 0, 0, tzinfo=SEOUL))
    return shop


def ids(*products) -> list[str]:
    return [str(product.id) for product in products]


def test_recommendations_by_tier_then_popularity(shop):
    run = services.recommendations_generate(trigger="command", today=TODAY)

    assert run.status == JobRun.Status.SUCCEEDED
    assert [step["step"] for step in run.step_durations] == STEPS
    assert run.counts == {
        "purchases_yesterday": 1,
        "products": 5,
        "purchases_in_window": 9,
        "category_brand_groups": 4,
        "recommendations": 5,
    }
    rows = {row.product_id: row for row in Recommendation.objects.all()}
    assert set(rows) == {shop[name].id for name in ("phone", "tablet", "tv", "hoodie", "sneakers")}

    phone = rows[shop["phone"].id]
    # tablet: same category and brand; tv and hoodie: one of the two (tv more popular); sneakers: neither.
    assert phone.recommended_product_ids == ids(shop["tablet"], shop["tv"], shop["hoodie"], shop["sneakers"])
    assert phone.scores == pytest.approx([0.7 + 0.3 * 5 / 59, 0.35 + 0.3 * 6 / 59, 0.35 + 0.3 * 5 / 59, 0.3 * 10 / 59])
    assert phone.algorithm == "hybrid-content70-popularity30"

    sneakers = rows[shop["sneakers"].id]
    assert sneakers.recommended_product_ids == ids(shop["hoodie"], shop["phone"], shop["tv"], shop["tablet"])
    assert sneakers.scores == pytest.approx([0.35 + 0.3 * 5 / 59, 0.3 * 8 / 59, 0.3 * 6 / 59, 0.3 * 5 / 59])

    assert rows[shop["tv"].id].recommended_product_ids == ids(
        shop["phone"], shop["tablet"], shop["sneakers"], shop["hoodie"]
    )


def test_skipped_when_yesterday_had_no_purchases_and_earlier_results_are_kept(product_factory, buy):
    phone = product_factory(name="갤럭시 폰", category__name="전자제품", brand="삼성")
    tablet = product_factory(name="갤럭시 탭", category__name="전자제품", brand="삼성")
    buy(phone, at=YESTERDAY_NOON - timedelta(days=1))
    buy(tablet, at=YESTERDAY_NOON, status=OrderStatus.CANCELLED)
    earlier = RecommendationFactory(product=phone, recommended=[tablet], scores=[0.9], algorithm="old")

    run = services.recommendations_generate(trigger="schedule", today=TODAY)

    assert run.status == JobRun.Status.SKIPPED
    assert (run.reason, run.reason_params) == (services.NO_PURCHASES, {"day": "2026-11-19"})
    assert run.message == "No purchases on 2026-11-19: the recommendations in place are kept."
    with translation.override("ko"):
        assert run.message == "2026-11-19에는 구매가 없어 기존 추천을 그대로 둡니다."
    assert run.counts == {"purchases_yesterday": 0}
    assert [step["step"] for step in run.step_durations] == ["quality_check"]
    kept = Recommendation.objects.get()
    assert (kept.recommended_product_ids, kept.scores, kept.algorithm, kept.created_at) == (
        earlier.recommended_product_ids,
        earlier.scores,
        "old",
        earlier.created_at,
    )


def test_stores_then_refreshes_the_cache_and_drops_products_no_longer_for_sale(
    shop, django_capture_on_commit_callbacks
):
    gone = RecommendationFactory(product=shop["old_phone"], algorithm="old")
    cache.set(f"recommendations:product:{gone.product_id}", {"stale": True})

    with django_capture_on_commit_callbacks(execute=True):
        services.recommendations_generate(trigger="command", today=TODAY)

    assert not Recommendation.objects.filter(product=shop["old_phone"]).exists()
    assert cache.get(f"recommendations:product:{shop['old_phone'].id}") is None
    cached = cache.get(f"recommendations:product:{shop['phone'].id}")
    stored = Recommendation.objects.get(product=shop["phone"])
    assert cached == {
        "product_ids": stored.recommended_product_ids,
        "scores": stored.scores,
        "algorithm": "hybrid-content70-popularity30",
        "generated_at": stored.created_at.isoformat(),
    }


def test_the_cache_is_refreshed_only_after_commit(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.recommendations_generate(trigger="command", today=TODAY)

    assert len(callbacks) == 1
    assert cache.get(f"recommendations:product:{shop['phone'].id}") is None


def test_a_re_run_gives_the_same_recommendations(shop):
    services.recommendations_generate(trigger="schedule", today=TODAY)
    first = {row.product_id: (row.recommended_product_ids, row.scores) for row in Recommendation.objects.all()}

    run = services.recommendations_generate(trigger="command", today=TODAY)

    assert run.status == JobRun.Status.SUCCEEDED
    assert {row.product_id: (row.recommended_product_ids, row.scores) for row in Recommendation.objects.all()} == first
    assert JobRun.objects.filter(job="daily_recommendation_pipeline", status=JobRun.Status.SUCCEEDED).count() == 2


def test_never_runs_while_another_run_holds_the_lock(shop):
    cache.add("jobs:lock:daily_recommendation_pipeline", uuid4().hex)

    run = services.recommendations_generate(trigger="schedule", today=TODAY)

    assert run.status == JobRun.Status.SKIPPED
    assert run.message == "daily_recommendation_pipeline was already running: this run was skipped."
    assert not Recommendation.objects.exists()


def test_the_command_runs_it_now_and_reports(shop, capsys):
    call_command("run_recommendations", "--date", "2026-11-20")

    output = capsys.readouterr().out
    assert "daily_recommendation_pipeline SUCCEEDED" in output
    assert "hybrid_integration" in output
    assert "recommendations=5" in output
    assert Recommendation.objects.count() == 5


def test_the_beat_task_runs_the_pipeline(shop):
    from recommendations.tasks import daily_recommendation_pipeline

    # .apply() runs the task in this process. It runs as of the real today: the shop's purchases are older.
    assert daily_recommendation_pipeline.apply().get() == JobRun.Status.SKIPPED

    assert JobRun.objects.get().trigger == "schedule"
