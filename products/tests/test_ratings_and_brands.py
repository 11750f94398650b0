"""Products' ratings (rating_average, review_count) kept with the reviews, the brand list, and the
`ids=` batch lookup of the product list."""

import uuid
from decimal import Decimal

import pytest

from conftest import client_for, in_threads, migrate
from customers.tests.factories import CustomerFactory
from products import services
from products.filters import IDS_MAX
from products.models import Product, Review
from products.tests.factories import ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
BRANDS = "/api/v1/products/brands/"


def review(product, rating: int) -> Review:
    return services.review_create(
        product_id=product.pk, customer_id=CustomerFactory().pk, rating=rating, content="좋아요"
    )


def rating_shown(client, product) -> tuple:
    listed = [p for p in client.get(PRODUCTS).json()["results"] if p["id"] == str(product.pk)]
    detail = client.get(f"{PRODUCTS}{product.pk}/").json()
    assert [(p["rating_average"], p["review_count"]) for p in listed] == [
        (detail["rating_average"], detail["review_count"])
    ]
    return detail["rating_average"], detail["review_count"]


# --- ratings ---


def test_a_product_without_reviews_has_no_average(api_client, staff_client):
    product = ProductFactory()

    assert rating_shown(api_client, product) == (None, 0)
    staff = staff_client.get(f"{PRODUCTS}staff/{product.pk}/").json()
    assert (staff["rating_average"], staff["review_count"]) == (None, 0)


@pytest.mark.parametrize(
    ("ratings", "average"),
    [([5], 5), ([5, 4, 4], 4.3), ([5, 5, 4], 4.7), ([5, 4, 4, 4], 4.3), ([1, 2], 1.5)],
    ids=["one", "down", "up", "half-up", "half"],
)
def test_the_average_is_of_the_approved_reviews_to_one_decimal_half_up(api_client, ratings, average):
    product = ProductFactory()
    for rating in ratings:
        review(product, rating)

    assert rating_shown(api_client, product) == (average, len(ratings))


def test_a_review_through_the_api_shows_at_once_in_the_cached_list_and_detail(
    api_client, customer, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    assert rating_shown(api_client, product) == (None, 0)  # both cached now

    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(customer.user).post(
            f"{PRODUCTS}{product.pk}/reviews/", {"rating": 4, "content": "배송이 빨라요"}, format="json"
        )

    assert created.status_code == 201
    assert rating_shown(api_client, product) == (4, 1)
    assert Product.objects.values_list("review_count", "rating_total").get(pk=product.pk) == (1, 4)


def test_a_second_review_of_the_same_customer_counts_nothing(customer):
    product = ProductFactory()
    client = client_for(customer.user)
    first = client.post(f"{PRODUCTS}{product.pk}/reviews/", {"rating": 5, "content": "최고"}, format="json")

    again = client.post(f"{PRODUCTS}{product.pk}/reviews/", {"rating": 1, "content": "별로"}, format="json")

    assert (first.status_code, again.status_code) == (201, 409)
    assert Product.objects.values_list("review_count", "rating_total").get(pk=product.pk) == (1, 5)


def test_moderation_moves_a_review_in_and_out_of_the_rating(
    api_client, staff_client, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    review(product, 5)
    low = review(product, 1)
    assert rating_shown(api_client, product) == (3, 2)

    def moderate(status):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.patch(f"{PRODUCTS}staff/reviews/{low.pk}/", {"status": status}, format="json")
        assert response.status_code == 200
        return rating_shown(api_client, product)

    assert moderate("REJECTED") == (5, 1)
    assert moderate("REJECTED") == (5, 1)  # already out: counted once
    assert moderate("PENDING") == (5, 1)  # from one hidden state to another
    assert moderate("APPROVED") == (3, 2)
    assert moderate("APPROVED") == (3, 2)
    assert sorted(r["rating"] for r in api_client.get(f"{PRODUCTS}{product.pk}/reviews/").json()["results"]) == [1, 5]


def test_bulk_imported_reviews_are_counted():
    product, other = ProductFactory(), ProductFactory()
    customers = CustomerFactory.create_batch(3)
    ReviewFactory(product=product, status=Review.Status.REJECTED, rating=1)  # never counted

    services.review_bulk_import(
        reviews=[
            {"product_id": product.pk, "customer_id": customers[0].pk, "rating": 5, "content": "좋아요"},
            {"product_id": product.pk, "customer_id": customers[1].pk, "rating": 4, "content": "만족"},
            {"product_id": other.pk, "customer_id": customers[2].pk, "rating": 2, "content": "보통"},
        ]
    )

    counted = dict(Product.objects.values_list("pk", "review_count"))
    assert (counted[product.pk], counted[other.pk]) == (2, 1)
    assert (Product.objects.get(pk=product.pk).rating_average, Product.objects.get(pk=other.pk).rating_average) == (
        Decimal("4.5"),
        Decimal("2.0"),
    )


def test_the_list_still_reads_a_page_in_four_queries(
    api_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the caches dropped: no invalidation left over
        for index in range(5):
            product = ProductFactory(name=f"평점 상품 {index}")
            for rating in range(1, index + 2):
                review(product, rating)

    with django_assert_num_queries(4):  # invalidations left over, count, page, primary images
        listed = api_client.get(PRODUCTS).json()["results"]

    assert sorted(p["review_count"] for p in listed) == [1, 2, 3, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_ratings_from_the_approved_reviews(latest_schema_after):
    # Given reviews written before products kept their ratings (the factories bypass the services)
    product, unreviewed = ProductFactory(), ProductFactory()
    for rating in (5, 4, 4):
        ReviewFactory(product=product, rating=rating)
    ReviewFactory(product=product, rating=1, status=Review.Status.REJECTED)
    ReviewFactory(product=product, rating=1, status=Review.Status.PENDING)
    assert Product.objects.get(pk=product.pk).review_count == 0

    # When the migration runs again on them
    migrate([("products", "0007_category_paths_and_search_index")])
    new = migrate([("products", "0008_product_ratings")])

    # Then each product counts its approved reviews
    rows = new.get_model("products", "Product").objects.values_list("pk", "review_count", "rating_total")
    assert {pk: (count, total) for pk, count, total in rows} == {product.pk: (3, 13), unreviewed.pk: (0, 0)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reviews_and_moderations_count_each_review_once():
    product = ProductFactory()
    customers = CustomerFactory.create_batch(8)
    ones = [review(product, 1), review(product, 1)]

    def write(customer):
        return lambda: (
            services.review_create(
                product_id=product.pk, customer_id=customer.pk, rating=5, content="동시에 쓴 리뷰"
            ).rating
        )

    def reject(one):
        return lambda: services.review_moderate(review_id=one.pk, status=Review.Status.REJECTED).status

    # Eight new reviews while both 1-star reviews are rejected, each by two staff at once.
    results = in_threads([write(customer) for customer in customers] + [reject(one) for one in ones for _ in range(2)])

    assert results == [5] * 8 + ["REJECTED"] * 4
    assert Product.objects.values_list("review_count", "rating_total").get(pk=product.pk) == (8, 40)


# --- brands ---


@pytest.fixture
def brands():
    ProductFactory.create_batch(2, brand="삼성")
    ProductFactory(brand="LG")
    ProductFactory(brand="lg")
    ProductFactory(brand="애플")
    ProductFactory(brand="Apple")
    ProductFactory(brand="나이키")
    ProductFactory(brand="단종", is_active=False)
    ProductFactory(brand="삼성", is_active=False)


def test_brands_of_products_for_sale_with_their_counts_by_name(api_client, brands):
    response = api_client.get(BRANDS)

    assert response.status_code == 200
    assert response.json()["count"] == 6
    assert response.json()["results"] == [
        {"name": "Apple", "product_count": 1},
        {"name": "LG", "product_count": 1},
        {"name": "lg", "product_count": 1},
        {"name": "나이키", "product_count": 1},
        {"name": "삼성", "product_count": 2},
        {"name": "애플", "product_count": 1},
    ]


def test_brands_page_like_every_list(api_client, brands):
    first = api_client.get(BRANDS, {"page_size": 4}).json()
    second = api_client.get(first["next"]).json()

    assert [b["name"] for b in first["results"] + second["results"]] == ["Apple", "LG", "lg", "나이키", "삼성", "애플"]
    assert second["next"] is None


def test_brands_are_cached_until_a_product_changes(
    api_client, brands, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_num_queries(2):  # invalidations left over (c4ang.cache.trusted), brands
        first = api_client.get(BRANDS).json()
    with django_assert_num_queries(0):
        assert api_client.get(BRANDS).json() == first

    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product_id=Product.objects.get(brand="나이키").pk, is_active=False)

    assert "나이키" not in [b["name"] for b in api_client.get(BRANDS).json()["results"]]


def test_each_brand_filters_the_list_to_its_products(api_client, brands):
    for brand in api_client.get(BRANDS).json()["results"]:
        found = api_client.get(PRODUCTS, {"brand": brand["name"]}).json()
        # The filter ignores case: LG and lg find each other's products.
        same = [b for b in api_client.get(BRANDS).json()["results"] if b["name"].lower() == brand["name"].lower()]
        assert found["count"] == sum(b["product_count"] for b in same), brand


# --- ids= ---


def test_ids_answers_those_for_sale_in_the_order_given(api_client):
    a, b, c = ProductFactory(name="가"), ProductFactory(name="나"), ProductFactory(name="다")
    hidden = ProductFactory(name="숨김", is_active=False)
    ids = [c.pk, hidden.pk, a.pk, uuid.uuid4(), c.pk, b.pk]

    response = api_client.get(PRODUCTS, {"ids": ",".join(map(str, ids))})

    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["다", "가", "나"]
    assert response.json()["count"] == 3


def test_ids_combine_with_filters_and_ordering_overrides_their_order(api_client):
    cheap = ProductFactory(brand="삼성", price=Decimal(1000))
    dear = ProductFactory(brand="삼성", price=Decimal(9000))
    other = ProductFactory(brand="LG")
    ids = ",".join(str(p.pk) for p in (dear, other, cheap))

    samsung = api_client.get(PRODUCTS, {"ids": ids, "brand": "삼성"}).json()["results"]
    by_price = api_client.get(PRODUCTS, {"ids": ids, "ordering": "price"}).json()["results"]

    assert [p["id"] for p in samsung] == [str(dear.pk), str(cheap.pk)]
    assert [p["id"] for p in by_price] == [str(cheap.pk), str(dear.pk), str(other.pk)]


def test_the_staff_list_takes_ids_too_and_finds_products_off_sale(staff_client):
    hidden = ProductFactory(is_active=False)

    listed = staff_client.get(f"{PRODUCTS}staff/", {"ids": str(hidden.pk)}).json()["results"]

    assert [(p["id"], p["is_active"]) for p in listed] == [(str(hidden.pk), False)]


@pytest.mark.parametrize(
    ("ids", "codes", "names"),
    [
        ("not-a-uuid", ["invalid"], ["not-a-uuid"]),
        (f"{uuid.uuid4()},12%34,,x", ["invalid"] * 3, ["12%34", "", "x"]),
        (",".join(str(uuid.uuid4()) for _ in range(IDS_MAX + 1)), ["too_many_ids"], [str(IDS_MAX + 1)]),
    ],
    ids=["malformed", "each-malformed-one", "too-many"],
)
def test_bad_ids_are_a_400_naming_ids(api_client, ids, codes, names):
    ProductFactory()

    response = api_client.get(PRODUCTS, {"ids": ids})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("ids", code) for code in codes]
    for error, name in zip(body["errors"], names, strict=True):
        assert name in error["message"]


def test_a_hundred_ids_are_answered_in_one_page(api_client):
    products = ProductFactory.create_batch(IDS_MAX)

    response = api_client.get(PRODUCTS, {"ids": ",".join(str(p.pk) for p in reversed(products)), "page_size": 100})

    assert [p["id"] for p in response.json()["results"]] == [str(p.pk) for p in reversed(products)]
