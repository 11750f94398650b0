"""Checkout: POST /api/v1/orders/ from an item list or from the cart, to an inline address or one of
the address book (copied onto the order), with the server's shipping fee and total, a human order
number, and bad input refused before anything happens."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conftest import ORDERS, SHIPPING_ADDRESS, client_for, order_line, place_order
from customers import services as customer_services
from customers.errors import CustomerInactive
from customers.tests.factories import CustomerAddressFactory
from orders import services
from orders.errors import ShippingAddressRequired
from orders.models import Cart, CartItem, Order, OrderNumberCounter
from payments.models import Payment
from products.models import Product
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

KST = ZoneInfo("Asia/Seoul")
ORDER_NUMBER = re.compile(r"^\d{8}-\d{6}$")


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def fill_cart(customer, *lines: tuple) -> Cart:
    """The customer's cart holding (product, quantity) lines, each at the product's price when added."""
    cart = Cart.objects.create(customer=customer)
    for product, quantity in lines:
        CartItem.objects.create(cart=cart, product=product, quantity=quantity, price_when_added=product.price)
    return cart


def nothing_placed() -> tuple:
    return Order.objects.count(), SagaInstance.objects.count(), Payment.objects.count()


# --- from an item list, to an inline address --------------------------------------------------------


def test_an_order_ships_to_the_inline_address_as_given_normalized(customer_client, product_factory):
    product = product_factory(price=Decimal("12000"), stock=5)
    address = {**SHIPPING_ADDRESS, "phone": "010 9876 5432", "detail": ""}

    before = timezone.now()
    response = place_order(
        customer_client, [order_line(product, 2)], address=address, delivery_memo="문 앞에 놓아주세요"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "PAID"
    assert ORDER_NUMBER.match(body["order_number"])
    assert (body["items_amount"], body["shipping_fee"], body["total_amount"]) == (24000, 3000, 27000)
    assert body["payment_method"] == "card"
    assert body["virtual_account"] is None
    assert body["shipping"] == {
        "recipient": "김민준",
        "phone": "010-9876-5432",
        "postal_code": "06236",
        "road_address": "서울특별시 강남구 테헤란로 152",
        "detail": "",
        "delivery_memo": "문 앞에 놓아주세요",
    }
    order = Order.objects.get()
    assert order.order_number == body["order_number"]
    assert (order.shipping_recipient, order.shipping_phone, order.delivery_memo) == (
        "김민준",
        "010-9876-5432",
        "문 앞에 놓아주세요",
    )
    # A card order waits ORDER_PAYMENT_TIMEOUT_MINUTES (30) for its payment.
    assert before + timedelta(minutes=30) <= order.payment_due_at <= timezone.now() + timedelta(minutes=30)
    assert Payment.objects.get().amount == Decimal(27000)


@pytest.mark.parametrize(
    ("price", "quantity", "fee"),
    [(Decimal("49999"), 1, 3000), (Decimal("50000"), 1, 0), (Decimal("25000"), 2, 0)],
)
def test_shipping_is_free_from_50000_won_of_items(customer_client, product_factory, price, quantity, fee):
    product = product_factory(price=price, stock=5)

    body = place_order(customer_client, [order_line(product, quantity)]).json()

    assert body["shipping_fee"] == fee
    assert Decimal(body["total_amount"]) == price * quantity + Decimal(fee)
    assert Payment.objects.get().amount == Decimal(body["total_amount"])


def test_the_shipping_fee_rule_is_configurable(customer_client, product_factory, settings):
    settings.SHIPPING_FEE = 2500
    settings.SHIPPING_FREE_FROM = 30000
    cheap, dear = product_factory(price=Decimal("29000")), product_factory(price=Decimal("30000"))

    below = place_order(customer_client, [order_line(cheap)]).json()
    free = place_order(customer_client, [order_line(dear)]).json()

    assert (below["shipping_fee"], below["total_amount"]) == (2500, 31500)
    assert (free["shipping_fee"], free["total_amount"]) == (0, 30000)


def test_an_unpaid_order_shows_the_total_to_pay_with_the_fee(customer_client, product_factory):
    product = product_factory(price=Decimal("15000"))

    order = place_order(customer_client, [order_line(product)], pay_with=None).json()
    confirmed = customer_client.post(
        "/api/v1/payments/confirm/",
        {"paymentKey": "tok_approve", "orderId": order["id"], "amount": "15000"},
        format="json",
    )

    assert (order["status"], order["total_amount"]) == ("PENDING", 18000)
    assert confirmed.status_code == 400
    assert confirmed.json()["code"] == "amount_mismatch"


# --- to an address of the address book ---------------------------------------------------------------


def test_an_order_ships_to_an_address_of_the_book(customer, customer_client, product_factory):
    product = product_factory()
    home = CustomerAddressFactory(customer=customer, recipient="이서연", phone="02-123-4567", postal_code="04524")

    response = place_order(customer_client, [order_line(product)], address=None, address_id=str(home.pk))

    assert response.status_code == 201, response.content
    assert response.json()["shipping"] == {
        "recipient": "이서연",
        "phone": "02-123-4567",
        "postal_code": "04524",
        "road_address": home.road_address,
        "detail": home.detail,
        "delivery_memo": "",
    }


def test_the_snapshot_survives_an_edit_and_a_delete_of_the_address(customer, customer_client, product_factory):
    product = product_factory()
    home = customer_services.address_create(
        customer_id=customer.pk,
        label="집",
        recipient="박지호",
        phone="010-2222-3333",
        postal_code="13494",
        road_address="경기도 성남시 분당구 판교역로 235",
        detail="101동 1001호",
    )
    order = place_order(customer_client, [order_line(product)], address=None, address_id=str(home.pk)).json()
    shipped_to = order["shipping"]

    customer_services.address_update(
        customer_id=customer.pk,
        address_id=home.pk,
        recipient="박지호(회사)",
        road_address="서울특별시 중구 세종대로 110",
    )
    edited = customer_client.get(f"{ORDERS}{order['id']}/").json()
    customer_services.address_delete(customer_id=customer.pk, address_id=home.pk)
    deleted = customer_client.get(f"{ORDERS}{order['id']}/").json()

    assert shipped_to["recipient"] == "박지호"
    assert shipped_to["road_address"] == "경기도 성남시 분당구 판교역로 235"
    assert edited["shipping"] == shipped_to
    assert deleted["shipping"] == shipped_to


def test_another_customers_address_or_an_unknown_one_is_a_404_that_places_nothing(
    customer_client, customer_factory, product_factory
):
    product = product_factory(stock=5)
    theirs = CustomerAddressFactory(customer=customer_factory())

    foreign = place_order(customer_client, [order_line(product)], address=None, address_id=str(theirs.pk))
    unknown = place_order(customer_client, [order_line(product)], address=None, address_id=str(uuid4()))

    for response in (foreign, unknown):
        assert response.status_code == 404
        assert response.json()["code"] == "address_not_found"
        assert response.json()["errors"][0]["field"] == "address_id"
    assert nothing_placed() == (0, 0, 0)
    assert stock_of(product) == 5
    assert OrderNumberCounter.objects.count() == 0


# --- bad input ----------------------------------------------------------------------------------------

ITEMS = [{"product_id": "PRODUCT", "quantity": 1}]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"items": ITEMS}, "address", "required"),
        ({"items": ITEMS, "address": SHIPPING_ADDRESS, "address_id": str(uuid4())}, "address_id", "two_addresses"),
        ({"address": SHIPPING_ADDRESS}, "items", "required"),
        ({"from_cart": False, "address": SHIPPING_ADDRESS}, "items", "required"),
        ({"items": ITEMS, "from_cart": True, "address": SHIPPING_ADDRESS}, "from_cart", "items_and_cart"),
        ({"from_cart": "maybe", "address": SHIPPING_ADDRESS}, "from_cart", "invalid"),
        ({"items": ITEMS, "address": {**SHIPPING_ADDRESS, "phone": "010-12-34"}}, "address.phone", "invalid_phone"),
        (
            {"items": ITEMS, "address": {**SHIPPING_ADDRESS, "postal_code": "1234"}},
            "address.postal_code",
            "invalid_postal_code",
        ),
        ({"items": ITEMS, "address": {**SHIPPING_ADDRESS, "recipient": ""}}, "address.recipient", "blank"),
        ({"items": ITEMS, "address": {"recipient": "김민준"}}, "address.road_address", "required"),
        ({"items": ITEMS, "address": "서울"}, "address", "invalid"),
        ({"items": ITEMS, "address_id": "home"}, "address_id", "invalid"),
        ({"items": ITEMS, "address": SHIPPING_ADDRESS, "delivery_memo": "x" * 101}, "delivery_memo", "max_length"),
        ({"items": ITEMS, "address": SHIPPING_ADDRESS, "payment_method": "cash"}, "payment_method", "invalid_choice"),
        ({"items": ITEMS, "address": SHIPPING_ADDRESS, "payment_method": "virtual_account"}, "bank", "required"),
        (
            {"items": ITEMS, "address": SHIPPING_ADDRESS, "payment_method": "virtual_account", "bank": "99"},
            "bank",
            "invalid_choice",
        ),
        ({"items": ITEMS, "address": SHIPPING_ADDRESS, "bank": "88"}, "bank", "not_applicable"),
    ],
)
def test_bad_checkout_input_is_a_400_naming_the_field_that_changes_nothing(
    customer_client, product_factory, body, field, code
):
    product = product_factory(stock=5)
    if "items" in body:
        body = {**body, "items": [{**line, "product_id": str(product.pk)} for line in body["items"]]}

    response = customer_client.post(ORDERS, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert (field, code) in [(error["field"], error["code"]) for error in response.json()["errors"]]
    assert nothing_placed() == (0, 0, 0)
    assert (stock_of(product), OrderNumberCounter.objects.count()) == (5, 0)


def test_the_service_refuses_an_order_without_an_address(customer, product_factory):
    product = product_factory()

    with pytest.raises(ShippingAddressRequired):
        services.order_place(customer_id=customer.pk, lines=[services.OrderLine(product_id=product.pk, quantity=1)])

    assert nothing_placed() == (0, 0, 0)


# --- order numbers ------------------------------------------------------------------------------------


def test_order_numbers_count_up_by_the_shop_day(customer_client, product_factory):
    product = product_factory(stock=10)

    numbers = [place_order(customer_client, [order_line(product)]).json()["order_number"] for _ in range(3)]

    today = timezone.localdate(timezone=KST)
    assert numbers == [f"{today:%Y%m%d}-{n:06d}" for n in (1, 2, 3)]
    assert OrderNumberCounter.objects.get(day=today).last_number == 3


def test_an_order_number_is_the_kst_day_whatever_zone_is_active(db, monkeypatch):
    # 15:30 UTC on 1 December is already 00:30 on 2 December in Seoul.
    instant = datetime(2026, 12, 1, 15, 30, tzinfo=ZoneInfo("UTC"))
    monkeypatch.setattr(timezone, "now", lambda: instant)

    with timezone.override("UTC"):
        first, second = services.order_number_allocate(), services.order_number_allocate()
    instant += timedelta(days=1)
    next_day = services.order_number_allocate()

    assert (first, second, next_day) == ("20261202-000001", "20261202-000002", "20261203-000001")


def test_a_placement_refused_after_its_number_was_taken_leaves_a_gap_never_a_duplicate(customer, product_factory):
    product = product_factory(stock=10)
    client = client_for(customer.user)
    first = place_order(client, [order_line(product)]).json()["order_number"]
    customer.user.is_active = False
    customer.user.save()
    # The saga's first step refuses the deactivated customer: the number taken before is not given again.
    with pytest.raises(CustomerInactive):
        services.order_place(
            customer_id=customer.pk,
            lines=[services.OrderLine(product_id=product.pk, quantity=1)],
            shipping=services.ShippingAddress(**SHIPPING_ADDRESS),
        )
    customer.user.is_active = True
    customer.user.save()

    after = place_order(client, [order_line(product)]).json()["order_number"]

    assert (first[-6:], after[-6:]) == ("000001", "000003")
    assert Order.objects.count() == 2


# --- from the cart ------------------------------------------------------------------------------------


def test_checkout_from_the_cart_orders_its_lines_at_catalog_prices_and_empties_it(
    customer, customer_client, product_factory
):
    earphones = product_factory(price=Decimal("30000"), stock=5)
    cable = product_factory(price=Decimal("9900"), stock=5)
    cart = fill_cart(customer, (earphones, 2), (cable, 1))
    # The price rose after the line was added: the order charges the catalog's price of now.
    Product.objects.filter(pk=cable.pk).update(price=Decimal("11000"))

    response = place_order(customer_client, None, from_cart=True, delivery_memo="경비실")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "PAID"
    assert sorted((item["quantity"], item["price"]) for item in body["items"]) == [(1, 11000), (2, 30000)]
    assert (body["items_amount"], body["shipping_fee"], body["total_amount"]) == (71000, 0, 71000)
    assert body["shipping"]["delivery_memo"] == "경비실"
    assert (stock_of(earphones), stock_of(cable)) == (3, 4)
    assert CartItem.objects.count() == 0
    assert Cart.objects.get().pk == cart.pk  # the cart stays, emptied
    assert Payment.objects.get().amount == Decimal(71000)


def test_checkout_from_an_empty_cart_is_a_409_that_places_nothing(customer, customer_client):
    no_cart = place_order(customer_client, None, from_cart=True)
    fill_cart(customer)
    empty = place_order(customer_client, None, from_cart=True)

    for response in (no_cart, empty):
        assert response.status_code == 409
        assert response.json()["code"] == "cart_empty"
        assert response.json()["errors"][0]["field"] == "from_cart"
    assert nothing_placed() == (0, 0, 0)
    assert OrderNumberCounter.objects.count() == 0


def test_a_cart_line_no_longer_for_sale_is_a_409_naming_it_and_the_cart_stays(
    customer, customer_client, product_factory
):
    kept = product_factory(name="무선 충전기", stock=5)
    gone = product_factory(name="단종된 이어폰", stock=5)
    fill_cart(customer, (kept, 1), (gone, 2))
    Product.objects.filter(pk=gone.pk).update(is_active=False)

    response = place_order(customer_client, None, from_cart=True)

    assert response.status_code == 409
    assert response.json()["code"] == "cart_product_unavailable"
    assert response.json()["errors"] == [
        {
            "field": "from_cart",
            "code": "product_unavailable",
            "message": "단종된 이어폰 is no longer for sale.",
            "product_id": str(gone.pk),
            "product_name": "단종된 이어폰",
        }
    ]
    assert "단종된 이어폰" in response.json()["message"]
    assert "무선 충전기" not in response.json()["message"]
    assert sorted(CartItem.objects.values_list("quantity", flat=True)) == [1, 2]
    assert nothing_placed() == (0, 0, 0)
    assert (stock_of(kept), stock_of(gone)) == (5, 5)


def test_stock_short_of_a_cart_line_is_a_409_naming_the_products_and_the_cart_stays(
    customer, customer_client, product_factory
):
    plenty = product_factory(name="텀블러", stock=10)
    scarce = product_factory(name="한정판 키보드", stock=1)
    sold_out = product_factory(name="마우스", stock=0)
    fill_cart(customer, (plenty, 3), (scarce, 2), (sold_out, 1))

    response = place_order(customer_client, None, from_cart=True)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert [(e["field"], e["code"], e["product_id"], e["product_name"], e["available"]) for e in body["errors"]] == [
        ("from_cart", "insufficient_stock", str(scarce.pk), "한정판 키보드", 1),
        ("from_cart", "insufficient_stock", str(sold_out.pk), "마우스", 0),
    ]
    assert "한정판 키보드, 마우스" in body["message"]
    assert "텀블러" not in body["message"]
    assert CartItem.objects.count() == 3
    assert nothing_placed() == (0, 0, 0)
    assert [stock_of(product) for product in (plenty, scarce, sold_out)] == [10, 1, 0]


def test_a_cart_that_changed_before_the_order_was_created_is_a_409(
    customer, customer_client, product_factory, replace_saga_step
):
    from orders import place_order as saga

    first, second = product_factory(stock=5), product_factory(stock=5)
    fill_cart(customer, (first, 1))

    def another_request_adds_a_line_meanwhile(context):
        # Lands after checkout read the cart and before its transaction locks it (rolled back with it here).
        services.cart_add(customer_id=customer.pk, product_id=second.pk, quantity=1)
        saga.create_order(context)

    replace_saga_step("create_order", action=another_request_adds_a_line_meanwhile)
    response = place_order(customer_client, None, from_cart=True)

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("cart_changed", "from_cart")
    assert nothing_placed() == (0, 0, 0)
    assert list(CartItem.objects.values_list("product_id", "quantity")) == [(first.pk, 1)]
    assert (stock_of(first), stock_of(second)) == (5, 5)


@pytest.mark.parametrize("token", ["tok_decline", "tok_timeout"])
def test_a_failed_order_from_the_cart_does_not_put_its_lines_back(customer, customer_client, product_factory, token):
    product = product_factory(stock=5)
    fill_cart(customer, (product, 2))

    response = place_order(customer_client, None, from_cart=True, pay_with=token)

    assert response.status_code == 201
    assert response.json()["status"] == "CANCELLED"
    assert CartItem.objects.count() == 0
    assert stock_of(product) == 5


def test_a_cancelled_order_from_the_cart_does_not_put_its_lines_back(customer, customer_client, product_factory):
    product = product_factory(stock=5)
    fill_cart(customer, (product, 2))
    order = place_order(customer_client, None, from_cart=True).json()

    cancelled = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {}, format="json")

    assert cancelled.json()["status"] == "CANCELLED"
    assert CartItem.objects.count() == 0
    assert stock_of(product) == 5


def test_a_cart_checkout_above_the_largest_total_is_refused_and_the_cart_stays(
    customer, customer_client, product_factory
):
    product = product_factory(price=Decimal("99999999"), stock=5)
    fill_cart(customer, (product, 2))

    response = place_order(customer_client, None, from_cart=True)

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("order_too_large", "from_cart")
    assert CartItem.objects.count() == 1
    assert nothing_placed() == (0, 0, 0)


# --- idempotency for both inputs ----------------------------------------------------------------------


def test_a_cart_checkout_replayed_with_its_key_returns_the_same_order(customer, customer_client, product_factory):
    product = product_factory(stock=5)
    fill_cart(customer, (product, 2))

    first = place_order(customer_client, None, from_cart=True, key="cart-checkout-1")
    again = place_order(customer_client, None, from_cart=True, key="cart-checkout-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (Order.objects.count(), Payment.objects.count(), stock_of(product)) == (1, 1, 3)


@pytest.fixture
def key_looked_up_before_its_twin_committed(monkeypatch):
    """The first look for an Idempotency-Key's order finds nothing, as when a twin request with the
    same key commits just after it; the looks after it find what is there."""
    replayed, lookups = services._replayed, []

    def looked_up(**kwargs):
        lookups.append(kwargs)
        return None if len(lookups) == 1 else replayed(**kwargs)

    def twin_committed_after_the_look() -> None:
        monkeypatch.setattr(services, "_replayed", looked_up)

    return twin_committed_after_the_look


@pytest.mark.parametrize("from_cart", [True, False], ids=["cart", "items"])
def test_a_checkout_whose_twin_committed_after_its_key_was_looked_up_is_the_replay(
    customer, customer_client, product_factory, key_looked_up_before_its_twin_committed, from_cart
):
    # Given an order placed with a key by a twin request: from the cart (which it emptied), or of the
    # product's last unit
    product = product_factory(stock=1)
    lines = None if from_cart else [order_line(product)]
    if from_cart:
        fill_cart(customer, (product, 1))
    twin = place_order(customer_client, lines, from_cart=from_cart, key="checkout-2")
    # and this request's look for the key made just before the twin committed
    key_looked_up_before_its_twin_committed()

    # When it goes on from there, to an empty cart or a product out of stock
    late = place_order(customer_client, lines, from_cart=from_cart, key="checkout-2")

    # Then it is the twin's replay, not a 409
    assert (twin.status_code, late.status_code) == (201, 201), late.json()
    assert late["Idempotent-Replayed"] == "true"
    assert late.json()["id"] == twin.json()["id"]
    assert (Order.objects.count(), stock_of(product)) == (1, 0)


def test_a_key_of_an_item_order_reused_for_a_cart_checkout_is_refused_and_the_cart_stays(
    customer, customer_client, product_factory
):
    product = product_factory(stock=5)
    place_order(customer_client, [order_line(product)], key="key-7")
    fill_cart(customer, (product, 1))

    from_cart = place_order(customer_client, None, from_cart=True, key="key-7")

    assert from_cart.status_code == 409
    assert from_cart.json()["code"] == "idempotency_key_reused"
    assert CartItem.objects.count() == 1
    assert Order.objects.count() == 1


def test_a_key_of_a_cart_checkout_reused_for_other_items_is_refused(customer, customer_client, product_factory):
    product, other = product_factory(stock=5), product_factory(stock=5)
    fill_cart(customer, (product, 1))
    place_order(customer_client, None, from_cart=True, key="key-8")

    items = place_order(customer_client, [order_line(other)], key="key-8")

    assert items.status_code == 409
    assert items.json()["code"] == "idempotency_key_reused"
    assert (Order.objects.count(), stock_of(other)) == (1, 5)


def test_the_body_of_a_replay_may_not_change_what_is_charged(customer_client, product_factory):
    product = product_factory(price=Decimal("20000"), stock=5)
    first = place_order(customer_client, [order_line(product)], key="key-9").json()

    replay = place_order(customer_client, [order_line(product)], key="key-9", shipping_fee="0", total_amount="1").json()

    assert replay == first
    assert replay["total_amount"] == 23000
