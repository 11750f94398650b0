"""Every database constraint of the data model refuses bad rows, on SQLite and on PostgreSQL."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer, User
from orders.models import Order, OrderItem
from orders.tests.factories import OrderFactory
from payments.models import Payment, WebhookEvent
from payments.tests.factories import PaymentFactory
from products.models import Product, Review
from products.tests.factories import ProductFactory
from sentiment.tests.factories import ProductSentimentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return ProductFactory(name="무선 이어폰", brand="소니", price=Decimal("129000"), stock=5)


@pytest.fixture
def order(customer):
    return OrderFactory(customer=customer, items_amount=Decimal("129000"))


def refuses(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_stock_cannot_go_below_zero(product):
    assert refuses(lambda: Product.objects.filter(pk=product.pk).update(stock=-1))
    product.refresh_from_db()
    assert product.stock == 5
    assert not refuses(lambda: Product.objects.filter(pk=product.pk).update(stock=0))


def test_price_cannot_be_negative(product):
    assert refuses(lambda: Product.objects.filter(pk=product.pk).update(price=Decimal("-1")))


@pytest.mark.parametrize("quantity", [0, -3])
def test_order_item_quantity_must_be_positive(order, product, quantity):
    assert refuses(lambda: OrderItem.objects.create(order=order, product=product, quantity=quantity, price=1))
    assert OrderItem.objects.count() == 0


@pytest.mark.parametrize(("rating", "accepted"), [(0, False), (1, True), (5, True), (6, False)])
def test_review_rating_is_one_to_five(customer, product, rating, accepted):
    assert refuses(
        lambda: Review.objects.create(product=product, customer=customer, rating=rating, content="좋아요")
    ) is (not accepted)


def test_one_review_per_customer_per_product(customer, product):
    Review.objects.create(product=product, customer=customer, rating=4, content="좋아요")
    assert refuses(lambda: Review.objects.create(product=product, customer=customer, rating=2, content="별로"))
    assert Review.objects.count() == 1


def test_customer_email_is_unique(customer):
    other_user = User.objects.create_user("other@example.kr", "x")
    assert refuses(lambda: Customer.objects.create(user=other_user, email=customer.email, name="다른 고객"))


def test_user_email_is_unique(customer):
    assert refuses(lambda: User.objects.create_user(customer.email, "x"))


def test_one_approved_payment_per_order(order):
    def payment(status, key):
        return PaymentFactory(order=order, status=status, idempotency_key=key)

    payment("FAILED", "k1")
    payment("APPROVED", "k2")
    payment("REFUNDED", "k3")
    assert refuses(lambda: payment("APPROVED", "k4"))
    assert Payment.objects.filter(order=order).count() == 3


def test_one_payment_attempt_per_order_and_payment_key(order):
    PaymentFactory(order=order, payment_key="tgen_1", idempotency_key="k1")
    PaymentFactory(order=order, payment_key="tgen_2", idempotency_key="k2")  # another card: another attempt
    assert refuses(lambda: PaymentFactory(order=order, payment_key="tgen_1", idempotency_key="k3"))
    assert Payment.objects.filter(order=order).count() == 2


def test_payment_idempotency_key_is_unique(order):
    PaymentFactory(order=order, amount=1, idempotency_key="same")
    assert refuses(lambda: PaymentFactory(order=order, amount=1, idempotency_key="same"))


def test_idempotency_key_unique_per_customer_only(customer_factory):
    first, second = customer_factory(), customer_factory()
    OrderFactory(customer=first, idempotency_key="key-1")
    assert refuses(lambda: OrderFactory(customer=first, idempotency_key="key-1"))
    # Another customer may use the same key; orders without a key never collide.
    OrderFactory(customer=second, idempotency_key="key-1")
    OrderFactory(customer=first)
    OrderFactory(customer=first)
    assert Order.objects.count() == 4


def test_an_order_number_is_given_once(order):
    assert refuses(lambda: OrderFactory(order_number=order.order_number))


def test_an_order_total_is_its_items_plus_the_shipping_fee(order):
    assert refuses(lambda: Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount + 1))
    assert refuses(lambda: Order.objects.filter(pk=order.pk).update(shipping_fee=Decimal(3000)))
    Order.objects.filter(pk=order.pk).update(shipping_fee=Decimal(3000), total_amount=Decimal(132000))
    assert Order.objects.get(pk=order.pk).total_amount == Decimal(132000)


def test_webhook_event_is_stored_once_per_pg_event(db):
    WebhookEvent.objects.create(provider="toss", event_id="evt-1", event_type="PAYMENT_STATUS_CHANGED", payload={})
    assert refuses(lambda: WebhookEvent.objects.create(provider="toss", event_id="evt-1", event_type="X", payload={}))


@pytest.mark.parametrize(
    ("positive", "negative", "average", "accepted"),
    [(0.5, 0.3, 0.1, True), (1.2, 0.0, 0.5, False), (0.5, -0.1, 0.5, False), (0.5, 0.5, 1.5, False)],
)
def test_sentiment_values_stay_in_range(product, positive, negative, average, accepted):
    def create():
        ProductSentimentFactory(
            product=product, positive_ratio=positive, negative_ratio=negative, avg_sentiment=average, model_name="m"
        )

    assert refuses(create) is (not accepted)
