"""Bodies the API cannot take — nested past any sane depth, in a charset that is no text encoding,
with numbers no column or jsonb can hold — are a 400 in the error shape on every JSON endpoint,
anonymous or signed in, never a 500; on SQLite and on PostgreSQL."""

import json

import pytest
import requests

from customers.models import Customer
from orders.models import Order
from payments.models import Payment, WebhookEvent
from products.constants import STOCK_MAX
from products.models import Product, StockAdjustment
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/payments/webhooks/toss/"
# (identity, method, path): an anonymous door, the customer's and staff's writes, and the PG's webhook.
ENDPOINTS = [
    ("anonymous", "post", "/api/v1/customers/register/"),
    ("anonymous", "post", "/api/v1/customers/token/"),
    ("anonymous", "post", WEBHOOK),
    ("customer", "post", "/api/v1/orders/"),
    ("customer", "patch", "/api/v1/customers/me/"),
    ("customer", "post", "/api/v1/payments/confirm/"),
    ("staff", "post", "/api/v1/products/staff/"),
]
NESTED_TOO_DEEP = {"code": "parse_error", "message": "JSON parse error - nested deeper than 32 levels", "errors": []}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def clients(api_client, customer_client, staff_client):
    return {"anonymous": api_client, "customer": customer_client, "staff": staff_client}


def rows() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Customer, Order, Payment, WebhookEvent, Product, StockAdjustment)
    }


@pytest.mark.parametrize(
    ("identity", "method", "path", "depth"),
    [
        (*endpoint, depth)
        for endpoint in ENDPOINTS
        for depth in (33, 1000, 100_000)
        # 200 KB: the webhook refuses a body that large before parsing it (413)
        if not (depth == 100_000 and endpoint[2] == WEBHOOK)
    ],
)
def test_a_body_nested_too_deep_is_a_parse_error(clients, identity, method, path, depth):
    before = rows()

    response = getattr(clients[identity], method)(path, nested(depth), content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert response.json() == NESTED_TOO_DEEP
    assert rows() == before


@pytest.mark.parametrize(("identity", "method", "path"), ENDPOINTS)
def test_a_body_32_levels_deep_is_parsed_and_judged_by_its_serializer(clients, identity, method, path):
    response = getattr(clients[identity], method)(path, nested(32), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("charset", ["rot13", "zlib", "base64", "utf-16"])
def test_a_charset_that_cannot_decode_the_body_is_a_parse_error(api_client, charset):
    body = json.dumps({"email": "kim@example.kr", "password": "x", "name": "김"}).encode()

    response = api_client.post("/api/v1/customers/register/", body, content_type=f"application/json; charset={charset}")

    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "parse_error"
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            '{"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "x", "data": {"paymentKey": "k", "n": 1e400}}',
            "data.n",
        ),
        (
            '{"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "x", "data": {"paymentKey": "k", "n": [-1e999]}}',
            "data.n.0",
        ),
    ],
)
def test_a_number_that_overflows_is_a_400_naming_the_field(api_client, body, field):
    # jsonb cannot store Infinity: before, PostgreSQL refused the stored delivery with a 500
    response = api_client.post("/api/v1/payments/webhooks/toss/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": "Invalid input.",
        "errors": [{"field": field, "code": "number_out_of_range", "message": "This number is out of range."}],
    }
    assert WebhookEvent.objects.count() == 0


def test_a_whole_body_that_overflows_is_a_400(customer_client):
    response = customer_client.post("/api/v1/orders/", "1e400", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": None, "code": "number_out_of_range", "message": "This number is out of range."}
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"email": "\\ud800@c4ang.com", "password": "x"}', "email"),
        ('{"email": "kim@example.kr", "password": "x", "\\udc40": 1}', None),
        ('{"email": "kim@example.kr", "password": ["ok", {"\\udfff": 1}]}', "password.1"),
    ],
)
def test_text_with_a_lone_surrogate_is_a_400_naming_where_it_is(api_client, body, field):
    # Not Unicode text: before, the sign-in limit's cache key could not be encoded (a 500)
    response = api_client.post("/api/v1/customers/token/", body, content_type="application/json")

    assert response.status_code == 400
    assert [(error["field"], error["code"]) for error in response.json()["errors"]] == [
        (field, "surrogate_characters_not_allowed")
    ]


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "true", '[{"items": []}]'])
@pytest.mark.parametrize(("identity", "method", "path"), ENDPOINTS)
def test_a_body_that_is_not_an_object_is_a_400(clients, identity, method, path, body):
    before = rows()

    response = getattr(clients[identity], method)(path, body, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == {"code", "message", "errors"}
    assert rows() == before


def test_stock_pushed_past_its_maximum_is_a_400_naming_the_delta(staff_client):
    # Given a product whose stock is close to the maximum (the column is a 32-bit integer)
    product = ProductFactory(stock=STOCK_MAX - 10)

    # When staff receive more than fits
    response = staff_client.post(
        f"/api/v1/products/staff/{product.pk}/stock/", {"delta": 11, "reason": "입고"}, format="json"
    )
    exactly = staff_client.post(
        f"/api/v1/products/staff/{product.pk}/stock/", {"delta": 10, "reason": "입고"}, format="json"
    )

    # Then it is refused naming the field, and nothing changed; up to the maximum is fine
    assert response.status_code == 400
    assert response.json() == {
        "code": "stock_above_maximum",
        "message": f"Stock cannot go above {STOCK_MAX:,} units.",
        "errors": [
            {"field": "delta", "code": "stock_above_maximum", "message": f"Stock cannot go above {STOCK_MAX:,} units."}
        ],
    }
    assert exactly.json()["stock"] == STOCK_MAX
    assert list(StockAdjustment.objects.values_list("delta", "stock_after")) == [(10, STOCK_MAX)]


def test_a_new_product_cannot_start_above_the_maximum_stock(staff_client):
    category = ProductFactory().category
    body = {"name": "x", "category_id": str(category.pk), "brand": "b", "price": "1", "stock": STOCK_MAX + 1}

    response = staff_client.post("/api/v1/products/staff/", body, format="json")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["stock"]
    assert Product.objects.count() == 1


@pytest.mark.slow
def test_a_deeply_nested_body_is_a_parse_error_in_production_too(gunicorn_server, tmp_path):
    # Given the production settings on a real gunicorn (no DEBUG, HTTPS behind the gateway)
    server = gunicorn_server(
        {
            "C4ANG_ENV": "production",
            "SECRET_KEY": "n" * 20 + "Hq3-Zx8Lp1Vt6Wm4Rb9Ks2Jd7Fy5Gc0U",
            "ALLOWED_HOSTS": "api.c4ang.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
            "REDIS_URL": "",
        }
    )
    gateway = {"Host": "api.c4ang.com", "X-Forwarded-Proto": "https", "Content-Type": "application/json"}

    # When an anonymous client registers with a body nested 1,000 levels deep
    response = requests.post(f"{server.url}/api/v1/customers/register/", data=nested(1000), headers=gateway, timeout=30)

    # Then it is the parse error, not the server error page
    assert response.status_code == 400, response.text[:300]
    assert response.json() == NESTED_TOO_DEEP
