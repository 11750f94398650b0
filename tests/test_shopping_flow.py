"""An app built from the schema alone: a client that knows the operation ids the schema publishes and
nothing of the gateway walks the documented shopping flow (browse → cart → checkout → pay → track →
cancel / return), paying by what each order's `next_action` says. Every answer is checked against the
schema: its status must be one the operation documents, its body must match that response's schema."""

import copy
import re

import jsonschema
import pytest
from rest_framework.test import APIClient

from conftest import SHIPPING_ADDRESS, access_token_for


def _nullable_to_json_schema(node):
    """OpenAPI 3.0's `nullable: true` in JSON Schema 2020-12: the value or null."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


class SchemaClient:
    """Calls operations by their operation id, as a client generated from the schema would."""

    def __init__(self, schema: dict):
        self.schema = schema
        self.components = _nullable_to_json_schema(schema["components"])
        self.operations = {
            operation["operationId"]: (method, path, operation)
            for path, item in schema["paths"].items()
            for method, operation in item.items()
        }
        self.http = APIClient()

    def sign_in(self, access: str) -> None:
        self.http.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    def url(self, path: str) -> tuple[str, str]:
        """An operation of a URL a response handed over (`confirm_url`), by the schema's paths."""
        for operation_id, (method, template, _) in self.operations.items():
            if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method == "post":
                return operation_id, path
        raise AssertionError(f"{path} is no operation of the schema")

    def call(self, operation_id: str, *, body=None, query=None, path: str | None = None, **path_params):
        method, template, operation = self.operations[operation_id]
        url = path or template.format(**{name: str(value) for name, value in path_params.items()})
        response = getattr(self.http, method)(url, data=body if method != "get" else query, format="json")
        status = str(response.status_code)
        documented = operation["responses"]
        assert status in documented, f"{method.upper()} {url} answered {status}, documented {sorted(documented)}"
        content = documented[status].get("content", {}).get("application/json")
        answer = response.json() if response.content else None
        if content is not None:
            root = {"$ref": "#/x", "x": _nullable_to_json_schema(content["schema"]), "components": self.components}
            jsonschema.validate(answer, root, cls=jsonschema.Draft202012Validator)
        return response.status_code, answer


@pytest.fixture(scope="module")
def published_schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", {"format": "json"}).json()


@pytest.fixture
def app(db, published_schema) -> SchemaClient:
    return SchemaClient(copy.deepcopy(published_schema))


@pytest.fixture
def staff(db, published_schema, staff_user) -> SchemaClient:
    client = SchemaClient(published_schema)
    client.sign_in(access_token_for(staff_user))
    return client


@pytest.fixture
def catalog(staff) -> dict:
    """Staff stock the shop through the API: two products of one category."""
    _, category = staff.call("products_staff_categories_create", body={"name": "음향기기"})
    products = {}
    for name, price in (("무선 이어폰 프로", 129000), ("이어폰 케이스", 15000)):
        body = {"name": name, "category_id": category["id"], "brand": "소리랩", "price": price, "stock": 10}
        status, products[name] = staff.call("products_staff_create", body=body)
        assert status == 201
    return products


def register(app: SchemaClient, email: str) -> dict:
    status, account = app.call(
        "customers_register", body={"email": email, "password": "c4ang-shop-2026!", "name": "김민지", "phone": ""}
    )
    assert status == 201
    app.sign_in(account["access"])
    return account


def pay(app: SchemaClient, order: dict) -> dict:
    """Do what the order's next_action says to pay it: the sandbox's approving key where a widget
    would hand back the paymentKey, posted to the confirm URL the action names."""
    action = order["next_action"]
    assert action["type"] == "confirm_payment", action
    confirm = action["confirm_payment"]
    assert (confirm["order_id"], confirm["amount"]) == (order["id"], order["total_amount"])
    operation, path = app.url(confirm["confirm_url"])
    body = {
        "paymentKey": confirm["sandbox_payment_keys"]["approve"],
        "orderId": confirm["order_id"],
        "amount": confirm["amount"],
    }
    status, payment = app.call(operation, path=path, body=body)
    assert (status, payment["status"]) == (200, "APPROVED")
    _, paid = app.call("orders_retrieve", order_id=order["id"])
    return paid


def test_an_app_browses_fills_the_cart_checks_out_pays_and_tracks_the_order(app, staff, catalog):
    register(app, "minji@example.com")
    _, config = app.call("payments_config_retrieve")
    assert {method["method"] for method in config["methods"]} == {"card", "virtual_account"}

    _, page = app.call("products_list", query={"search": "이어폰"})
    found = {product["name"]: product for product in page["results"]}
    earphones, case = found["무선 이어폰 프로"], found["이어폰 케이스"]
    app.call("orders_cart_items_add", body={"product_id": earphones["id"], "quantity": 1})
    app.call("orders_cart_items_add", body={"product_id": case["id"], "quantity": 2})
    _, cart = app.call("orders_cart_retrieve")
    assert (cart["checkout_ready"], cart["total_amount"]) == (True, 129000 + 2 * 15000)

    _, address = app.call("customers_addresses_create", body={"label": "집", **SHIPPING_ADDRESS})
    status, order = app.call(
        "orders_create", body={"from_cart": True, "address_id": address["id"], "payment_method": "card"}
    )
    assert (status, order["status"]) == (201, "PENDING")
    assert order["next_action"]["confirm_payment"]["order_name"] == "무선 이어폰 프로 외 1건"

    paid = pay(app, order)
    assert (paid["status"], paid["next_action"]["type"], paid["payment"]["status"]) == ("PAID", "none", "APPROVED")

    staff.call(
        "orders_staff_status_create",
        order_id=order["id"],
        body={"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"},
    )
    _, shipped = app.call("orders_retrieve", order_id=order["id"])
    assert shipped["status"] == "SHIPPED"
    assert shipped["shipment"]["tracking_url"]
    assert [step["to_status"] for step in shipped["history"]] == ["PENDING", "PAID", "SHIPPED"]
    assert [item["product_name"] for item in shipped["items"]] == ["무선 이어폰 프로", "이어폰 케이스"]

    staff.call("orders_staff_status_create", order_id=order["id"], body={"status": "DELIVERED"})
    case_line = next(item for item in shipped["items"] if item["product_name"] == "이어폰 케이스")
    status, asked = app.call(
        "orders_returns_create",
        order_id=order["id"],
        body={"items": [{"order_item_id": case_line["id"], "quantity": 1}], "reason": "defective"},
    )
    assert (status, asked["status"], asked["refund_amount"]) == (201, "REQUESTED", 15000)


def test_an_app_cancels_an_order_and_asking_again_answers_it_cancelled(app, catalog):
    register(app, "junho@example.com")
    earphones = catalog["무선 이어폰 프로"]
    _, order = app.call(
        "orders_create",
        body={"items": [{"product_id": earphones["id"], "quantity": 1}], "address": SHIPPING_ADDRESS},
    )
    paid = pay(app, order)

    for _ in range(2):
        status, cancelled = app.call("orders_cancel_create", order_id=paid["id"], body={})
        assert (status, cancelled["status"], cancelled["cancel_code"]) == (200, "CANCELLED", "customer_cancelled")
    assert cancelled["next_action"]["type"] == "none"


def test_an_app_shows_the_virtual_account_to_deposit_into(app, staff, catalog):
    register(app, "seoyeon@example.com")
    _, config = app.call("payments_config_retrieve")
    virtual_account = next(method for method in config["methods"] if method["method"] == "virtual_account")
    bank = virtual_account["banks"][0]["code"]
    earphones = catalog["무선 이어폰 프로"]
    _, order = app.call(
        "orders_create",
        body={
            "items": [{"product_id": earphones["id"], "quantity": 1}],
            "address": SHIPPING_ADDRESS,
            "payment_method": "virtual_account",
            "bank": bank,
        },
    )
    action = order["next_action"]
    assert action["type"] == "deposit_to_virtual_account"
    assert (action["virtual_account"]["bank"], action["virtual_account"]["amount"]) == (bank, order["total_amount"])

    staff.call("payments_staff_fake_deposit_create", body={"order": order["order_number"]})  # the bank's deposit
    _, paid = app.call("orders_retrieve", order_id=order["id"])
    assert (paid["status"], paid["next_action"]["type"]) == ("PAID", "none")


def test_a_shortage_known_at_checkout_places_nothing_and_names_the_product(app, catalog):
    register(app, "hyunwoo@example.com")
    earphones = catalog["무선 이어폰 프로"]
    status, refused = app.call(
        "orders_create",
        body={"items": [{"product_id": earphones["id"], "quantity": 11}], "address": SHIPPING_ADDRESS},
    )
    assert (status, refused["code"]) == (409, "insufficient_stock")
    assert refused["errors"] == [
        {
            "field": "items.0.quantity",
            "code": "insufficient_stock",
            "message": refused["errors"][0]["message"],
            "product_id": earphones["id"],
            "product_name": "무선 이어폰 프로",
            "available": 10,
        }
    ]
    _, orders = app.call("orders_list")
    assert orders["results"] == []
