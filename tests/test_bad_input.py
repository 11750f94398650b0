"""Hostile input across the commerce endpoints (NUL bytes, huge numbers, wrong shapes, bad
cursors) is a 4xx with the error shape, never a 500, on SQLite and on PostgreSQL."""

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        {"min_price": "1e400"},
        {"max_price": "-1e400"},
        {"min_price": "NaN"},
        {"min_price": "inf"},
        {"search": "a\x00b"},
        {"brand": "x\x00"},
        {"cursor": "zzz"},
        {"page_size": "-5"},
        {"page": "99999"},
        {"ordering": "-name,price"},
        {"category": "\x00"},
    ],
)
def test_catalog_queries_never_500(api_client, product_factory, query):
    product_factory()
    r = api_client.get("/api/v1/products/", query)
    assert 400 <= r.status_code < 500 or r.status_code == 200, (query, r.content)
    assert r.status_code == 200 or set(r.json()) == {"code", "message", "errors"}


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"product_id": "00000000-0000-0000-0000-000000000000", "quantity": 1}], "payment_token": "a\x00"},
        {"items": [{"product_id": "00000000-0000-0000-0000-000000000000", "quantity": 2**70}]},
        {"items": [None]},
        {"items": [[]]},
        {"items": {"a": 1}},
        {"items": [{"product_id": None, "quantity": None}]},
    ],
)
def test_order_bodies_are_400(customer_client, body):
    r = customer_client.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 400, r.content


def test_bad_cursors_are_404(customer_client):
    assert customer_client.get("/api/v1/orders/", {"cursor": "bad"}).status_code == 404
    assert customer_client.get("/api/v1/payments/", {"cursor": "bad\x00"}).status_code == 404


def test_webhook_with_nul_bytes_is_400(api_client):
    r = api_client.post(
        "/api/v1/payments/webhooks/toss/",
        {"eventType": "a\x00", "createdAt": "x", "data": {"paymentKey": "k"}},
        format="json",
    )
    assert r.status_code == 400
    r = api_client.post(
        "/api/v1/payments/webhooks/toss/",
        {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "x", "data": {"paymentKey": "k\x00"}},
        format="json",
    )
    assert r.status_code == 400


def test_review_with_nul_or_huge_rating_is_400(customer_client, product_factory):
    p = product_factory()
    r = customer_client.post(f"/api/v1/products/{p.pk}/reviews/", {"rating": 5, "content": "a\x00"}, format="json")
    assert r.status_code == 400
    r = customer_client.post(f"/api/v1/products/{p.pk}/reviews/", {"rating": 2**70, "content": "a"}, format="json")
    assert r.status_code == 400


def test_staff_inputs_are_400(staff_client, product_factory):
    p = product_factory()
    assert (
        staff_client.post(f"/api/v1/products/staff/{p.pk}/stock/", {"delta": 2**70}, format="json").status_code == 400
    )
    assert staff_client.get("/api/v1/customers/staff/", {"search": "\x00"}).status_code == 400
    assert staff_client.get("/api/v1/orders/staff/", {"customer_id": "x"}).status_code == 400
    assert staff_client.patch(f"/api/v1/products/staff/{p.pk}/", {"price": "NaN"}, format="json").status_code == 400


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", "1.5", "", "٣"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_400_naming_it(api_client, customer_client, page_size):
    for client, path in ((api_client, "/api/v1/products/"), (customer_client, "/api/v1/orders/")):
        r = client.get(path, {"page_size": page_size})

        assert r.status_code == 400, (path, r.content)
        assert r.json()["errors"] == [
            {"field": "page_size", "code": "invalid", "message": "Give a whole number from 1 to 100."}
        ]


def test_a_page_size_above_the_maximum_is_capped(api_client, product_factory):
    for _ in range(3):
        product_factory()

    assert len(api_client.get("/api/v1/products/", {"page_size": "1000"}).json()["results"]) == 3
    assert len(api_client.get("/api/v1/products/", {"page_size": "2"}).json()["results"]) == 2


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"paymentKey": "k", "extra": ["ok", "a\x00"]}, "data.extra.1", "null_characters_not_allowed"),
        ({"paymentKey": "k", "a\x00": 1}, "data", "null_characters_not_allowed"),
        ({"paymentKey": "k", "note": "\udc40"}, "data.note", "surrogate_characters_not_allowed"),
    ],
)
def test_webhook_text_that_cannot_be_stored_is_400_naming_the_field(api_client, data, field, code):
    from payments.models import WebhookEvent

    body = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-28T10:00:00+09:00", "data": data}
    # json.dumps escapes a lone surrogate as \\udc40, as a client would send it.
    r = api_client.post("/api/v1/payments/webhooks/toss/", json.dumps(body), content_type="application/json")

    assert r.status_code == 400, r.content
    assert [(error["field"], error["code"]) for error in r.json()["errors"]] == [(field, code)]
    assert not WebhookEvent.objects.exists()
