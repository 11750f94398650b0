"""What the payments module asks of the module whose orders it charges, without importing it.

Payments sits below orders: orders registers its handlers once, in its AppConfig.ready, and the
payments API and webhooks call them through here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.utils.translation import gettext

from c4ang.actors import Actor


@dataclass(frozen=True)
class OrderHandlers:
    # The customer paid at the PG for their PENDING order: check the amount against the order and
    # continue its placement (which takes the payment). Raises the owner's domain errors.
    pay: Callable[..., None]  # (*, customer_id: UUID, order_id: UUID, payment_key: str, amount: Decimal)
    # A verified PG webhook changed one of the order's payments.
    payment_changed: Callable[..., None]  # (*, order_id: UUID, by: Actor)
    # Staff refund a payment: the order is cancelled and its payment refunded; raises
    # PaymentNotRefundable when the order can no longer be cancelled.
    refund: Callable[..., None]  # (*, order_id: UUID, by: Actor, note: str)
    # The id of the order with this order number, or None: for the tools that take an order number
    # (`manage.py fake_deposit`). Optional: without it those tools take order ids only.
    order_id_for_number: Callable[..., UUID | None] | None = None  # (*, order_number: str)
    # A refund of one of the order's payments succeeded (also one settled by recovery, or a cancel
    # the PG's webhook reported): the order recomputes its refunded amount from
    # payments.selectors.refunded_total_for_order. Optional: without it nobody is told.
    refunded: Callable[..., None] | None = None  # (*, order_id: UUID)


_handlers: OrderHandlers | None = None


def order_handlers_register(handlers: OrderHandlers) -> None:
    global _handlers
    _handlers = handlers


def order_pay(*, customer_id: UUID, order_id: UUID, payment_key: str, amount: Decimal) -> None:
    _registered().pay(customer_id=customer_id, order_id=order_id, payment_key=payment_key, amount=amount)


def order_payment_changed(*, order_id: UUID, by: Actor) -> None:
    _registered().payment_changed(order_id=order_id, by=by)


def order_refund(*, order_id: UUID, by: Actor, note: str) -> None:
    _registered().refund(order_id=order_id, by=by, note=note)


def order_refunded(*, order_id: UUID) -> None:
    handler = _registered().refunded
    if handler is not None:
        handler(order_id=order_id)


def order_id_for_number(*, order_number: str) -> UUID | None:
    handler = _registered().order_id_for_number
    if handler is None:
        raise LookupError(
            gettext("Order numbers cannot be looked up here (the orders app registered no lookup): give the id.")
        )
    return handler(order_number=order_number)


def _registered() -> OrderHandlers:
    if _handlers is None:
        raise RuntimeError("No order handlers are registered: the orders app must be installed.")
    return _handlers
