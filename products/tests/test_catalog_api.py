"""The public catalog (filters, cache and its invalidation, query budgets, sentiment on the
detail), reviews, and the staff catalog operations."""

import json
from decimal import Decimal

import pytest

from c4ang.actors import Actor, ActorKind
from conftest import client_for, order_line, place_order
from products.models import Category, Product, Review, StockAdjustment

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")


@pytest.fixture
def catalog(product_factory):
    fashion = Category.objects.create(name="패션")
    return {
        "earphones": product_factory(name="소니 무선 이어폰", brand="소니", price=Decimal("129000")),
        "speaker": product_factory(name="삼성 블루투스 스피커", brand="삼성", price=Decimal("59000")),
        "hoodie": product_factory(name="나이키 후드티", brand="나이키", price=Decimal("89000"), category=fashion),
        "hidden": product_factory(name="단종 이어폰", brand="소니", price=Decimal("1000"), is_active=False),
    }


def names(response) -> list[str]:
    return [product["name"] for product in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"brand": "소니"}, ["소니 무선 이어폰"]),
        ({"min_price": "60000", "max_price": "130000", "ordering": "price"}, ["나이키 후드티", "소니 무선 이어폰"]),
        ({"search": "이어폰"}, ["소니 무선 이어폰"]),
        ({"ordering": "-price"}, ["소니 무선 이어폰", "나이키 후드티", "삼성 블루투스 스피커"]),
    ],
)
def test_public_list_filters_and_orders(api_client, catalog, query, expected):
    response = api_client.get(PRODUCTS, query)

    assert response.status_code == 200
    assert names(response) == expected


def test_list_filters_by_category(api_client, catalog):
    response = api_client.get(PRODUCTS, {"category": str(catalog["hoodie"].category_id)})

    assert names(response) == ["나이키 후드티"]


@pytest.mark.parametrize(
    "query",
    [{"min_price": "cheap"}, {"category": "not-a-uuid"}, {"ordering": "stock"}, {"page": "0"}, {"search": "x" * 101}],
)
def test_bad_list_queries_are_4xx_never_5xx(api_client, catalog, query):
    response = api_client.get(PRODUCTS, query)

    assert response.status_code in (400, 404)
    assert set(response.json()) == {"code", "message", "errors"}


def test_list_and_detail_are_cached_until_a_product_changes(
    api_client, catalog, django_assert_num_queries, django_capture_on_commit_callbacks
):
    earphones = catalog["earphones"]
    with django_assert_num_queries(4):  # invalidations left over (c4ang.cache.trusted), count, page, primary images
        first = api_client.get(PRODUCTS)
    with django_assert_num_queries(3):  # product with category, images, sentiment
        detail = api_client.get(f"{PRODUCTS}{earphones.pk}/")
    with django_assert_num_queries(0):
        assert api_client.get(PRODUCTS).json() == first.json()
        assert api_client.get(f"{PRODUCTS}{earphones.pk}/").json() == detail.json()

    from products import services

    with django_capture_on_commit_callbacks(execute=True):
        services.stock_adjust(product_id=earphones.pk, delta=-4, reason="파손", by=STAFF)

    with django_assert_num_queries(3):
        listed = api_client.get(PRODUCTS).json()["results"]
    assert [p["stock"] for p in listed if p["id"] == str(earphones.pk)] == [6]
    assert api_client.get(f"{PRODUCTS}{earphones.pk}/").json()["stock"] == 6


def test_an_order_refreshes_the_cached_stock(api_client, customer_client, catalog, django_capture_on_commit_callbacks):
    speaker = catalog["speaker"]
    assert api_client.get(f"{PRODUCTS}{speaker.pk}/").json()["stock"] == 10

    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer_client, [order_line(speaker, 3)])

    assert api_client.get(f"{PRODUCTS}{speaker.pk}/").json()["stock"] == 7


@pytest.mark.parametrize("path", ["{product}/", "?ordering=price&brand=소니"])
def test_a_cached_read_answers_alike_from_the_cache_and_through_drf(api_client, customer_client, catalog, path):
    url = PRODUCTS + path.format(product=catalog["earphones"].pk)
    built = api_client.get(url)  # a miss: built through DRF
    hit = api_client.get(url)  # anonymous and cached: answered before DRF
    signed_in = customer_client.get(url)  # signed in: through DRF, from the cache

    assert built.status_code == hit.status_code == signed_in.status_code == 200
    assert built.content == hit.content == signed_in.content
    assert hit["Content-Type"] == signed_in["Content-Type"] == "application/json"


def test_a_rolled_back_write_keeps_the_cache(api_client, catalog, django_capture_on_commit_callbacks):
    from django.core.cache import cache as django_cache
    from django.db import transaction

    from products import services

    earphones = catalog["earphones"]
    api_client.get(f"{PRODUCTS}{earphones.pk}/")

    class Abort(Exception):
        pass

    def change_price_then_fail():
        with transaction.atomic():
            services.product_update(product_id=earphones.pk, price=Decimal("1"))
            raise Abort()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort):
        change_price_then_fail()

    _, body = django_cache.get(f"catalog:detail:{earphones.pk}")
    assert json.loads(body)["price"] == 129000
    assert Product.objects.get(pk=earphones.pk).price == Decimal("129000")


def test_detail_shows_the_latest_sentiment(api_client, catalog):
    from sentiment.tests.factories import ProductSentimentFactory

    earphones, speaker = catalog["earphones"], catalog["speaker"]
    ProductSentimentFactory(
        product=earphones, positive_ratio=0.75, negative_ratio=0.2, avg_sentiment=0.41, review_count=120
    )

    analysed = api_client.get(f"{PRODUCTS}{earphones.pk}/").json()
    never = api_client.get(f"{PRODUCTS}{speaker.pk}/").json()

    assert analysed["sentiment"]["positive_ratio"] == 0.75
    assert analysed["sentiment"]["review_count"] == 120
    assert never["sentiment"] is None
    assert analysed["category"]["name"] == "전자제품"


def test_hidden_and_unknown_products_are_404(api_client, catalog):
    import uuid

    assert api_client.get(f"{PRODUCTS}{catalog['hidden'].pk}/").status_code == 404
    assert api_client.get(f"{PRODUCTS}{uuid.uuid4()}/").json()["code"] == "product_not_found"
    assert api_client.get(f"{PRODUCTS}not-a-uuid/").status_code == 404


def test_review_once_per_product_with_verified_purchase(customer_client, customer, api_client, catalog):
    speaker, hoodie = catalog["speaker"], catalog["hoodie"]
    place_order(customer_client, [order_line(speaker)])

    bought = customer_client.post(f"{PRODUCTS}{speaker.pk}/reviews/", {"rating": 5, "content": "소리가 좋아요"})
    not_bought = customer_client.post(f"{PRODUCTS}{hoodie.pk}/reviews/", {"rating": 2, "content": "별로예요"})
    again = customer_client.post(f"{PRODUCTS}{speaker.pk}/reviews/", {"rating": 1, "content": "다시"})

    assert bought.status_code == 201
    assert bought.json()["is_verified_purchase"] is True
    assert not_bought.json()["is_verified_purchase"] is False
    assert again.status_code == 409
    assert again.json()["code"] == "review_already_exists"
    assert Review.objects.filter(customer=customer).count() == 2
    listed = api_client.get(f"{PRODUCTS}{speaker.pk}/reviews/").json()["results"]
    assert [(r["rating"], r["content"]) for r in listed] == [(5, "소리가 좋아요")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0, "content": "x"}, "rating"),
        ({"rating": 6, "content": "x"}, "rating"),
        ({"rating": "five", "content": "x"}, "rating"),
        ({"rating": 3}, "content"),
        ({"rating": 3, "content": "x" * 2001}, "content"),
    ],
)
def test_bad_reviews_are_400(customer_client, catalog, body, field):
    response = customer_client.post(f"{PRODUCTS}{catalog['speaker'].pk}/reviews/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert Review.objects.count() == 0


def test_reviews_need_a_customer_and_a_product_for_sale(api_client, customer_client, catalog):
    anonymous = api_client.post(f"{PRODUCTS}{catalog['speaker'].pk}/reviews/", {"rating": 5, "content": "좋아요"})
    hidden = customer_client.post(f"{PRODUCTS}{catalog['hidden'].pk}/reviews/", {"rating": 5, "content": "좋아요"})

    assert anonymous.status_code == 401
    assert hidden.status_code == 404
    assert Review.objects.count() == 0


def test_only_approved_reviews_are_public_and_staff_moderate(
    customer_factory, staff_client, api_client, catalog, django_assert_num_queries
):
    speaker = catalog["speaker"]
    reviews = [
        client_for(customer_factory().user)
        .post(f"{PRODUCTS}{speaker.pk}/reviews/", {"rating": 4, "content": f"리뷰 {n}"})
        .json()
        for n in range(3)
    ]

    rejected = staff_client.patch(f"{PRODUCTS}staff/reviews/{reviews[0]['id']}/", {"status": "REJECTED"})
    with django_assert_num_queries(2):  # the product, the page
        listed = api_client.get(f"{PRODUCTS}{speaker.pk}/reviews/")

    assert rejected.json()["status"] == "REJECTED"
    assert [r["content"] for r in listed.json()["results"]] == ["리뷰 2", "리뷰 1"]
    assert staff_client.patch(f"{PRODUCTS}staff/reviews/{reviews[0]['id']}/", {"status": "LOST"}).status_code == 400


def test_staff_create_update_deactivate_and_adjust_stock(
    staff_client, api_client, catalog, django_capture_on_commit_callbacks
):
    category = staff_client.post(f"{PRODUCTS}staff/categories/", {"name": "도서"}).json()
    created = staff_client.post(
        f"{PRODUCTS}staff/",
        {
            "name": "프로그래밍 입문서",
            "category_id": category["id"],
            "brand": "한빛미디어",
            "price": "32000",
            "stock": 7,
        },
    )
    product_id = created.json()["id"]

    renamed = staff_client.patch(f"{PRODUCTS}staff/{product_id}/", {"name": "파이썬 입문서", "price": "30000"})
    received = staff_client.post(f"{PRODUCTS}staff/{product_id}/stock/", {"delta": 5, "reason": "입고"})
    too_many = staff_client.post(f"{PRODUCTS}staff/{product_id}/stock/", {"delta": -13, "reason": "파손"})
    public = api_client.get(f"{PRODUCTS}{product_id}/").json()
    with django_capture_on_commit_callbacks(execute=True):
        deactivated = staff_client.delete(f"{PRODUCTS}staff/{product_id}/")

    assert created.status_code == 201
    assert (renamed.json()["name"], renamed.json()["price"]) == ("파이썬 입문서", 30000)
    assert received.json()["stock"] == 12
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "insufficient_stock"
    assert (public["name"], public["stock"]) == ("파이썬 입문서", 12)
    assert deactivated.json()["is_active"] is False
    assert api_client.get(f"{PRODUCTS}{product_id}/").status_code == 404
    assert Product.objects.get(pk=product_id).stock == 12
    assert list(
        StockAdjustment.objects.filter(product_id=product_id).values_list("delta", "stock_after", "reason", "actor")
    ) == [(5, 12, "입고", "staff:staff@c4ang.com")]
    assert staff_client.get(f"{PRODUCTS}staff/").json()["count"] == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "category_id": "CATEGORY", "brand": "b", "price": "-1"}, "price"),
        ({"name": "x", "category_id": "CATEGORY", "brand": "b", "price": "1", "stock": -1}, "stock"),
        ({"name": "x", "category_id": "CATEGORY", "brand": "b", "price": "123456789012"}, "price"),
        ({"name": "x", "category_id": "nope", "brand": "b", "price": "1"}, "category_id"),
        ({"name": "x", "category_id": "00000000-0000-0000-0000-000000000000", "brand": "b", "price": "1"}, "category"),
    ],
)
def test_bad_staff_product_input_is_4xx(staff_client, catalog, body, field):
    category_id = str(catalog["speaker"].category_id)
    body = {key: category_id if value == "CATEGORY" else value for key, value in body.items()}

    response = staff_client.post(f"{PRODUCTS}staff/", body, format="json")

    assert response.status_code in (400, 404)
    assert field in [error["field"] for error in response.json()["errors"]]
    assert Product.objects.count() == 4


def test_duplicate_category_is_a_conflict(staff_client, catalog):
    response = staff_client.post(f"{PRODUCTS}staff/categories/", {"name": "패션"})

    assert response.status_code == 409
    assert Category.objects.filter(name="패션").count() == 1


def test_customers_cannot_use_staff_endpoints(customer_client, catalog):
    product_id = catalog["speaker"].pk

    assert customer_client.get(f"{PRODUCTS}staff/").status_code == 403
    assert (
        customer_client.post(f"{PRODUCTS}staff/{product_id}/stock/", {"delta": 100, "reason": "x"}).status_code == 403
    )
    assert customer_client.delete(f"{PRODUCTS}staff/{product_id}/").status_code == 403
    assert Product.objects.get(pk=product_id).stock == 10


def test_categories_are_public(api_client, catalog):
    assert [c["name"] for c in api_client.get(f"{PRODUCTS}categories/").json()["results"]] == ["전자제품", "패션"]


def test_a_new_sentiment_summary_replaces_the_cached_detail(api_client, catalog, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from sentiment import services as sentiment_services

    product = Product.objects.filter(is_active=True).first()
    assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["sentiment"] is None  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        sentiment_services.sentiment_store(
            results={product.pk: ([0.9, 0.5, -0.4, 0.0], "demo-model")}, analyzed_at=timezone.now()
        )

    summary = api_client.get(f"{PRODUCTS}{product.pk}/").json()["sentiment"]
    assert (summary["positive_ratio"], summary["negative_ratio"], summary["review_count"]) == (0.5, 0.25, 4)
