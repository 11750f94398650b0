"""A place-order saga whose process died after reserving stock is finished or compensated by
the recovery routine (the beat task and `manage.py recover_sagas`); unpaid orders expire."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import SHIPPING_ADDRESS, order_line, place_order
from orders import services
from orders.models import Order
from payments.models import Payment
from products.models import Product
from saga import services as saga_services
from saga import tasks as saga_tasks
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db


class ProcessDied(BaseException):
    pass


def die(context):
    raise ProcessDied()


@pytest.fixture
def interrupted(customer, product_factory, replace_saga_step):
    """Place an order whose process dies right after the stock was reserved."""

    def place(token: str):
        product = product_factory(stock=5)
        replace_saga_step("take_payment", action=die)
        with pytest.raises(ProcessDied):
            services.order_place(
                customer_id=customer.pk,
                lines=[services.OrderLine(product_id=product.pk, quantity=2)],
                shipping=services.ShippingAddress(**SHIPPING_ADDRESS),
                payment_token=token,
                idempotency_key=None,
            )
        return product

    return place


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def after_lease() -> timezone.datetime:
    return SagaInstance.objects.get().lease_expires_at + timedelta(seconds=1)


def test_the_crash_leaves_stock_held_by_a_pending_order(interrupted):
    product = interrupted("tok_approve")

    assert stock_of(product) == 3
    order = Order.objects.get()
    assert (order.status, order.stock_reserved) == ("PENDING", True)
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.current_step) == ("STARTED", 2)
    assert saga.lease_expires_at > timezone.now()


def test_recovery_finishes_the_saga(interrupted, monkeypatch):
    product = interrupted("tok_approve")
    monkeypatch.undo()  # the restarted process has the real steps again

    outcomes = saga_services.saga_recover(now=after_lease())

    assert outcomes == {"COMPLETED": 1}
    assert Order.objects.get().status == "PAID"
    assert Payment.objects.get().status == "APPROVED"
    assert stock_of(product) == 3


def test_recovery_compensates_when_the_payment_is_declined(interrupted, monkeypatch):
    product = interrupted("tok_decline")
    monkeypatch.undo()
    assert saga_services.saga_recover(now=after_lease()) == {"COMPENSATED": 1}
    order = Order.objects.get()
    assert (order.status, order.stock_reserved) == ("CANCELLED", False)
    assert stock_of(product) == 5


def test_recovery_compensates_a_saga_that_keeps_dying(interrupted, settings):
    settings.SAGA_MAX_ATTEMPTS = 1
    product = interrupted("tok_approve")
    assert saga_services.saga_recover(now=after_lease()) == {"COMPENSATED": 1}
    assert Order.objects.get().status == "CANCELLED"
    assert Payment.objects.count() == 0
    assert stock_of(product) == 5


def test_the_command_and_the_beat_task_run_the_recovery(interrupted, monkeypatch, settings):
    product = interrupted("tok_approve")
    monkeypatch.undo()
    settings.SAGA_LEASE_SECONDS = 0
    SagaInstance.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()

    call_command("recover_sagas", stdout=out)

    assert "Recovered 1 saga(s): 1 COMPLETED" in out.getvalue()
    assert Order.objects.get().status == "PAID"
    assert stock_of(product) == 3
    assert saga_tasks.recover_sagas() == {}


def test_unpaid_orders_expire_and_release_stock(customer_client, product_factory, settings):
    from orders import tasks as order_tasks

    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 30
    product = product_factory(stock=5)
    unpaid = [order_line(product, 2)]
    old = place_order(customer_client, unpaid, pay_with=None).json()
    Order.objects.filter(pk=old["id"]).update(payment_due_at=timezone.now() - timedelta(minutes=1))
    fresh = place_order(customer_client, unpaid, pay_with=None).json()
    assert stock_of(product) == 1

    expired = order_tasks.expire_unpaid_orders()

    assert expired == 1
    assert Order.objects.get(pk=old["id"]).status == "CANCELLED"
    assert Order.objects.get(pk=old["id"]).cancel_reason.startswith("payment_expired")
    assert Order.objects.get(pk=fresh["id"]).status == "PENDING"
    assert stock_of(product) == 3
    # A late confirm of the expired order is refused, and charges nothing.
    late = customer_client.post(
        "/api/v1/payments/confirm/",
        {"paymentKey": "tok_approve", "orderId": old["id"], "amount": old["total_amount"]},
        format="json",
    )
    assert late.status_code == 409
    assert Payment.objects.count() == 0
