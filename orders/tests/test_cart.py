"""The customer's cart through HTTP and its services: adding, changing, removing and clearing lines,
the view at current catalog prices with its flags and amounts, the bounds, ownership, query budgets
and the read-only admin."""

from decimal import Decimal
from uuid import uuid4

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import client_for
from orders import errors, selectors, services
from orders.models import Cart, CartItem
from orders.tests.factories import CartFactory, CartItemFactory
from products.errors import ProductNotFound
from products.models import Product

pytestmark = pytest.mark.django_db

CART = "/api/v1/orders/cart/"
ITEMS = f"{CART}items/"


def item_url(product) -> str:
    return f"{ITEMS}{product.pk}/"


def add(client, product, quantity: int = 1):
    return client.post(ITEMS, {"product_id": str(product.pk), "quantity": quantity}, format="json")


def lines_of(customer) -> list[tuple]:
    """(product id, quantity, price when added) of the customer's cart lines, oldest first."""
    return list(
        CartItem.objects.filter(cart__customer=customer).values_list("product_id", "quantity", "price_when_added")
    )


def field_errors(response) -> list[tuple]:
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def set_product(product, **fields) -> None:
    Product.objects.filter(pk=product.pk).update(**fields)


# --- the view -----------------------------------------------------------------------------------


def test_a_customer_without_a_cart_sees_an_empty_one(customer_client, django_assert_num_queries):
    with django_assert_num_queries(3):  # the user (JWT), the customer, the lines
        response = customer_client.get(CART)

    assert response.status_code == 200
    assert response.json() == {
        "currency": "KRW",
        "lines": [],
        "items_amount": 0,
        "shipping_fee": 0,
        "total_amount": 0,
        "checkout_ready": False,
    }
    assert Cart.objects.count() == 0


def test_the_first_add_creates_the_cart_with_a_line_at_the_catalog_price(customer_client, customer, product_factory):
    earphones = product_factory(name="무선 이어폰", price=Decimal("12900"), stock=5)

    response = add(customer_client, earphones, 2)

    assert response.status_code == 201, response.content
    body = response.json()
    [line] = body.pop("lines")
    assert line.pop("added_at")
    assert line == {
        "product_id": str(earphones.pk),
        "name": "무선 이어폰",
        "price": 12900,
        "price_when_added": 12900,
        "price_changed": False,
        "quantity": 2,
        "line_total": 25800,
        "available": True,
        "stock_short": False,
    }
    assert body == {
        "currency": "KRW",
        "items_amount": 25800,
        "shipping_fee": 3000,
        "total_amount": 28800,
        "checkout_ready": True,
    }
    cart = Cart.objects.get()
    assert cart.customer_id == customer.pk
    assert lines_of(customer) == [(earphones.pk, 2, Decimal(12900))]


def test_adding_a_product_again_adds_to_its_line(customer_client, customer, product_factory):
    product = product_factory(stock=50)
    add(customer_client, product, 2)

    response = add(customer_client, product, 3)

    assert response.status_code == 200
    assert [line["quantity"] for line in response.json()["lines"]] == [5]
    assert lines_of(customer) == [(product.pk, 5, Decimal(10000))]


def test_lines_are_listed_oldest_first_and_the_amounts_add_up(customer_client, product_factory):
    first, second, third = (product_factory(price=Decimal(price)) for price in ("1000", "2500", "700"))
    for product, quantity in ((first, 3), (second, 1), (third, 2)):
        add(customer_client, product, quantity)

    body = customer_client.get(CART).json()

    assert [(line["product_id"], line["line_total"]) for line in body["lines"]] == [
        (str(first.pk), 3000),
        (str(second.pk), 2500),
        (str(third.pk), 1400),
    ]
    assert (body["items_amount"], body["shipping_fee"], body["total_amount"]) == (6900, 3000, 9900)


@pytest.mark.parametrize(
    ("price", "fee"),
    [("49999", 3000), ("50000", 0), ("120000", 0)],
)
def test_shipping_is_free_from_the_threshold(customer_client, product_factory, price, fee):
    add(customer_client, product_factory(price=Decimal(price)), 1)

    body = customer_client.get(CART).json()

    assert body["shipping_fee"] == fee
    assert Decimal(body["total_amount"]) == Decimal(price) + Decimal(fee)


def test_a_price_change_since_adding_is_flagged_and_the_current_price_counts(customer_client, product_factory):
    product = product_factory(price=Decimal("10000"))
    add(customer_client, product, 2)
    set_product(product, price=Decimal("12000"))

    [line] = customer_client.get(CART).json()["lines"]

    assert (line["price"], line["price_when_added"], line["price_changed"]) == (12000, 10000, True)
    assert line["line_total"] == 24000


def test_adding_again_takes_the_price_the_customer_saw(customer_client, customer, product_factory):
    product = product_factory(price=Decimal("10000"))
    add(customer_client, product, 1)
    set_product(product, price=Decimal("9000"))

    [line] = add(customer_client, product, 1).json()["lines"]

    assert (line["price_when_added"], line["price_changed"], line["quantity"]) == (9000, False, 2)
    assert lines_of(customer) == [(product.pk, 2, Decimal(9000))]


def test_a_product_taken_off_sale_is_flagged_and_left_out_of_the_amounts(customer_client, product_factory):
    kept, withdrawn = product_factory(price=Decimal("20000")), product_factory(price=Decimal("40000"))
    add(customer_client, kept, 1)
    add(customer_client, withdrawn, 1)
    set_product(withdrawn, is_active=False)

    body = customer_client.get(CART).json()

    assert [(line["available"], line["line_total"]) for line in body["lines"]] == [
        (True, 20000),
        (False, 40000),
    ]
    # 20,000 of items left: below the free-shipping threshold the 60,000 would have reached.
    assert (body["items_amount"], body["shipping_fee"], body["total_amount"]) == (20000, 3000, 23000)
    assert body["checkout_ready"] is False


@pytest.mark.parametrize(("stock", "short"), [(2, True), (3, False), (0, True)])
def test_a_line_beyond_the_stock_is_flagged_short_and_blocks_checkout(customer_client, product_factory, stock, short):
    product = product_factory(stock=10)
    add(customer_client, product, 3)
    set_product(product, stock=stock)

    body = customer_client.get(CART).json()

    assert body["lines"][0]["stock_short"] is short
    assert body["lines"][0]["available"] is True
    # A short line still counts: it is for sale, at this price, only not in this quantity.
    assert body["items_amount"] == 30000
    assert body["checkout_ready"] is not short


def test_a_cart_beyond_the_largest_order_total_is_shown_but_not_ready(customer_client, product_factory):
    product = product_factory(price=Decimal("1000"), stock=1000)
    add(customer_client, product, 1000)
    set_product(product, price=Decimal("99999999"))  # staff raised the price after the line was added

    response = customer_client.get(CART)

    assert response.status_code == 200
    body = response.json()
    assert (body["lines"][0]["line_total"], body["items_amount"]) == (99999999000, 99999999000)
    assert body["checkout_ready"] is False


def test_the_cart_lives_in_the_database_not_the_cache(customer_client, product_factory):
    product = product_factory()
    add(customer_client, product, 4)

    cache.clear()  # a Redis restart

    assert [line["quantity"] for line in customer_client.get(CART).json()["lines"]] == [4]


def test_cart_view_is_a_dataclass_of_lines(customer, product_factory):
    product = product_factory(price=Decimal("5000"), stock=1)
    CartItemFactory(cart=CartFactory(customer=customer), product=product, quantity=2, price_when_added=Decimal("6000"))

    view = selectors.cart_view(customer_id=customer.pk)

    [line] = view.lines
    assert (line.product_id, line.price, line.price_when_added, line.quantity) == (product.pk, 5000, 6000, 2)
    assert (line.price_changed, line.line_total, line.available, line.stock_short) == (True, 10000, True, True)
    assert (view.items_amount, view.shipping_fee, view.total_amount, view.checkout_ready) == (10000, 3000, 13000, False)


# --- changing, removing, clearing ---------------------------------------------------------------


def test_setting_a_quantity_keeps_the_price_when_added(customer_client, customer, product_factory):
    product = product_factory(price=Decimal("10000"), stock=50)
    add(customer_client, product, 2)
    set_product(product, price=Decimal("11000"))

    response = customer_client.patch(item_url(product), {"quantity": 7}, format="json")

    assert response.status_code == 200
    [line] = response.json()["lines"]
    assert (line["quantity"], line["price_when_added"], line["price_changed"]) == (7, 10000, True)
    assert lines_of(customer) == [(product.pk, 7, Decimal(10000))]


def test_removing_a_product_leaves_the_others(customer_client, customer, product_factory):
    kept, removed = product_factory(), product_factory()
    add(customer_client, kept, 1)
    add(customer_client, removed, 2)

    response = customer_client.delete(item_url(removed))

    assert response.status_code == 200
    assert [line["product_id"] for line in response.json()["lines"]] == [str(kept.pk)]
    assert lines_of(customer) == [(kept.pk, 1, Decimal(10000))]


def test_clearing_empties_the_cart(customer_client, customer, product_factory):
    add(customer_client, product_factory(), 1)
    add(customer_client, product_factory(), 2)

    response = customer_client.delete(CART)

    assert response.status_code == 204
    assert lines_of(customer) == []
    assert Cart.objects.filter(customer=customer).count() == 1
    assert customer_client.get(CART).json()["lines"] == []


def test_clearing_without_a_cart_is_fine(customer_client):
    assert customer_client.delete(CART).status_code == 204
    assert Cart.objects.count() == 0


def test_each_write_marks_when_the_cart_last_changed(customer_client, customer, product_factory):
    product = product_factory()
    add(customer_client, product, 1)
    before = Cart.objects.get().updated_at

    customer_client.patch(item_url(product), {"quantity": 2}, format="json")

    assert Cart.objects.get().updated_at > before


# --- bounds and bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"quantity": 1}, [("product_id", "required")]),
        ({"product_id": "not-a-uuid", "quantity": 1}, [("product_id", "invalid")]),
        ({"quantity": 0}, [("product_id", "required"), ("quantity", "min_value")]),
        ({"quantity": settings.ORDER_MAX_QUANTITY + 1}, [("product_id", "required"), ("quantity", "max_value")]),
        ({"quantity": "many"}, [("product_id", "required"), ("quantity", "invalid")]),
    ],
)
def test_bad_add_input_is_a_400_naming_the_field(customer_client, body, expected):
    response = customer_client.post(ITEMS, body, format="json")

    assert response.status_code == 400
    assert sorted(field_errors(response)) == expected
    assert Cart.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [b"[]", b'"two"', b"null", b'{"product_id": null, "quantity": 1e400}', b'{"quantity": 9223372036854775808}'],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_bodies_of_no_shape_are_400s(customer_client, customer, product_factory, raw, method):
    product = product_factory()
    add(customer_client, product, 1)
    url = ITEMS if method == "post" else item_url(product)

    response = getattr(customer_client, method)(url, raw, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "errors"}
    assert lines_of(customer) == [(product.pk, 1, Decimal(10000))]


@pytest.mark.parametrize("quantity", [0, settings.ORDER_MAX_QUANTITY + 1])
def test_add_refuses_a_quantity_out_of_bounds(customer_client, product_factory, quantity):
    response = add(customer_client, product_factory(), quantity)

    assert response.status_code == 400
    assert field_errors(response)[0][0] == "quantity"
    assert Cart.objects.count() == 0


@pytest.mark.parametrize(("quantity", "code"), [(0, "min_value"), (settings.ORDER_MAX_QUANTITY + 1, "max_value")])
def test_set_refuses_a_quantity_out_of_bounds(customer_client, customer, product_factory, quantity, code):
    product = product_factory()
    add(customer_client, product, 3)

    response = customer_client.patch(item_url(product), {"quantity": quantity}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == [("quantity", code)]
    assert lines_of(customer) == [(product.pk, 3, Decimal(10000))]


def test_a_line_fills_up_to_the_most_units_an_order_line_may_hold(customer_client, customer, product_factory):
    product = product_factory(stock=2000)
    add(customer_client, product, 600)

    assert add(customer_client, product, settings.ORDER_MAX_QUANTITY - 600).status_code == 200
    response = add(customer_client, product, 1)

    assert response.status_code == 409
    assert response.json()["code"] == "cart_quantity_limit_reached"
    assert field_errors(response) == [("quantity", "cart_quantity_limit_reached")]
    assert lines_of(customer) == [(product.pk, settings.ORDER_MAX_QUANTITY, Decimal(10000))]


def test_a_cart_holds_at_most_as_many_products_as_an_order(customer_client, customer, product_factory):
    cart = CartFactory(customer=customer)
    held = [CartItemFactory(cart=cart).product for _ in range(settings.ORDER_MAX_LINES)]
    one_more = product_factory()

    response = add(customer_client, one_more, 1)

    assert response.status_code == 409
    assert response.json()["code"] == "cart_line_limit_reached"
    assert field_errors(response) == [("product_id", "cart_line_limit_reached")]
    assert CartItem.objects.filter(cart=cart).count() == settings.ORDER_MAX_LINES
    assert not CartItem.objects.filter(product=one_more).exists()
    # A full cart still takes more units of a product it holds.
    assert add(customer_client, held[0], 1).status_code == 200


@pytest.mark.parametrize("reason", ["unknown", "off sale"])
def test_add_refuses_a_product_not_for_sale(customer_client, product_factory, reason):
    product = product_factory()
    if reason == "unknown":
        Product.objects.filter(pk=product.pk).delete()
    else:
        set_product(product, is_active=False)

    response = add(customer_client, product, 1)

    assert response.status_code == 404
    assert field_errors(response) == [("product_id", "product_not_found")]
    assert Cart.objects.count() == 0


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_product_not_in_the_cart_is_a_404(customer_client, customer, product_factory, method):
    in_cart, elsewhere = product_factory(), product_factory()
    add(customer_client, in_cart, 2)

    response = getattr(customer_client, method)(item_url(elsewhere), {"quantity": 3}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "cart_item_not_found"
    assert lines_of(customer) == [(in_cart.pk, 2, Decimal(10000))]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_customer_without_a_cart_gets_a_404_for_a_line(customer_client, product_factory, method):
    response = getattr(customer_client, method)(item_url(product_factory()), {"quantity": 3}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "cart_item_not_found"
    assert Cart.objects.count() == 0


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_another_customers_cart_is_out_of_reach(customer_client, customer_factory, product_factory, method):
    other = customer_factory()
    product = product_factory()
    add(client_for(other.user), product, 2)

    response = getattr(customer_client, method)(item_url(product), {"quantity": 9}, format="json")
    cleared = customer_client.delete(CART)

    assert response.status_code == 404
    assert cleared.status_code == 204
    assert customer_client.get(CART).json()["lines"] == []
    assert lines_of(other) == [(product.pk, 2, Decimal(10000))]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", CART), ("delete", CART), ("post", ITEMS), ("patch", "product"), ("delete", "product")],
)
def test_only_signed_in_customers_have_a_cart(api_client, staff_client, product_factory, method, path):
    product = product_factory()
    url = item_url(product) if path == "product" else path
    body = {"product_id": str(product.pk), "quantity": 1}

    anonymous = getattr(api_client, method)(url, body, format="json")
    staff = getattr(staff_client, method)(url, body, format="json")

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert (staff.status_code, staff.json()["code"]) == (404, "customer_not_found")
    assert Cart.objects.count() == 0


def test_services_refuse_what_the_api_cannot_send(customer, product_factory):
    product = product_factory()

    with pytest.raises(errors.CartQuantityLimitReached):
        services.cart_add(customer_id=customer.pk, product_id=product.pk, quantity=settings.ORDER_MAX_QUANTITY + 1)
    # Refused on the first add: the cart it would have created is not left behind.
    assert Cart.objects.count() == 0
    services.cart_add(customer_id=customer.pk, product_id=product.pk, quantity=1)
    with pytest.raises(errors.CartQuantityLimitReached):
        services.cart_set_quantity(
            customer_id=customer.pk, product_id=product.pk, quantity=settings.ORDER_MAX_QUANTITY + 1
        )
    with pytest.raises(ProductNotFound):
        services.cart_add(customer_id=customer.pk, product_id=uuid4(), quantity=1)
    assert lines_of(customer) == [(product.pk, 1, Decimal(10000))]


# --- query budgets ------------------------------------------------------------------------------


@pytest.mark.parametrize("line_count", [1, 12])
def test_the_view_has_a_fixed_query_budget(customer, product_factory, django_assert_num_queries, line_count):
    cart = CartFactory(customer=customer)
    for _ in range(line_count):
        CartItemFactory(cart=cart, product=product_factory())
    client = client_for(customer.user)

    with django_assert_num_queries(4):  # the user (JWT), the customer, the lines, their products
        response = client.get(CART)

    assert len(response.json()["lines"]) == line_count


@pytest.mark.parametrize("line_count", [1, 12])
def test_the_writes_have_fixed_query_budgets(customer, product_factory, django_assert_num_queries, line_count):
    cart = CartFactory(customer=customer)
    products = [CartItemFactory(cart=cart, product=product_factory()).product for _ in range(line_count)]
    client = client_for(customer.user)
    new = product_factory()

    # The user, the customer, the product, savepoint, the cart locked, its lines, the line
    # written, the cart touched, release; then the view: the lines, their products.
    with django_assert_num_queries(11):
        assert add(client, new, 1).status_code == 201
    with django_assert_num_queries(11):
        assert add(client, products[0], 1).status_code == 200
    # The user, the customer, savepoint, the cart locked, the line read, written, the cart touched,
    # release; the view.
    with django_assert_num_queries(10):
        assert client.patch(item_url(new), {"quantity": 3}, format="json").status_code == 200
    # The user, the customer, savepoint, the cart locked, the line deleted, the cart touched,
    # release; the view.
    with django_assert_num_queries(9):
        assert client.delete(item_url(new)).status_code == 200
    # The user, the customer, savepoint, the cart locked, its lines deleted, the cart touched, release.
    with django_assert_num_queries(7):
        assert client.delete(CART).status_code == 204


def test_the_first_add_creates_the_cart_in_a_fixed_budget(customer_client, product_factory, django_assert_num_queries):
    # The user, the customer, the product, savepoint, no cart to lock, the cart inserted and locked,
    # its lines, the line inserted, the cart touched, release; then the view: the lines, their products.
    product = product_factory()
    with django_assert_num_queries(13):
        assert add(customer_client, product, 1).status_code == 201


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_staff_see_carts_in_the_admin_but_cannot_change_them(staff_browser, customer, product_factory):
    cheap, pricey = product_factory(name="케이블", price=Decimal("9900")), product_factory(name="모니터")
    cart = CartFactory(customer=customer)
    CartItemFactory(cart=cart, product=cheap, quantity=2)
    CartItemFactory(cart=cart, product=pricey, quantity=1, price_when_added=Decimal("8000"))
    set_product(pricey, is_active=False)
    url = reverse("admin:orders_cart_change", args=[cart.pk])

    listing = staff_browser.get(reverse("admin:orders_cart_changelist")).content.decode()
    page = staff_browser.get(url)

    assert customer.email in listing
    assert page.status_code == 200
    html = page.content.decode()
    assert "케이블" in html
    assert "₩19,800" in html  # the line total and the items amount: 모니터 is off sale
    assert "price changed, not for sale" in html
    assert 'name="_save"' not in html
    assert staff_browser.post(url, {}).status_code == 403
    assert staff_browser.get(reverse("admin:orders_cart_add")).status_code == 403
    assert staff_browser.get(reverse("admin:orders_cart_delete", args=[cart.pk])).status_code == 403
    assert CartItem.objects.filter(cart=cart).count() == 2


def test_cart_admin_pages_do_not_grow_with_their_rows(staff_browser, customer_factory, product_factory):
    def queries_for(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_browser.get(url).status_code == 200
        return len(queries)

    def cart_with(lines: int) -> Cart:
        cart = CartFactory(customer=customer_factory())
        for _ in range(lines):
            CartItemFactory(cart=cart, product=product_factory())
        return cart

    listing = reverse("admin:orders_cart_changelist")
    small = cart_with(1)
    small_change = reverse("admin:orders_cart_change", args=[small.pk])
    # Warm the per-process caches (content types, permissions) of both pages.
    queries_for(listing)
    queries_for(small_change)
    small_counts = (queries_for(listing), queries_for(small_change))
    large = cart_with(8)
    for _ in range(5):
        cart_with(2)
    large_counts = (queries_for(listing), queries_for(reverse("admin:orders_cart_change", args=[large.pk])))

    assert large_counts == small_counts
