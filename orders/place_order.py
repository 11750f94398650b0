"""The place-order saga: create the order, reserve stock, take the payment, mark it paid.

Every action and compensation is idempotent (a retry after a crash, or a compensation of a step
that never took effect, does nothing twice), because recovery may run any of them again.
The payload carries what the steps need: order_id (chosen before the saga starts, so that
creating the order can be repeated), customer_id, idempotency_key, lines with catalog prices,
total, and payment_token (absent in the two-step flow until the customer confirms; then
two_step_payment is true, and a declined or unanswered payment attempt leaves the saga waiting for
the next one instead of compensating it).
"""

from decimal import Decimal

from c4ang.actors import Actor, ActorKind
from c4ang.db import save_fields
from customers import selectors as customer_selectors
from orders.constants import CancelReason, OrderStatus
from orders.errors import OrderNotCancellable
from orders.models import Order, OrderEvent, OrderItem
from payments import services as payment_services
from payments.errors import OrderNotPayable, PaymentAttemptUnsettled, PaymentDeclined, PaymentTimedOut
from products import services as product_services
from saga import services as saga_services
from saga.constants import SagaCompensationReason
from saga.services import WAIT, SagaContext, waiting

PLACE_ORDER = "place_order"
PLACE_ORDER_SAGA = Actor.system(PLACE_ORDER)
# The payload's mark of the two-step flow (the order was placed without a payment token).
TWO_STEP_PAYMENT = "two_step_payment"


def set_status(order: Order, to_status: str, *, by: Actor, reason: CancelReason | str = "", note: str = "") -> None:
    """Move an order to a status and append the audit event (the caller holds the row lock); a
    cancellation keeps its reason and note on the order too."""
    from_status = order.status
    cancellation = {"cancel_reason": reason, "cancel_note": note[:200]} if to_status == OrderStatus.CANCELLED else {}
    save_fields(order, status=to_status, **cancellation)
    OrderEvent.objects.create(
        order=order, from_status=from_status, to_status=to_status, actor=str(by), reason=reason, note=note[:200]
    )


def _cancel_reason(context: SagaContext) -> tuple[CancelReason, str]:
    """The order's cancellation reason for the saga's: the failed step's error code (or the
    caller's reason) when it is a CancelReason, else PLACEMENT_FAILED noting what it was."""
    if context.reason == SagaCompensationReason.STAFF_REQUEST:
        return CancelReason.STAFF_CANCELLED, context.note
    if context.reason in CancelReason.values:
        return CancelReason(context.reason), context.note
    return CancelReason.PLACEMENT_FAILED, ": ".join(part for part in (context.reason, context.note) if part)


def _locked_order(context: SagaContext) -> Order | None:
    return Order.objects.select_for_update().filter(pk=context.payload["order_id"]).first()


def create_order(context: SagaContext) -> None:
    payload = context.payload
    customer = customer_selectors.customer_get_active(customer_id=payload["customer_id"])
    order = Order.objects.create(
        id=payload["order_id"],
        customer_id=customer.pk,
        total_amount=Decimal(payload["total"]),
        idempotency_key=payload["idempotency_key"],
        saga_id=context.saga_id,
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, product_id=line["product_id"], quantity=line["quantity"], price=Decimal(line["price"]))
        for line in payload["lines"]
    )
    by = Actor(ActorKind.CUSTOMER, customer.email)
    OrderEvent.objects.create(order=order, from_status="", to_status=OrderStatus.PENDING, actor=str(by))


def cancel_order(context: SagaContext) -> None:
    """Compensation: the order is CANCELLED (before any refund, so that it can no longer ship)."""
    order = _locked_order(context)
    if order is None or order.status == OrderStatus.CANCELLED:
        return
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise OrderNotCancellable()
    reason, note = _cancel_reason(context)
    set_status(order, OrderStatus.CANCELLED, by=context.by or PLACE_ORDER_SAGA, reason=reason, note=note)


def reserve_stock(context: SagaContext) -> None:
    order = _locked_order(context)
    if order.stock_reserved:
        return
    product_services.stock_reserve(quantities={item.product_id: item.quantity for item in order.items.all()})
    order.stock_reserved = True
    order.save(update_fields=["stock_reserved", "updated_at"])


def release_stock(context: SagaContext) -> None:
    order = _locked_order(context)
    if order is None or not order.stock_reserved:
        return
    product_services.stock_release(quantities={item.product_id: item.quantity for item in order.items.all()})
    order.stock_reserved = False
    order.save(update_fields=["stock_reserved", "updated_at"])


def take_payment(context: SagaContext) -> dict | object:
    token = context.payload.get("payment_token")
    if not token:
        return WAIT  # the two-step flow: the customer pays at the PG, then POST /api/v1/payments/confirm
    try:
        payment = payment_services.payment_take(
            order_id=context.payload["order_id"],
            customer_id=context.payload["customer_id"],
            amount=Decimal(context.payload["total"]),
            payment_key=token,
        )
    except (PaymentDeclined, PaymentTimedOut, PaymentAttemptUnsettled) as failed:
        if not context.payload.get(TWO_STEP_PAYMENT):
            raise  # one step: the order's one payment failed, the order is cancelled
        # Two-step: the order stays PENDING with its stock held, for another attempt until it expires.
        return waiting(attempt=token, code=failed.code, message=failed.message)
    return {"payment_id": str(payment.pk)}


def void_payment(context: SagaContext) -> None:
    # The PG keeps a readable cancelReason: the code, then the canceller's words.
    reason, note = _cancel_reason(context)
    payment_services.payment_void_for_order(
        order_id=context.payload["order_id"], reason=f"{reason.value}: {note}" if note else reason.value
    )


def mark_paid(context: SagaContext) -> None:
    order = _locked_order(context)
    if order.status == OrderStatus.PAID:
        return
    if order.status != OrderStatus.PENDING:
        raise OrderNotPayable(f"The order is {order.status}; the payment is refunded.")
    set_status(order, OrderStatus.PAID, by=PLACE_ORDER_SAGA, note="payment approved")


DEFINITION = saga_services.saga_define(
    saga_type=PLACE_ORDER,
    steps=[
        saga_services.SagaStep("create_order", create_order, cancel_order),
        saga_services.SagaStep("reserve_stock", reserve_stock, release_stock),
        saga_services.SagaStep("take_payment", take_payment, void_payment, atomic=False),
        saga_services.SagaStep("mark_paid", mark_paid, cancel_order),
    ],
)
