"""The place-order saga (SPEC §5): create the order, reserve stock, take the payment, mark it paid.

Every action and compensation is idempotent (a retry after a crash, or a compensation of a step
that never took effect, does nothing twice), because recovery may run any of them again.
The payload carries what the steps need: order_id (chosen before the saga starts, so that
creating the order can be repeated), customer_id, idempotency_key, lines with catalog prices,
total, and payment_token (absent in the two-step flow until the customer confirms).
"""

from decimal import Decimal

from customers import selectors as customer_selectors
from orders.errors import OrderNotCancellable, OrderNotPayable
from orders.models import Order, OrderEvent, OrderItem, OrderStatus
from payments import services as payment_services
from products import services as product_services
from saga import services as saga_services
from saga.services import WAIT, SagaContext

PLACE_ORDER = "place_order"
SYSTEM = "system"


def set_status(order: Order, to_status: str, *, actor: str, note: str = "", **fields) -> None:
    """Move an order to a status and append the audit event (the caller holds the row lock)."""
    from_status = order.status
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", *fields, "updated_at"])
    OrderEvent.objects.create(order=order, from_status=from_status, to_status=to_status, actor=actor, note=note[:200])


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
    OrderEvent.objects.create(order=order, from_status="", to_status=OrderStatus.PENDING, actor="customer")


def cancel_order(context: SagaContext) -> None:
    """Compensation: the order is CANCELLED (before any refund, so that it can no longer ship)."""
    order = _locked_order(context)
    if order is None or order.status == OrderStatus.CANCELLED:
        return
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise OrderNotCancellable()
    reason = context.reason or "cancelled"
    set_status(order, OrderStatus.CANCELLED, actor=SYSTEM, note=reason, cancel_reason=reason[:200])


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
    payment = payment_services.payment_take(
        order_id=context.payload["order_id"], amount=Decimal(context.payload["total"]), payment_key=token
    )
    return {"payment_id": str(payment.pk)}


def void_payment(context: SagaContext) -> None:
    payment_services.payment_void_for_order(order_id=context.payload["order_id"], reason=context.reason)


def mark_paid(context: SagaContext) -> None:
    order = _locked_order(context)
    if order.status == OrderStatus.PAID:
        return
    if order.status != OrderStatus.PENDING:
        raise OrderNotPayable(f"The order is {order.status}; the payment is refunded.")
    set_status(order, OrderStatus.PAID, actor=SYSTEM, note="payment approved")


DEFINITION = saga_services.saga_define(
    saga_type=PLACE_ORDER,
    steps=[
        saga_services.SagaStep("create_order", create_order, cancel_order),
        saga_services.SagaStep("reserve_stock", reserve_stock, release_stock),
        saga_services.SagaStep("take_payment", take_payment, void_payment, atomic=False),
        saga_services.SagaStep("mark_paid", mark_paid, cancel_order),
    ],
)
