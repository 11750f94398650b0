"""CORS for browser apps on other origins (django-cors-headers): only the origins CORS_ALLOWED_ORIGINS
names (none by default) get CORS headers, on the API alone; a preflight allows the headers apps send
and the answers expose the headers apps read. Through the test client and a real gunicorn over HTTP."""

import pytest
import requests

from c4ang.tests.test_settings import manage
from conftest import client_for, live_database_url

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
EVIL = "https://evil.example"
CORS_HEADERS = {
    "access-control-allow-origin",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-allow-credentials",
}
APP_HEADERS = ["authorization", "content-type", "idempotency-key", "if-none-match"]
EXPOSED = ["ETag", "Idempotent-Replayed", "Retry-After", "X-Request-ID"]


@pytest.fixture
def shop_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]


def preflight(client, path: str, origin: str, method: str = "POST"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=", ".join(APP_HEADERS),
    )


def cors_headers(response) -> set[str]:
    return {name.lower() for name in response.headers} & CORS_HEADERS


def listed(value: str) -> list[str]:
    return [item.strip().lower() for item in value.split(",")]


def test_no_origin_is_allowed_by_default(settings, api_client):
    assert settings.CORS_ALLOWED_ORIGINS == []

    response = preflight(api_client, "/api/v1/orders/", SHOP)

    assert cors_headers(response) == set()


def test_a_preflight_from_an_allowed_origin_allows_what_apps_send(shop_origin, api_client):
    response = preflight(api_client, "/api/v1/orders/", SHOP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert set(APP_HEADERS) <= set(listed(response["Access-Control-Allow-Headers"]))
    assert {"get", "post", "patch", "delete"} <= set(listed(response["Access-Control-Allow-Methods"]))
    assert response["Access-Control-Max-Age"] == "3600"
    assert "Access-Control-Allow-Credentials" not in response  # tokens go in a header, never cookies
    assert "origin" in listed(response["Vary"])


def test_answers_to_an_allowed_origin_expose_what_apps_read_errors_included(shop_origin, api_client, customer):
    signed_in = client_for(customer.user).get("/api/v1/customers/me/", HTTP_ORIGIN=SHOP)
    refused = api_client.get("/api/v1/customers/me/", HTTP_ORIGIN=SHOP)

    for response, status in ((signed_in, 200), (refused, 401)):
        assert response.status_code == status
        assert response["Access-Control-Allow-Origin"] == SHOP
        assert listed(response["Access-Control-Expose-Headers"]) == [name.lower() for name in EXPOSED]


def test_an_origin_not_listed_gets_no_cors_headers(shop_origin, api_client):
    before = preflight(api_client, "/api/v1/orders/", EVIL)
    after = api_client.get("/api/v1/products/", HTTP_ORIGIN=EVIL)
    lookalike = api_client.get("/api/v1/products/", HTTP_ORIGIN="http://shop.example")  # not https

    assert [cors_headers(response) for response in (before, after, lookalike)] == [set(), set(), set()]
    assert after.status_code == 200


def test_only_the_api_answers_cross_origin(shop_origin, api_client):
    admin = preflight(api_client, "/admin/login/", SHOP)
    probe = api_client.get("/healthz", HTTP_ORIGIN=SHOP)

    assert cors_headers(admin) == cors_headers(probe) == set()


def test_a_post_without_its_trailing_slash_is_preflighted_and_redirected_cross_origin(shop_origin, customer):
    client = client_for(customer.user)

    checked = preflight(client, "/api/v1/orders", SHOP)
    redirected = client.post("/api/v1/orders", {}, format="json", HTTP_ORIGIN=SHOP)

    assert checked.status_code == 200
    assert checked["Access-Control-Allow-Origin"] == SHOP
    # A browser follows a 308 of a cross-origin request only when the 308 carries CORS headers.
    assert redirected.status_code == 308
    assert redirected["Location"] == "/api/v1/orders/"
    assert redirected["Access-Control-Allow-Origin"] == SHOP


@pytest.mark.parametrize("origin", ["*", "https://shop.example/app", "shop.example", "ftp://shop.example"])
def test_what_is_not_an_origin_is_refused_at_start(origin):
    result = manage("check", CORS_ALLOWED_ORIGINS=f"https://ok.example,{origin}")

    assert result.returncode != 0
    assert "CORS_ALLOWED_ORIGINS takes origins" in result.stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the server reads a copy of the database: committed data only
def test_a_browser_app_signs_in_cross_origin_over_real_http(gunicorn_server, tmp_path):
    # Given a real gunicorn allowing the shop's origin (read from its environment)
    server = gunicorn_server(
        {"CORS_ALLOWED_ORIGINS": f"{SHOP},https://admin.shop.example", "DATABASE_URL": live_database_url(tmp_path)}
    )
    asks = {
        "Origin": SHOP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }

    # When the browser preflights the sign-in, then sends it (with a wrong password)
    checked = requests.options(f"{server.url}/api/v1/customers/token/", headers=asks, timeout=30)
    signed_in = requests.post(
        f"{server.url}/api/v1/customers/token/",
        json={"email": "kim.minji@example.kr", "password": "not the password"},
        headers={"Origin": SHOP},
        timeout=30,
    )
    foreign = requests.options(f"{server.url}/api/v1/customers/token/", headers={**asks, "Origin": EVIL}, timeout=30)

    # Then the preflight allows it, and the app may read the refusal and its request id
    assert checked.status_code == 200
    assert checked.headers["Access-Control-Allow-Origin"] == SHOP
    assert "content-type" in listed(checked.headers["Access-Control-Allow-Headers"])
    assert signed_in.status_code == 401
    assert signed_in.json()["code"] == "no_active_account"
    assert signed_in.headers["Access-Control-Allow-Origin"] == SHOP
    assert "x-request-id" in listed(signed_in.headers["Access-Control-Expose-Headers"])
    assert foreign.status_code == 200
    assert not {name.lower() for name in foreign.headers} & CORS_HEADERS
