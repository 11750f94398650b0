"""Stock is conserved through after-sales: after a seeded random run of orders, partial and full
cancellations, shipments and returns (approved or rejected, received resellable or not, refunded),
every product's initial stock = on hand + sold - returned resellable, after every step; every
unit put back by a return has its stock adjustment; no order is refunded more than was paid."""

import itertools
import random
from decimal import Decimal

import pytest
from django.db.models import Sum

from c4ang.actors import Actor, ActorKind
from c4ang.errors import DomainError
from conftest import client_for, order_line, place_order
from orders import selectors, services
from orders.constants import PAID_STATUSES
from orders.models import Order, OrderItem, ReturnItem
from payments.models import Payment, Refund
from products.models import Product, StockAdjustment

pytestmark = pytest.mark.django_db

STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")
INITIAL_STOCK = 25
STEPS = 120


def sold(product) -> int:
    """Units of the product in orders that hold them (paid, shipped, delivered), less those cancelled."""
    lines = OrderItem.objects.filter(product=product, order__status__in=PAID_STATUSES)
    units = lines.aggregate(ordered=Sum("quantity"), cancelled=Sum("cancelled_quantity"))
    return (units["ordered"] or 0) - (units["cancelled"] or 0)


def returned_resellable(product) -> int:
    lines = ReturnItem.objects.filter(order_item__product=product, resellable=True)
    return lines.aggregate(units=Sum("quantity"))["units"] or 0


def check_conservation(products, step: str) -> None:
    for product in products:
        on_hand = Product.objects.get(pk=product.pk).stock
        back = returned_resellable(product)
        assert on_hand + sold(product) - back == INITIAL_STOCK, (step, product.name, on_hand, sold(product), back)
        restocked = StockAdjustment.objects.filter(product=product).aggregate(units=Sum("delta"))["units"] or 0
        assert restocked == back, (step, product.name)
    for order in Order.objects.all():
        assert 0 <= order.refunded_amount <= order.total_amount, (step, order.order_number)
    for payment in Payment.objects.all():
        succeeded = payment.refunds.filter(status="SUCCEEDED").aggregate(total=Sum("amount"))["total"] or 0
        assert succeeded == payment.refunded_amount <= payment.amount, (step, payment.pk)


def test_stock_is_conserved_through_a_random_run_of_orders_cancellations_and_returns(customer_factory, product_factory):
    rng = random.Random(1414)
    products = [
        product_factory(name=f"상품{n}", price=Decimal(price), stock=INITIAL_STOCK)
        for n, price in enumerate((4000, 12000, 27000, 51000))
    ]
    shoppers = [customer_factory() for _ in range(3)]
    clients = {shopper.pk: client_for(shopper.user) for shopper in shoppers}
    tracking_numbers = itertools.count(700000000000)
    done = {"place": 0, "cancel_lines": 0, "cancel": 0, "deliver": 0, "return": 0}
    refusals = []

    def place():
        shopper = rng.choice(shoppers)
        chosen = rng.sample(products, rng.randint(1, 3))
        lines = [order_line(product, rng.randint(1, 4)) for product in chosen]
        placed = place_order(clients[shopper.pk], lines)
        # A shortage seen at checkout places nothing (409); the rest are placed, paid or not.
        assert placed.status_code == 201 or (placed.status_code, placed.json()["code"]) == (409, "insufficient_stock")

    def cancel_lines():
        order = rng.choice(paid)
        left = [(item.pk, item.quantity - item.cancelled_quantity) for item in order.items.all()]
        left = [(item_id, units) for item_id, units in left if units]
        picked = rng.sample(left, rng.randint(1, len(left)))
        services.order_cancel_lines(
            order_id=order.pk, lines={item_id: rng.randint(1, units) for item_id, units in picked}, by=STAFF
        )

    def cancel():
        services.order_cancel(order_id=rng.choice(paid).pk, by=STAFF)

    def deliver():
        order = rng.choice(paid)
        tracking = str(next(tracking_numbers))
        services.order_ship(order_id=order.pk, carrier="kr.cjlogistics", tracking_number=tracking, by=STAFF)
        services.order_mark_delivered(order_id=order.pk, by=STAFF)

    def give_back():
        order = rng.choice(delivered)
        returnable = selectors.order_items_returnable(order_id=order.pk)
        left = [(item_id, item.returnable) for item_id, item in returnable.items() if item.returnable > 0]
        if not left:
            return
        picked = rng.sample(left, rng.randint(1, len(left)))
        found = services.return_request(
            order_id=order.pk,
            customer_id=order.customer_id,
            lines={item_id: rng.randint(1, units) for item_id, units in picked},
            reason=rng.choice(["changed_mind", "defective", "wrong_item"]),
            by=Actor(ActorKind.CUSTOMER, "shopper@example.kr"),
        )
        if rng.random() < 0.2:
            services.return_reject(return_id=found.pk, by=STAFF, note="반품 불가")
            return
        services.return_approve(return_id=found.pk, by=STAFF)
        decisions = {line.order_item_id: rng.random() < 0.7 for line in found.items.all()}
        services.return_receive(return_id=found.pk, resellable=decisions, by=STAFF)
        assert services.return_refund(return_id=found.pk, by=STAFF).status == "REFUNDED"

    actions = {"cancel_lines": cancel_lines, "cancel": cancel, "deliver": deliver, "return": give_back}
    for step in range(STEPS):
        paid = list(Order.objects.filter(status="PAID").order_by("created_at").prefetch_related("items"))
        delivered = list(Order.objects.filter(status="DELIVERED").order_by("created_at"))
        possible = ["place"] * 3
        if paid:
            possible += ["cancel_lines", "cancel", "deliver", "deliver"]
        if delivered:
            possible += ["return"] * 3
        name = rng.choice(possible)
        try:
            place() if name == "place" else actions[name]()
        except DomainError as refused:  # the rule holds all the same
            refusals.append((step, name, refused.code))
        else:
            done[name] += 1
        check_conservation(products, f"{step}:{name}")

    # Nothing the run asked for was refused; it did a bit of everything.
    assert refusals == []
    assert min(done.values()) >= 5, done
    assert Refund.objects.filter(reason="return", status="SUCCEEDED").exists()
    assert Refund.objects.filter(reason="partial_cancel", status="SUCCEEDED").exists()
    assert ReturnItem.objects.filter(resellable=False).exists()
    assert Order.objects.filter(status="CANCELLED").exists()
