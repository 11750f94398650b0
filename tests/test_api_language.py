"""The API answers in the language the request asks for (Accept-Language), Korean by default; only
messages change with it, never an error's code or field. A cookie the admin set is not asked."""

import json
import re
import subprocess
import sys

import pytest
from django.conf import settings

from conftest import order_body

MISSING_PRODUCT = "/api/v1/products/00000000-0000-0000-0000-000000000000/"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9,en-US;q=0.8"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}

pytestmark = pytest.mark.django_db


def messages_of(body: dict) -> list[str]:
    return [body["message"], *(entry["message"] for entry in body.get("errors", []))]


def codes_of(body: dict) -> list:
    return [body["code"], *((entry.get("field"), entry["code"]) for entry in body.get("errors", []))]


def test_a_domain_error_is_said_in_korean_or_english_with_the_same_code(api_client):
    korean = api_client.get(MISSING_PRODUCT, **KOREAN)
    english = api_client.get(MISSING_PRODUCT, **ENGLISH)

    assert korean.status_code == english.status_code == 404
    assert codes_of(korean.json()) == codes_of(english.json())
    assert korean.json()["message"] == "상품을 찾을 수 없습니다."
    assert english.json()["message"] == "Product not found."
    assert korean["Content-Language"] == "ko"
    assert english["Content-Language"] == "en"
    assert "Accept-Language" in korean["Vary"]


def test_validation_errors_name_the_same_fields_and_codes_in_both_languages(api_client):
    body = {"email": "not-an-email", "password": "short", "name": ""}
    korean = api_client.post("/api/v1/customers/register/", body, format="json", **KOREAN)
    english = api_client.post("/api/v1/customers/register/", body, format="json", **ENGLISH)

    assert korean.status_code == english.status_code == 400
    assert codes_of(korean.json()) == codes_of(english.json())
    assert {entry["field"] for entry in korean.json()["errors"]} >= {"email", "name"}
    assert all(HANGUL.search(message) for message in messages_of(korean.json()))
    assert not any(HANGUL.search(message) for message in messages_of(english.json()))


def test_an_order_refused_for_stock_names_the_product_in_the_customers_language(customer_client, product_factory):
    product = product_factory(name="제주 감귤 5kg", stock=1)
    body = order_body([{"product_id": product.id, "quantity": 3}])

    korean = customer_client.post("/api/v1/orders/", body, format="json", **KOREAN)
    english = customer_client.post("/api/v1/orders/", body, format="json", **ENGLISH)

    assert korean.status_code == english.status_code == 409
    assert codes_of(korean.json()) == codes_of(english.json())
    assert korean.json()["code"] == "insufficient_stock"
    assert all(HANGUL.search(message) for message in messages_of(korean.json()))
    assert english.json()["message"].startswith("Not enough stock of 제주 감귤 5kg")
    assert [entry["available"] for entry in korean.json()["errors"]] == [1]


def test_not_signed_in_is_said_in_korean_too(api_client):
    answer = api_client.get("/api/v1/orders/", **KOREAN)

    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"
    assert HANGUL.search(answer.json()["message"])


def test_without_a_language_the_api_speaks_the_default_and_an_unknown_one_falls_back_to_it(api_client, settings):
    settings.LANGUAGE_CODE = "ko"

    assert api_client.get(MISSING_PRODUCT).json()["message"] == "상품을 찾을 수 없습니다."
    answer = api_client.get(MISSING_PRODUCT, HTTP_ACCEPT_LANGUAGE="fr-FR,de;q=0.8")
    assert answer.json()["message"] == "상품을 찾을 수 없습니다."
    assert answer["Content-Language"] == "ko"


def test_the_admins_language_cookie_changes_the_admin_but_never_the_api(client, settings):
    settings.LANGUAGE_CODE = "ko"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    api = client.get(MISSING_PRODUCT, **KOREAN)
    admin = client.get("/admin/login/", **KOREAN)

    assert api.json()["message"] == "상품을 찾을 수 없습니다."
    assert admin["Content-Language"] == "en"
    assert "Log in" in admin.content.decode()


def test_the_admins_language_switcher_sets_the_cookie_for_the_admin(client, settings):
    settings.LANGUAGE_CODE = "ko"
    assert "로그인" in client.get("/admin/login/").content.decode()

    answer = client.post("/admin/i18n/setlang/", {"language": "en", "next": "/admin/login/"})

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/login/"
    assert "Log in" in client.get("/admin/login/").content.decode()


def test_the_platform_speaks_korean_unless_told_otherwise():
    environment = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "c4ang.settings"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.LANGUAGE_CODE)"

    found = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, check=True
    )

    assert found.stdout.strip() == "ko"


def test_the_schema_is_english_whatever_the_client_reads_unless_it_asks(api_client):
    def schema(path: str) -> str:
        return json.dumps(api_client.get(path, **KOREAN).json(), ensure_ascii=False)

    assert "`PENDING` - Pending payment" in schema("/api/schema/?format=json")
    assert "`PENDING` - 결제 대기" in schema("/api/schema/?format=json&lang=ko")
