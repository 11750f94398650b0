"""Who may call what, for every endpoint the URL conf mounts (all modules), so that none is forgotten.

Every (route, method) of the API must be classified in ACCESS; a new endpoint fails
test_every_endpoint_is_classified until it is. Each one is then called as anonymous, customer B,
staff and customer A, with real objects of A's (an order, its payment and saga, a review) in the
path and a valid body, so that the call reaches the ownership check:

- public:   everyone gets through;
- customer: a signed-in customer acting on their own data; anonymous 401, staff (no customer
            profile) 404 `customer_not_found`;
- owner:    A's object; anonymous 401, B 404 (others' data is hidden, not forbidden), staff 404
            `customer_not_found` (staff use the staff endpoints);
- staff:    anonymous 401, customers 403 `permission_denied`.

A refused call changes nothing. Every admin page sends anonymous visitors and signed-in customers
to the admin sign-in; staff get through.
"""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from c4ang.actors import Actor, ActorKind
from conftest import SHIPPING_ADDRESS, client_for, order_body, order_line, place_order
from customers.models import Customer, CustomerAddress, User
from orders import services as order_services
from orders.models import CartItem, Order, OrderItem, Return
from orders.tests.factories import OrderFactory, OrderItemFactory, ShipmentFactory
from payments.models import Payment, WebhookEvent
from products.models import Category, Product, Review, StockAdjustment
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

PUBLIC, CUSTOMER, OWNER, STAFF = "public", "customer", "owner", "staff"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Access:
    who: str
    body: object = None  # a callable of the world: a valid request body
    ok: tuple[int, ...] = (200,)  # the allowed caller's status


def new_email(_world) -> dict:
    return {"email": f"new-{uuid.uuid4().hex[:12]}@example.kr", "password": PASSWORD, "name": "신규 고객"}


def fresh_refresh(world) -> dict:
    return {"refresh": str(RefreshToken.for_user(world.a.user))}


def reset_link_of_a(world) -> dict:
    # A fresh link each call: the last call's new password made the one before it a used link.
    user = User.objects.get(pk=world.a.user_id)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return {"uid": uid, "token": default_token_generator.make_token(user), "new_password": PASSWORD}


def one_line(world) -> dict:
    return order_body([order_line(world.product)], pay_with=None)


def one_unit_of_a_line(world) -> dict:
    item = OrderItem.objects.filter(order_id=world.params["order_id"]).get()
    return {"lines": [{"order_item_id": str(item.pk), "quantity": 1}], "reason": "일부 취소"}


def one_returned_unit(world) -> dict:
    item = OrderItem.objects.filter(order_id=world.params["order_id"]).get()
    return {"items": [{"order_item_id": str(item.pk), "quantity": 1}], "reason": "defective"}


ACCESS = {
    ("api/v1/customers/register/", "POST"): Access(PUBLIC, new_email, ok=(201,)),
    ("api/v1/customers/token/", "POST"): Access(PUBLIC, lambda w: {"email": w.a.email, "password": PASSWORD}),
    ("api/v1/customers/token/refresh/", "POST"): Access(PUBLIC, fresh_refresh),
    ("api/v1/customers/logout/", "POST"): Access(PUBLIC, fresh_refresh, ok=(204,)),
    ("api/v1/customers/me/", "GET"): Access(CUSTOMER),
    ("api/v1/customers/me/", "PATCH"): Access(CUSTOMER, lambda w: {"name": "새 이름"}),
    ("api/v1/customers/me/addresses/", "GET"): Access(CUSTOMER),
    ("api/v1/customers/me/addresses/", "POST"): Access(
        CUSTOMER, lambda w: {"label": "회사", **SHIPPING_ADDRESS}, ok=(201,)
    ),
    ("api/v1/customers/me/addresses/<uuid:address_id>/", "GET"): Access(OWNER),
    ("api/v1/customers/me/addresses/<uuid:address_id>/", "PATCH"): Access(OWNER, lambda w: {"detail": "13층"}),
    ("api/v1/customers/me/addresses/<uuid:address_id>/", "DELETE"): Access(OWNER, ok=(204,)),
    ("api/v1/customers/me/addresses/<uuid:address_id>/default/", "POST"): Access(OWNER),
    ("api/v1/customers/staff/", "GET"): Access(STAFF),
    ("api/v1/customers/staff/", "POST"): Access(STAFF, new_email, ok=(201,)),
    ("api/v1/customers/staff/<uuid:customer_id>/", "GET"): Access(STAFF),
    ("api/v1/customers/staff/<uuid:customer_id>/", "PATCH"): Access(STAFF, lambda w: {"is_active": False}),
    ("api/v1/customers/staff/<uuid:customer_id>/", "DELETE"): Access(STAFF, ok=(204,)),
    ("api/v1/customers/me/password/", "POST"): Access(
        CUSTOMER, lambda w: {"old_password": PASSWORD, "new_password": PASSWORD}
    ),
    # B has no orders: B's account is deleted. A's paid order is under way: A is refused.
    ("api/v1/customers/me/delete/", "POST"): Access(CUSTOMER, lambda w: {"password": PASSWORD}, ok=(204, 409)),
    ("api/v1/customers/password-reset/", "POST"): Access(PUBLIC, lambda w: {"email": w.a.email}, ok=(202,)),
    ("api/v1/customers/password-reset/confirm/", "POST"): Access(PUBLIC, reset_link_of_a, ok=(204,)),
    ("api/v1/products/", "GET"): Access(PUBLIC),
    ("api/v1/products/<uuid:product_id>/", "GET"): Access(PUBLIC),
    ("api/v1/products/<uuid:product_id>/reviews/", "GET"): Access(PUBLIC),
    ("api/v1/products/<uuid:product_id>/reviews/", "POST"): Access(
        CUSTOMER, lambda w: {"rating": 4, "content": "배송이 빨라요"}, ok=(201,)
    ),
    ("api/v1/products/categories/", "GET"): Access(PUBLIC),
    ("api/v1/products/brands/", "GET"): Access(PUBLIC),
    ("api/v1/products/staff/", "GET"): Access(STAFF),
    ("api/v1/products/staff/", "POST"): Access(
        STAFF,
        lambda w: {"name": "새 상품", "category_id": str(w.product.category_id), "brand": "LG", "price": "1000"},
        ok=(201,),
    ),
    ("api/v1/products/staff/categories/", "POST"): Access(STAFF, lambda w: {"name": "새 카테고리"}, ok=(201,)),
    ("api/v1/products/staff/categories/<uuid:category_id>/", "PATCH"): Access(STAFF, lambda w: {"name": "새 분류"}),
    ("api/v1/products/staff/<uuid:product_id>/", "GET"): Access(STAFF),
    ("api/v1/products/staff/<uuid:product_id>/", "PATCH"): Access(STAFF, lambda w: {"price": "12000"}),
    ("api/v1/products/staff/<uuid:product_id>/", "DELETE"): Access(STAFF),
    ("api/v1/products/staff/<uuid:product_id>/stock/", "POST"): Access(STAFF, lambda w: {"delta": 5, "reason": "입고"}),
    ("api/v1/products/staff/reviews/<uuid:review_id>/", "PATCH"): Access(STAFF, lambda w: {"status": "REJECTED"}),
    # Images: uploads are multipart (this matrix posts JSON: staff get as far as the parser) and the
    # world has no image (no files written here); products/tests/test_images.py does both for real.
    ("api/v1/products/staff/<uuid:product_id>/images/", "GET"): Access(STAFF),
    ("api/v1/products/staff/<uuid:product_id>/images/", "POST"): Access(
        STAFF, lambda w: {"alt_text": "정면"}, ok=(415,)
    ),
    ("api/v1/products/staff/<uuid:product_id>/images/<uuid:image_id>/", "PATCH"): Access(
        STAFF, lambda w: {"alt_text": "측면"}, ok=(404,)
    ),
    ("api/v1/products/staff/<uuid:product_id>/images/<uuid:image_id>/", "DELETE"): Access(STAFF, ok=(404,)),
    ("api/v1/orders/", "GET"): Access(CUSTOMER),
    ("api/v1/orders/", "POST"): Access(CUSTOMER, one_line, ok=(201,)),
    ("api/v1/orders/<uuid:order_id>/", "GET"): Access(OWNER),
    ("api/v1/orders/cart/", "GET"): Access(CUSTOMER),
    ("api/v1/orders/cart/", "DELETE"): Access(CUSTOMER, ok=(204,)),
    ("api/v1/orders/cart/items/", "POST"): Access(CUSTOMER, lambda w: order_line(w.product), ok=(200, 201)),
    # A's cart holds the product: another customer's cart has no such line.
    ("api/v1/orders/cart/items/<uuid:product_id>/", "PATCH"): Access(OWNER, lambda w: {"quantity": 2}),
    ("api/v1/orders/cart/items/<uuid:product_id>/", "DELETE"): Access(OWNER),
    ("api/v1/orders/<uuid:order_id>/cancel/", "POST"): Access(OWNER, lambda w: {"reason": "마음이 바뀜"}),
    ("api/v1/orders/staff/", "GET"): Access(STAFF),
    ("api/v1/orders/staff/<uuid:order_id>/", "GET"): Access(STAFF),
    ("api/v1/orders/staff/<uuid:order_id>/status/", "POST"): Access(
        STAFF, lambda w: {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": "123456789012"}
    ),
    # A's paid order has one line of one unit: cancelling it cancels the order.
    ("api/v1/orders/<uuid:order_id>/cancel-lines/", "POST"): Access(OWNER, lambda w: one_unit_of_a_line(w)),
    ("api/v1/orders/staff/<uuid:order_id>/cancel-lines/", "POST"): Access(STAFF, lambda w: one_unit_of_a_line(w)),
    ("api/v1/orders/staff/<uuid:order_id>/cancel/", "POST"): Access(STAFF, lambda w: {"reason": "품절"}),
    # A's order in the path is paid, not delivered: A gets through to the refusal of the rule.
    ("api/v1/orders/<uuid:order_id>/returns/", "POST"): Access(OWNER, one_returned_unit, ok=(409,)),
    ("api/v1/orders/returns/", "GET"): Access(CUSTOMER),
    ("api/v1/orders/returns/<uuid:return_id>/", "GET"): Access(OWNER),
    ("api/v1/orders/staff/returns/", "GET"): Access(STAFF),
    ("api/v1/orders/staff/returns/<uuid:return_id>/", "GET"): Access(STAFF),
    # A's return is REQUESTED: approved or rejected at once; received and refunded only later (409).
    ("api/v1/orders/staff/returns/<uuid:return_id>/approve/", "POST"): Access(STAFF, lambda w: {"note": "승인"}),
    ("api/v1/orders/staff/returns/<uuid:return_id>/reject/", "POST"): Access(STAFF, lambda w: {"note": "불가"}),
    ("api/v1/orders/staff/returns/<uuid:return_id>/receive/", "POST"): Access(
        STAFF, lambda w: {"lines": [{"order_item_id": str(w.returned_item.pk), "resellable": True}]}, ok=(409,)
    ),
    ("api/v1/orders/staff/returns/<uuid:return_id>/refund/", "POST"): Access(STAFF, ok=(409,)),
    ("api/v1/payments/", "GET"): Access(CUSTOMER),
    ("api/v1/payments/<uuid:payment_id>/", "GET"): Access(OWNER),
    ("api/v1/payments/config/", "GET"): Access(PUBLIC),
    # A's unpaid order is named in the body, not the path: still A's alone to pay.
    ("api/v1/payments/confirm/", "POST"): Access(
        OWNER,
        lambda w: {"paymentKey": "tok_approve", "orderId": str(w.unpaid.pk), "amount": str(w.unpaid.total_amount)},
    ),
    # Toss signs no webhooks: a delivery is only a hint, checked with the PG before anything changes.
    ("api/v1/payments/webhooks/toss/", "POST"): Access(
        PUBLIC,
        lambda w: {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": uuid.uuid4().hex, "data": {"paymentKey": "x"}},
    ),
    # Also unsigned: the account's secret is checked, then the payment fetched from the PG.
    ("api/v1/payments/webhooks/toss/deposit/", "POST"): Access(
        PUBLIC,
        lambda w: {"createdAt": uuid.uuid4().hex, "secret": "x", "status": "DONE", "orderId": str(uuid.uuid4())},
    ),
    ("api/v1/payments/staff/", "GET"): Access(STAFF),
    # The fake PG's deposit into A's virtual account (staff only, and only with the fake gateway).
    ("api/v1/payments/staff/fake-deposit/", "POST"): Access(
        STAFF, lambda w: {"order": w.awaiting_deposit.order_number}
    ),
    ("api/v1/payments/staff/<uuid:payment_id>/refund/", "POST"): Access(STAFF, lambda w: {"note": "환불 요청"}),
    ("api/v1/payments/staff/refunds/", "GET"): Access(STAFF),
    # A goodwill refund needs its Idempotency-Key header, which the matrix does not send: staff get
    # through to the 400 naming it (the refund itself: payments/tests/test_refunds.py).
    ("api/v1/payments/staff/<uuid:payment_id>/refunds/", "POST"): Access(
        STAFF, lambda w: {"amount": "1000"}, ok=(400,)
    ),
    ("api/v1/recommendations/me/", "GET"): Access(CUSTOMER),
    ("api/v1/recommendations/<uuid:product_id>/", "GET"): Access(PUBLIC),
    ("api/v1/saga/", "GET"): Access(STAFF),
    ("api/v1/saga/<uuid:saga_id>/", "GET"): Access(STAFF),
    # A saga waiting for its payment runs forward again: it waits again.
    ("api/v1/saga/<uuid:saga_id>/retry/", "POST"): Access(STAFF),
    ("api/v1/saga/<uuid:saga_id>/compensate/", "POST"): Access(STAFF, lambda w: {"reason": "멈춤"}),
    ("api/schema/", "GET"): Access(PUBLIC),
    ("api/docs/", "GET"): Access(PUBLIC),
    # The uploaded images of the embedded default (var/media/), public as the bucket is in production.
    ("media/<path:path>", "GET"): Access(PUBLIC, ok=(404,)),
}
ADMIN_PREFIX = "admin/"
# The sign-in page, and the language switcher of the admin's header (Django's set_language: it only
# sets the language cookie and redirects, for anyone).
ADMIN_PUBLIC = {"admin/login/", "admin/i18n/setlang/"}


def walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def mounted_routes() -> list[tuple[str, object]]:
    assert list(settings.C4ANG_ALL_MODULES) == settings.C4ANG_MODULES, "the matrix needs every module mounted"
    return list(walk(get_resolver().url_patterns))


def view_methods(callback) -> list[str]:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:  # a plain function view answers any method
        return ["GET", "POST"]
    # OPTIONS is the API's metadata (answered after the same checks); HEAD follows GET.
    return [m.upper() for m in view.http_method_names if hasattr(view, m) and m not in ("options", "head")]


API_ENDPOINTS = [
    (route, method)
    for route, callback in mounted_routes()
    if not route.startswith(ADMIN_PREFIX)
    for method in view_methods(callback)
]
ADMIN_ROUTES = [route for route, _ in mounted_routes() if route.startswith(ADMIN_PREFIX)]


def test_every_endpoint_is_classified():
    unlisted = sorted(set(API_ENDPOINTS) - set(ACCESS))
    stale = sorted(set(ACCESS) - set(API_ENDPOINTS))

    assert not unlisted, (
        f"classify these endpoints in ACCESS ({__name__}) as public, customer, owner or staff: {unlisted}"
    )
    assert not stale, f"ACCESS lists endpoints the URL conf no longer mounts: {stale}"
    # Every admin route (each model admin's pages, the dashboard, the job buttons) is staff-only.
    assert {"admin/", "admin/dashboard/", "admin/jobs/<str:job>/start/", "admin/orders/order/"} <= set(ADMIN_ROUTES)


# --- the world: two customers, A's orders, payment, saga and review; staff ------------------------


@pytest.fixture
def world(customer_factory, staff_user, product_factory) -> SimpleNamespace:
    a, b = customer_factory(name="고객 A"), customer_factory(name="고객 B")
    staff_user.is_superuser = True  # every admin page renders for the staff role
    staff_user.save()
    product, reviewed = product_factory(stock=50), product_factory(stock=50)
    as_a = client_for(a.user)
    paid = place_order(as_a, [order_line(product)])
    unpaid = place_order(as_a, [order_line(reviewed)], pay_with=None)
    awaiting_deposit = place_order(
        as_a, [order_line(reviewed)], pay_with="tok_va_deposit_later", payment_method="virtual_account", bank="88"
    )
    review = as_a.post(f"/api/v1/products/{reviewed.pk}/reviews/", {"rating": 5, "content": "좋아요"})
    address = as_a.post("/api/v1/customers/me/addresses/", {"label": "집", **SHIPPING_ADDRESS}, format="json")
    in_cart = as_a.post("/api/v1/orders/cart/items/", order_line(product), format="json")
    created = (paid, unpaid, awaiting_deposit, review, address, in_cart)
    assert [response.status_code for response in created] == [201] * len(created)
    paid_order, unpaid_order = Order.objects.get(pk=paid.json()["id"]), Order.objects.get(pk=unpaid.json()["id"])
    # A's delivered order and the return A asked for of it (REQUESTED).
    delivered = OrderFactory(customer=a, status="DELIVERED")
    returned_item = OrderItemFactory(order=delivered, product=product)
    ShipmentFactory(order=delivered, delivered_at=delivered.created_at)
    requested = order_services.return_request(
        order_id=delivered.pk,
        customer_id=a.pk,
        lines={returned_item.pk: 1},
        reason="defective",
        by=Actor(ActorKind.CUSTOMER, a.user.email),
    )
    return SimpleNamespace(
        a=a,
        b=b,
        staff=staff_user,
        product=product,
        returned_item=returned_item,
        unpaid=unpaid_order,
        awaiting_deposit=Order.objects.get(pk=awaiting_deposit.json()["id"]),
        params={
            "address_id": address.json()["id"],
            "category_id": product.category_id,
            "customer_id": b.pk,  # staff deactivate this account; B has had its turn by then
            "product_id": product.pk,
            "order_id": paid_order.pk,
            "payment_id": Payment.objects.get(order=paid_order).pk,
            "review_id": review.json()["id"],
            "saga_id": unpaid_order.saga_id,  # waiting for its payment
            "image_id": uuid.uuid4(),
            "path": "products/originals/none.jpg",
            "return_id": requested.pk,
        },
    )


def path_of(route: str, params: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(params[match.group(1)]), route)


def snapshot() -> tuple:
    """Everything a refused call might have changed."""
    return (
        list(Order.objects.order_by("pk").values_list("pk", "status", "cancel_reason")),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "amount")),
        list(SagaInstance.objects.order_by("pk").values_list("pk", "status", "current_step")),
        list(Review.objects.order_by("pk").values_list("pk", "status", "rating", "content")),
        list(Product.objects.order_by("pk").values_list("pk", "stock", "price", "is_active")),
        list(Customer.objects.order_by("pk").values_list("pk", "name", "phone")),
        list(User.objects.order_by("pk").values_list("pk", "is_active")),
        list(CustomerAddress.objects.order_by("pk").values_list("pk", "detail", "is_default")),
        list(CartItem.objects.order_by("pk").values_list("pk", "quantity")),
        list(Return.objects.order_by("pk").values_list("pk", "status", "staff_note")),
        Category.objects.count(),
        StockAdjustment.objects.count(),
        WebhookEvent.objects.count(),
    )


def refusal(access: Access, role: str) -> tuple[int, str] | None:
    """The (status, code) a role gets, or None when it is let through."""
    if access.who == PUBLIC:
        return None
    if role == "anonymous":
        return 401, "not_authenticated"
    if access.who == STAFF:
        return None if role == "staff" else (403, "permission_denied")
    if role == "staff":
        return 404, "customer_not_found"
    if access.who == OWNER and role == "customer B":
        return 404, "*_not_found"
    return None


@pytest.mark.parametrize(("route", "method"), API_ENDPOINTS, ids=[f"{m} /{r}" for r, m in API_ENDPOINTS])
def test_each_role_gets_what_its_class_allows(world, route, method):
    access = ACCESS.get((route, method))
    if access is None:
        pytest.fail(f"{method} /{route} is not classified: add it to ACCESS ({__name__})")
    clients = {
        "anonymous": APIClient(),
        "customer B": client_for(world.b.user),
        "staff": client_for(world.staff),
        "customer A": client_for(world.a.user),
    }
    url = path_of(route, world.params)
    seen = {}
    for role, client in clients.items():
        before = snapshot()
        body = access.body(world) if access.body else None
        response = getattr(client, method.lower())(url, body, format="json")
        seen[role] = response.status_code
        expected = refusal(access, role)
        if expected is None:
            assert response.status_code in access.ok, (role, response.status_code, response.content[:300])
            continue
        status, code = expected
        assert response.status_code == status, (role, response.status_code, response.content[:300])
        actual_code = response.json()["code"]
        assert actual_code.endswith("_not_found") if code == "*_not_found" else actual_code == code, (role, actual_code)
        assert set(response.json()) == {"code", "message", "errors"}
        assert snapshot() == before, f"{role}'s refused {method} /{route} changed something"
    assert len(seen) == 4


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_the_admin_sends_non_staff_to_its_sign_in(world, role):
    browser = Client()
    if role == "customer":
        browser.force_login(world.a.user)
    params = {"object_id": "1", "content_type_id": "1", "id": "1", "job": "daily_recommendation_pipeline"}
    before = snapshot()
    wrong = []
    for route in ADMIN_ROUTES:
        if route in ADMIN_PUBLIC:
            continue
        path = admin_sample_path(route, params)
        for method in ("get", "post"):
            response = getattr(browser, method)(path)
            target = "/admin/" if route == "admin/logout/" else "/admin/login/"
            if response.status_code != 302 or not response["Location"].startswith(target):
                wrong.append((method.upper(), path, response.status_code, response.get("Location")))
    assert wrong == []
    assert snapshot() == before
    assert browser.get("/admin/login/").status_code == 200


def test_staff_get_through_every_admin_page(world):
    browser = Client()
    browser.force_login(world.staff)
    params = {"object_id": str(world.params["order_id"]), "content_type_id": "1", "id": str(world.staff.pk)}
    params["job"] = "daily_recommendation_pipeline"
    statuses = {}
    for route in ADMIN_ROUTES:
        path = admin_sample_path(route, params)
        response = browser.get(path)
        statuses[path] = response.status_code
        assert response.status_code < 500, path
        assert not (response.status_code == 302 and response["Location"].startswith("/admin/login/")), path
    assert statuses["/admin/"] == 200
    assert statuses["/admin/dashboard/"] == 200
    assert statuses["/admin/orders/order/"] == 200


def admin_sample_path(route: str, params: dict) -> str:
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<app_label>[^)]*\)", "orders", route)
    route = route.replace("(?P<url>.*)", "no-such-page/")
    return path_of(route, params)


def test_the_customers_order_is_untouched_by_others(world):
    """The matrix, spelled out once: B's cancel of A's paid order is hidden and changes nothing."""
    order_id = world.params["order_id"]

    response = client_for(world.b.user).post(f"/api/v1/orders/{order_id}/cancel/", {"reason": "x"}, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
    assert Order.objects.get(pk=order_id).status == "PAID"
    assert Payment.objects.get(order_id=order_id).status == "APPROVED"
    assert Product.objects.get(pk=world.product.pk).stock == 49
    assert Decimal(client_for(world.a.user).get(f"/api/v1/orders/{order_id}/").json()["total_amount"]) > 0
