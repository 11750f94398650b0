"""Returns raced on PostgreSQL with real threads and connections: a return approved (or refunded)
twice at once takes the step once and refunds once; concurrent requests for the same units
never return more than was delivered."""

from decimal import Decimal

import pytest

from c4ang.actors import Actor, ActorKind
from c4ang.errors import DomainError
from conftest import client_for, in_threads, order_line, place_order
from orders import services
from orders.models import Order, OrderItem, Return, ReturnEvent
from payments.models import Payment, Refund

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")
RACERS = 8


def outcome(call):
    """What a racer got: "ok" or its error's code."""

    def run():
        try:
            call()
        except DomainError as error:
            return error.code
        return "ok"

    return run


@pytest.fixture
def delivered(customer, product_factory):
    """The customer's paid order of 3 x ₩12,000 (and ₩3,000 shipping), shipped and delivered."""
    product = product_factory(price=Decimal("12000"), stock=10)
    response = place_order(client_for(customer.user), [order_line(product, 3)])
    assert response.json()["status"] == "PAID", response.content
    order_id = response.json()["id"]
    services.order_ship(order_id=order_id, carrier="kr.epost", tracking_number="6865012345678", by=STAFF)
    order = services.order_mark_delivered(order_id=order_id, by=STAFF)
    return order, OrderItem.objects.get(order=order)


def request_return(order, line, quantity: int) -> Return:
    return services.return_request(
        order_id=order.pk,
        customer_id=order.customer_id,
        lines={line.pk: quantity},
        reason="defective",
        by=Actor(ActorKind.CUSTOMER, "customer@example.kr"),
    )


def test_a_return_approved_twice_at_once_is_approved_once(delivered):
    order, line = delivered
    found = request_return(order, line, 2)

    outcomes = in_threads([outcome(lambda: services.return_approve(return_id=found.pk, by=STAFF))] * RACERS)

    assert sorted(outcomes) == ["invalid_return_transition"] * (RACERS - 1) + ["ok"]
    assert Return.objects.get().status == "APPROVED"
    assert ReturnEvent.objects.filter(to_status="APPROVED").count() == 1


def test_a_return_refunded_twice_at_once_refunds_once(delivered):
    order, line = delivered
    found = request_return(order, line, 2)
    services.return_approve(return_id=found.pk, by=STAFF)
    services.return_receive(return_id=found.pk, resellable={line.pk: True}, by=STAFF)

    outcomes = in_threads([outcome(lambda: services.return_refund(return_id=found.pk, by=STAFF))] * RACERS)

    # Those that found it RECEIVED all asked for the one refund of the operation; the late ones
    # found it REFUNDED already.
    assert set(outcomes) <= {"ok", "invalid_return_transition"}
    assert "ok" in outcomes
    assert list(Refund.objects.values_list("amount", "status")) == [(Decimal("24000"), "SUCCEEDED")]
    payment = Payment.objects.get(order=order, status="PARTIALLY_REFUNDED")
    assert payment.refunded_amount == Decimal("24000")
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("24000")
    assert Return.objects.get().status == "REFUNDED"
    assert ReturnEvent.objects.filter(to_status="REFUNDED").count() == 1


def test_concurrent_requests_never_return_more_than_was_delivered(delivered):
    order, line = delivered

    outcomes = in_threads([outcome(lambda: request_return(order, line, 2))] * RACERS)

    # 3 units delivered: one request of 2 is taken, the 1 unit left is not enough for another.
    assert sorted(outcomes) == ["ok"] + ["return_quantity_exceeded"] * (RACERS - 1)
    assert Return.objects.count() == 1
