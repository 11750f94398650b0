"""Every list endpoint refuses a query parameter it does not know (a 400 `unknown_parameter` naming
each), instead of ignoring a misspelt filter and answering the whole list; it knows exactly what
the schema documents for it: its pagination's parameters and its filters."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.mixins import ListModelMixin
from rest_framework.test import APIClient

from c4ang.api.views import ListApi
from conftest import client_for

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is not None and issubclass(view, ListModelMixin):
                yield prefix + str(pattern.pattern), view


LIST_ROUTES = sorted(_walk(get_resolver().url_patterns), key=lambda route: route[0])


def _path(route: str, params: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(params[match.group(1)]), route)


def error_of(response) -> tuple:
    body = response.json()
    return response.status_code, body["code"], [(e["field"], e["code"]) for e in body["errors"]]


def test_the_api_has_lists_of_every_module():
    modules = {route.removeprefix("api/v1/").split("/", 1)[0] for route, _ in LIST_ROUTES}
    assert {"customers", "products", "orders", "payments", "saga"} <= modules


@pytest.mark.parametrize(("route", "view"), LIST_ROUTES, ids=[route for route, _ in LIST_ROUTES])
def test_every_list_checks_its_query_parameters(route, view):
    assert issubclass(view, ListApi), f"/{route}: {view.__name__} is a list: base it on c4ang.api.views.ListApi"


@pytest.mark.parametrize(("route", "view"), LIST_ROUTES, ids=[route for route, _ in LIST_ROUTES])
def test_every_list_refuses_an_unknown_parameter(route, view, customer, staff_user, product_factory):
    product = product_factory()
    staff = "/staff/" in route or route.startswith("api/v1/saga/")
    client = client_for(staff_user if staff else customer.user)

    response = client.get(_path(route, {"product_id": product.pk}), {"colour": "red"})

    assert error_of(response) == (400, "unknown_parameter", [("colour", "unknown_parameter")])


def test_the_known_parameters_are_what_the_schema_documents():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    differ = {}
    for route, view_class in LIST_ROUTES:
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        documented = {p["name"] for p in schema["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}
        view = view_class()
        view.kwargs, view.request, view.format_kwarg = {}, None, None
        if documented != view.known_query_parameters():
            differ[path] = (sorted(documented), sorted(view.known_query_parameters()))
    assert differ == {}


# --- one list per module, in detail ---


def test_the_public_product_list_names_each_unknown_parameter_and_what_it_takes(api_client, product_factory):
    product_factory(brand="소니")

    response = api_client.get("/api/v1/products/?colour=red&brand=소니&sort=price&colour=blue")

    assert error_of(response) == (
        400,
        "unknown_parameter",
        [("colour", "unknown_parameter"), ("sort", "unknown_parameter")],
    )
    takes = "brand, category, ids, max_price, min_price, ordering, page, page_size, search"
    assert response.json()["message"] == f"Unknown query parameters: colour, sort; it takes {takes}."
    assert response.json()["errors"][0]["message"] == f"Not a parameter of this list; it takes {takes}."


def test_the_documented_parameters_pass(api_client, product_factory):
    product = product_factory(name="무선 이어폰 프로", brand="소니")
    query = {
        "brand": "소니",
        "category": str(product.category_id),
        "min_price": "1000",
        "max_price": "200000",
        "search": "이어폰",
        "ids": str(product.pk),
        "ordering": "-price",
        "page": "1",
        "page_size": "5",
    }

    response = api_client.get("/api/v1/products/", query)

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [str(product.pk)]


def test_a_cached_page_is_not_served_for_a_query_with_an_unknown_parameter(api_client, product_factory):
    product_factory(brand="소니")
    assert api_client.get("/api/v1/products/", {"brand": "소니"}).status_code == 200  # cached
    assert api_client.get("/api/v1/products/", {"brand": "소니"}).status_code == 200  # from the cache

    response = api_client.get("/api/v1/products/", {"brand": "소니", "utm_source": "ad"})

    assert error_of(response) == (400, "unknown_parameter", [("utm_source", "unknown_parameter")])


def test_a_caller_who_may_not_see_the_list_is_told_that_first(customer_client):
    assert error_of(APIClient().get("/api/v1/saga/", {"colour": "red"})) == (401, "not_authenticated", [])
    assert error_of(customer_client.get("/api/v1/saga/", {"colour": "red"})) == (403, "permission_denied", [])


def test_a_filter_serializer_list_knows_its_filters(staff_client, customer_client):
    # saga: a FilteredListApi (its FilterSerializer's fields); orders: cursor pages (no `page`).
    assert staff_client.get("/api/v1/saga/", {"status": "FAILED", "saga_type": "place_order"}).status_code == 200
    assert error_of(staff_client.get("/api/v1/saga/", {"state": "FAILED"})) == (
        400,
        "unknown_parameter",
        [("state", "unknown_parameter")],
    )
    assert customer_client.get("/api/v1/orders/", {"page_size": "5"}).status_code == 200
    assert error_of(customer_client.get("/api/v1/orders/", {"page": "2"})) == (
        400,
        "unknown_parameter",
        [("page", "unknown_parameter")],
    )


@pytest.mark.parametrize(
    ("path", "staff"),
    [("/api/v1/customers/staff/", True), ("/api/v1/payments/", False), ("/api/v1/orders/returns/", False)],
)
def test_the_other_modules_lists_refuse_one_too(path, staff, staff_client, customer_client):
    client = staff_client if staff else customer_client

    response = client.get(path, {"q": "김민지", "page_size": "10"})

    assert error_of(response) == (400, "unknown_parameter", [("q", "unknown_parameter")])
