"""GET /api/v1/recommendations/<product_id>/ and /me/: served from the cache, with product summaries."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from conftest import client_for
from orders.models import OrderStatus
from products.models import Product
from recommendations import services
from recommendations.models import Recommendation

pytestmark = pytest.mark.django_db

GENERATED_AT = datetime(2026, 11, 20, 2, 0, 5, tzinfo=ZoneInfo("Asia/Seoul"))


@pytest.fixture
def shop(product_factory):
    return {
        name: product_factory(name=label, category__name=category, brand=brand)
        for name, label, category, brand in [
            ("phone", "갤럭시 폰", "전자제품", "삼성"),
            ("tablet", "갤럭시 탭", "전자제품", "삼성"),
            ("tv", "올레드 TV", "전자제품", "LG"),
            ("hoodie", "삼성 후드티", "패션", "삼성"),
            ("sneakers", "에어 운동화", "패션", "나이키"),
        ]
    }


def recommend(product: Product, ranked: list[tuple[Product, float]]) -> Recommendation:
    return Recommendation.objects.create(
        product=product,
        recommended_product_ids=[str(candidate.id) for candidate, _ in ranked],
        scores=[score for _, score in ranked],
        algorithm="hybrid-content70-popularity30",
        created_at=GENERATED_AT,
    )


def names(body: dict) -> list[str]:
    return [result["product"]["name"] for result in body["results"]]


def test_top_recommendations_with_product_summaries(api_client, shop):
    recommend(shop["phone"], [(shop["tablet"], 0.75), (shop["tv"], 0.4), (shop["sneakers"], 0.05)])

    response = api_client.get(f"/api/v1/recommendations/{shop['phone'].id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["algorithm"] == "hybrid-content70-popularity30"
    assert body["generated_at"] == "2026-11-20T02:00:05+09:00"
    assert body["results"][0] == {
        "product": {
            "id": str(shop["tablet"].id),
            "name": "갤럭시 탭",
            "category": {"id": str(shop["tablet"].category_id), "name": "전자제품"},
            "brand": "삼성",
            "price": 10000,
            "currency": "KRW",
            "rating_average": None,
            "review_count": 0,
        },
        "score": 0.75,
    }
    assert names(body) == ["갤럭시 탭", "올레드 TV", "에어 운동화"]
    assert [result["score"] for result in body["results"]] == [0.75, 0.4, 0.05]


def test_served_from_the_cache_with_one_query_and_refilled_on_a_miss(api_client, shop, django_assert_num_queries):
    recommend(shop["phone"], [(shop["tablet"], 0.75), (shop["tv"], 0.4)])
    url = f"/api/v1/recommendations/{shop['phone'].id}/"

    with django_assert_num_queries(2):  # a miss: the table, then the product summaries
        missed = api_client.get(url)
    Recommendation.objects.all().delete()  # from now on only the cache knows them
    with django_assert_num_queries(1):  # a hit: the product summaries only
        hit = api_client.get(url)

    assert names(missed.json()) == names(hit.json()) == ["갤럭시 탭", "올레드 TV"]


def test_the_pipeline_feeds_the_api(api_client, shop, buy, django_capture_on_commit_callbacks):
    yesterday = timezone.localtime() - timedelta(days=1)
    buy(shop["sneakers"], at=yesterday)
    buy(shop["sneakers"], at=yesterday)
    buy(shop["tv"], at=yesterday)
    with django_capture_on_commit_callbacks(execute=True):
        services.recommendations_generate(trigger="command")
    Recommendation.objects.all().delete()  # the API reads the refreshed cache

    body = api_client.get(f"/api/v1/recommendations/{shop['phone'].id}/").json()

    assert names(body) == ["갤럭시 탭", "올레드 TV", "삼성 후드티", "에어 운동화"]


def test_a_product_not_ranked_yet_has_no_recommendations(api_client, shop):
    response = api_client.get(f"/api/v1/recommendations/{shop['hoodie'].id}/")

    assert response.status_code == 200
    assert response.json() == {"algorithm": "hybrid-content70-popularity30", "generated_at": None, "results": []}


def test_products_taken_off_sale_since_the_run_are_left_out(api_client, shop):
    recommend(shop["phone"], [(shop["tablet"], 0.75), (shop["tv"], 0.4), (shop["sneakers"], 0.05)])
    Product.objects.filter(pk=shop["tv"].pk).update(is_active=False)

    body = api_client.get(f"/api/v1/recommendations/{shop['phone'].id}/").json()

    assert names(body) == ["갤럭시 탭", "에어 운동화"]


def test_an_unknown_or_hidden_product_is_a_404(api_client, shop):
    recommend(shop["phone"], [(shop["tablet"], 0.75)])
    Product.objects.filter(pk=shop["phone"].pk).update(is_active=False)

    hidden = api_client.get(f"/api/v1/recommendations/{shop['phone'].id}/")
    unknown = api_client.get("/api/v1/recommendations/6b1f7c9e-1111-4a4a-9e9e-000000000000/")
    malformed = api_client.get("/api/v1/recommendations/not-a-uuid/")

    assert hidden.status_code == unknown.status_code == malformed.status_code == 404
    assert hidden.json()["code"] == unknown.json()["code"] == "product_not_found"
    assert malformed.json()["code"] == "not_found"


def test_personal_recommendations_from_the_customers_purchases(
    customer, customer_client, shop, buy, django_assert_num_queries
):
    now = timezone.now()
    buy(shop["phone"], at=now - timedelta(days=3))
    buy(shop["sneakers"], at=now - timedelta(days=1), status=OrderStatus.DELIVERED)
    buy(shop["hoodie"], at=now, status=OrderStatus.CANCELLED)  # not a purchase
    recommend(shop["phone"], [(shop["tablet"], 0.9), (shop["tv"], 0.5), (shop["hoodie"], 0.4)])
    recommend(shop["sneakers"], [(shop["hoodie"], 0.8), (shop["tv"], 0.2), (shop["phone"], 0.1)])
    recommend(shop["hoodie"], [(shop["tv"], 1.0)])
    client_for(customer.user).get("/api/v1/recommendations/me/")  # fills the cache

    with django_assert_num_queries(4):  # user, customer, purchases, product summaries
        response = customer_client.get("/api/v1/recommendations/me/")

    assert response.status_code == 200
    body = response.json()
    # Mean over the two purchases; the phone was bought already: hoodie 0.6, tablet 0.45, tv 0.35.
    assert names(body) == ["삼성 후드티", "갤럭시 탭", "올레드 TV"]
    assert [result["score"] for result in body["results"]] == pytest.approx([0.6, 0.45, 0.35])
    assert body["algorithm"] == "hybrid-content70-popularity30-purchases"
    assert body["generated_at"] == "2026-11-20T02:00:05+09:00"


def test_a_customer_without_purchases_gets_no_personal_recommendations(customer_client, shop):
    response = customer_client.get("/api/v1/recommendations/me/")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_personal_recommendations_need_a_signed_in_customer(api_client):
    response = api_client.get("/api/v1/recommendations/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_cache_entry_of_a_product_is_what_the_api_serves(api_client, shop):
    cache.set(
        f"recommendations:product:{shop['tv'].id}",
        {
            "product_ids": [str(shop["sneakers"].id)],
            "scores": [0.3],
            "algorithm": "hybrid-content70-popularity30",
            "generated_at": GENERATED_AT.isoformat(),
        },
    )

    assert names(api_client.get(f"/api/v1/recommendations/{shop['tv'].id}/").json()) == ["에어 운동화"]
