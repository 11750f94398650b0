"""Payment attempts written straight to the table, without a PG: for tests of what reads them."""

import factory
from factory.django import DjangoModelFactory

from orders.tests.factories import OrderFactory
from payments.models import Payment


class PaymentFactory(DjangoModelFactory):
    """A pending attempt of the fake PG for the whole of its order's total."""

    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    customer = factory.SelfAttribute("order.customer")
    amount = factory.SelfAttribute("order.total_amount")
    provider = "fake"
    # One attempt per order and paymentKey (a unique constraint): each row its own key.
    payment_key = factory.Sequence(lambda n: f"tok_attempt_{n}")
    idempotency_key = factory.Sequence(lambda n: f"payment-{n}")
