"""weekly_sentiment_analysis: product selection, batches of 32, ratios, upsert, and failures that
leave earlier results as they were."""

import json
from datetime import timedelta
from uuid import uuid4

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from c4ang.models import JobRun
from products.models import Review
from sentiment import services
from sentiment.errors import SentimentFunctionError, SentimentModelUnavailable
from sentiment.models import ProductSentiment
from sentiment.tests.factories import ProductSentimentFactory

pytestmark = pytest.mark.django_db

STEPS = ["select_products", "analyze_sentiment_batch", "store_sentiment_results"]


def analysed(product, *, days_ago: int, avg: float = 0.1) -> ProductSentiment:
    return ProductSentimentFactory(
        product=product,
        negative_ratio=0.5,
        avg_sentiment=avg,
        review_count=7,
        model_name="earlier-model",
        analyzed_at=timezone.now() - timedelta(days=days_ago),
    )


def unchanged(row: ProductSentiment) -> bool:
    now = ProductSentiment.objects.get(pk=row.pk)
    fields = ("positive_ratio", "negative_ratio", "avg_sentiment", "review_count", "model_name", "analyzed_at")
    return all(getattr(now, field) == getattr(row, field) for field in fields)


def test_selects_products_with_100_recent_reviews_not_analysed_in_30_days(fake_lambda, product_factory, review_factory):
    now = timezone.now()
    over = product_factory(name="101개 리뷰")
    exactly = product_factory(name="100개 리뷰")
    below = product_factory(name="99개 리뷰")
    recently_done = product_factory(name="최근 분석")
    long_ago_done = product_factory(name="오래전 분석")
    pending_one = product_factory(name="승인 대기 포함")
    hidden = product_factory(name="판매 중지", is_active=False)
    review_factory(over, ["좋아요"] * 101, at=now - timedelta(days=29))
    review_factory(exactly, ["좋아요"] * 100, at=now - timedelta(days=1))
    review_factory(below, ["좋아요"] * 99, at=now - timedelta(days=1))
    review_factory(below, ["좋아요"] * 5, at=now - timedelta(days=31))  # outside the window
    review_factory(recently_done, ["좋아요"] * 120)
    review_factory(long_ago_done, ["좋아요"] * 110)
    review_factory(pending_one, ["좋아요"] * 99)
    review_factory(pending_one, ["좋아요"], status=Review.Status.PENDING)
    review_factory(hidden, ["좋아요"] * 150)
    earlier = analysed(recently_done, days_ago=29)
    analysed(long_ago_done, days_ago=31)

    run = services.sentiment_analyze(trigger="schedule")

    assert run.status == JobRun.Status.SUCCEEDED
    assert [step["step"] for step in run.step_durations] == STEPS
    # 110 + 101 + 100 reviews in batches of 32: 4 + 4 + 4 invocations.
    assert run.counts == {"products": 3, "reviews": 311, "invocations": 12, "stored": 3}
    stored = {row.product_id: row for row in ProductSentiment.objects.filter(model_name="fake-model")}
    assert set(stored) == {over.id, exactly.id, long_ago_done.id}
    assert stored[long_ago_done.id].review_count == 110
    assert stored[long_ago_done.id].analyzed_at == stored[over.id].analyzed_at >= run.started_at
    assert unchanged(earlier)


def test_most_reviewed_first_and_at_most_max_products(fake_lambda, product_factory, review_factory):
    ranked = [product_factory(name=f"상품{count}") for count in (3, 5, 4)]
    for product, count in zip(ranked, (3, 5, 4), strict=True):
        review_factory(product, ["좋아요"] * count)

    run = services.sentiment_analyze(trigger="command", min_reviews=3, max_products=2)

    assert run.counts["products"] == 2
    assert set(ProductSentiment.objects.values_list("product_id", flat=True)) == {ranked[1].id, ranked[2].id}


def test_ratios_leave_neutral_scores_out_and_average_all(fake_lambda, product_factory, review_factory):
    fake_lambda.scores = {"최고예요": 0.75, "만족해요": 0.75, "별로예요": -0.5, "보통이에요": 0.0}
    cream = product_factory(name="수분 크림")
    review_factory(cream, ["최고예요", "만족해요", "별로예요", "보통이에요"])

    services.sentiment_analyze(trigger="command", min_reviews=4)

    row = ProductSentiment.objects.get(product=cream)
    assert (row.positive_ratio, row.negative_ratio, row.avg_sentiment) == (0.5, 0.25, 0.25)
    assert (row.review_count, row.model_name) == (4, "fake-model")


def test_reviews_go_to_the_function_in_batches_of_32(fake_lambda, product_factory, review_factory, httpserver):
    cream = product_factory(name="수분 크림")
    review_factory(cream, [f"리뷰 {index}" for index in range(70)])

    run = services.sentiment_analyze(trigger="command", min_reviews=70)

    events = [json.loads(request.data) for request, _ in httpserver.log]
    # Sent at once (SENTIMENT_LAMBDA_CONCURRENCY), so they may arrive in any order.
    assert {event["batch_id"]: len(event["reviews"]) for event in events} == {
        f"{run.pk}:{cream.id}:0": 32,
        f"{run.pk}:{cream.id}:1": 32,
        f"{run.pk}:{cream.id}:2": 6,
    }
    assert len(events) == 3
    assert sorted(review for event in events for review in event["reviews"]) == sorted(
        f"리뷰 {index}" for index in range(70)
    )


def test_sentiment_summary_counts_exact_zeros_as_neither():
    assert services.sentiment_summary([0.5, -0.25, 0.0, 0.0]) == (0.25, 0.25, 0.0625)


def test_skipped_when_no_product_qualifies(fake_lambda, product_factory, review_factory, httpserver):
    review_factory(product_factory(name="수분 크림"), ["좋아요"] * 99)

    run = services.sentiment_analyze(trigger="schedule")

    assert run.status == JobRun.Status.SKIPPED
    assert (run.reason, run.reason_params) == (services.NOTHING_TO_ANALYSE, {"min_reviews": 100, "window_days": 30})
    assert run.message == (
        "No product has 100 or more approved reviews from the last 30 days and no analysis in that time."
    )
    assert httpserver.log == []
    assert not ProductSentiment.objects.exists()


def test_a_function_error_fails_the_run_and_leaves_earlier_results_intact(fake_lambda, product_factory, review_factory):
    first, second = product_factory(name="첫 상품"), product_factory(name="둘째 상품")
    review_factory(first, ["좋아요"] * 5)
    review_factory(second, ["좋아요"] * 4)
    earlier = analysed(first, days_ago=40, avg=-0.3)
    calls = []

    def answer(request):
        calls.append(request)
        if len(calls) == 1:  # the first product goes through; the second one's batch fails
            return type(fake_lambda).answer(fake_lambda, request)
        timed_out = {"errorMessage": "Task timed out after 600.00 seconds", "errorType": "Sandbox.Timedout"}
        return Response(json.dumps(timed_out), headers={"X-Amz-Function-Error": "Unhandled"})

    fake_lambda.answer = answer

    with pytest.raises(SentimentFunctionError) as raised:
        services.sentiment_analyze(trigger="schedule", min_reviews=4)

    message = "c4ang-sentiment failed (Unhandled): Sandbox.Timedout: Task timed out after 600.00 seconds"
    assert raised.value.message == message
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED
    assert run.message == f"SentimentFunctionError: {message}"
    assert [step["step"] for step in run.step_durations] == ["select_products", "analyze_sentiment_batch"]
    assert run.counts == {"products": 2, "invocations": 2}
    assert unchanged(earlier)
    assert ProductSentiment.objects.count() == 1
    assert cache.get("jobs:lock:weekly_sentiment_analysis") is None


def test_a_model_that_cannot_be_loaded_fails_the_run_with_a_clear_message(settings, product_factory, review_factory):
    settings.SENTIMENT_BACKEND = "local"
    settings.SENTIMENT_MODEL = "sangrimlee/bert-base-multilingual-cased-nsmc"  # the default; no network here
    cream = product_factory(name="수분 크림")
    review_factory(cream, ["좋아요"] * 3)
    earlier = analysed(cream, days_ago=45)

    with pytest.raises(SentimentModelUnavailable):
        services.sentiment_analyze(trigger="schedule", min_reviews=3)

    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED
    assert run.message.startswith(
        "SentimentModelUnavailable: cannot load the sentiment model 'sangrimlee/bert-base-multilingual-cased-nsmc'"
    )
    assert "Set SENTIMENT_MODEL to a fine-tuned sentiment checkpoint" in run.message
    assert unchanged(earlier)


def test_the_local_backend_runs_the_handler_in_this_process(
    settings, tiny_sentiment_model, product_factory, review_factory
):
    settings.SENTIMENT_BACKEND = "local"
    settings.SENTIMENT_MODEL = str(tiny_sentiment_model)
    cream = product_factory(name="수분 크림")
    review_factory(cream, ["배송이 빨라서 좋았어요", "너무 실망했어요", "포장이 꼼꼼했어요"])

    run = services.sentiment_analyze(trigger="command", min_reviews=3)

    assert run.status == JobRun.Status.SUCCEEDED
    row = ProductSentiment.objects.get(product=cream)
    assert (row.review_count, row.model_name) == (3, str(tiny_sentiment_model))
    assert -1 <= row.avg_sentiment <= 1
    assert row.positive_ratio + row.negative_ratio == pytest.approx(1.0)


def test_a_re_run_analyses_nothing_twice(fake_lambda, product_factory, review_factory):
    review_factory(product_factory(name="수분 크림"), ["좋아요"] * 3)
    services.sentiment_analyze(trigger="schedule", min_reviews=3)
    first = ProductSentiment.objects.get()

    again = services.sentiment_analyze(trigger="schedule", min_reviews=3)

    assert again.status == JobRun.Status.SKIPPED
    assert unchanged(first)


def test_never_runs_while_another_run_holds_the_lock(fake_lambda, product_factory, review_factory, httpserver):
    review_factory(product_factory(name="수분 크림"), ["좋아요"] * 3)
    cache.add("jobs:lock:weekly_sentiment_analysis", uuid4().hex)

    run = services.sentiment_analyze(trigger="schedule", min_reviews=3)

    assert run.status == JobRun.Status.SKIPPED
    assert run.message == "weekly_sentiment_analysis was already running: this run was skipped."
    assert httpserver.log == []


def test_the_command_runs_it_now_and_reports(fake_lambda, product_factory, review_factory, capsys):
    review_factory(product_factory(name="수분 크림"), ["좋아요"] * 3)

    call_command("run_sentiment", "--min-reviews", "3", "--window-days", "7")

    output = capsys.readouterr().out
    assert "weekly_sentiment_analysis SUCCEEDED" in output
    assert "products=1, invocations=1, reviews=3, stored=1" in output


def test_the_command_turns_a_failure_into_a_clear_error(settings, product_factory, review_factory):
    settings.SENTIMENT_MODEL = "/nonexistent/sentiment-model"
    review_factory(product_factory(name="수분 크림"), ["좋아요"] * 3)

    with pytest.raises(CommandError, match="weekly_sentiment_analysis failed: cannot load the sentiment model"):
        call_command("run_sentiment", "--min-reviews", "3")

    assert JobRun.objects.get().status == JobRun.Status.FAILED


def test_the_command_refuses_bad_numbers(db):
    with pytest.raises(CommandError, match="--max-products must be 1 or more, got 0"):
        call_command("run_sentiment", "--max-products", "0")

    assert not JobRun.objects.exists()


def test_the_beat_task_runs_the_analysis(fake_lambda, product_factory, review_factory):
    from sentiment.tasks import weekly_sentiment_analysis

    review_factory(product_factory(name="수분 크림"), ["좋아요"] * 100)

    assert weekly_sentiment_analysis.apply().get() == JobRun.Status.SUCCEEDED
    assert JobRun.objects.get().trigger == "schedule"
