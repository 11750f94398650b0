"""Writes of the orders module: placing orders (through the place-order saga), paying, cancelling,
shipping, expiring unpaid orders.

The payments module owns the PG and payment records and sits below orders: what a confirm, a
refund or a changed payment means for an order is handled here (`order_pay`, `order_refund`,
`order_payment_changed`), registered with payments' hooks when the app is ready.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from c4ang.actors import Actor
from orders import errors, metrics, selectors
from orders.constants import CancelReason, OrderStatus
from orders.models import Order, OrderEvent, OrderItem
from orders.place_order import PLACE_ORDER, TWO_STEP_PAYMENT, set_status
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.errors import PaymentAmountMismatch, PaymentNotRefundable
from products import selectors as product_selectors
from products.errors import ProductUnavailable
from saga import services as saga_services
from saga.errors import SagaBusy, SagaNotWaiting

ORDER_EXPIRY = Actor.system("order_expiry")

# Decimal(10, 2): the largest amount an order can hold.
MAX_ORDER_TOTAL = Decimal("99999999.99")
CANCELLABLE = (OrderStatus.PENDING, OrderStatus.PAID)
NEXT_STATUS = {OrderStatus.PAID: OrderStatus.SHIPPED, OrderStatus.SHIPPED: OrderStatus.DELIVERED}


@dataclass(frozen=True)
class OrderLine:
    product_id: UUID
    quantity: int


def _replay(order: Order, lines: list[OrderLine]) -> Order:
    ordered = {(item.product_id, item.quantity) for item in order.items.all()}
    if ordered != {(line.product_id, line.quantity) for line in lines}:
        raise errors.IdempotencyKeyReused(field="Idempotency-Key")
    return order


def _priced_lines(lines: list[OrderLine]) -> list[dict]:
    """The lines with their catalog prices (never the client's); unknown or hidden products refused."""
    products = product_selectors.product_map(product_ids=[line.product_id for line in lines])
    priced = []
    for index, line in enumerate(lines):
        product = products.get(line.product_id)
        if product is None or not product.is_active:
            raise ProductUnavailable(f"No product {line.product_id} is for sale.", field=f"items.{index}.product_id")
        priced.append({"product_id": str(product.pk), "quantity": line.quantity, "price": str(product.price)})
    return priced


def order_place(
    *, customer_id: UUID, lines: list[OrderLine], payment_token: str | None, idempotency_key: str | None
) -> tuple[Order, bool]:
    """Place an order through the place-order saga; returns (order, replayed).

    With a payment token the saga runs to the end (PAID, or CANCELLED with the reason). Without
    one it stops at the payment step with the order PENDING, stock held, until the customer
    confirms the payment (`order_payment_confirm`) or the order expires. An Idempotency-Key
    already used by this customer returns that order, also when both requests race: the order
    row (unique per customer and key) is created in the saga's first transaction, so a losing
    request leaves nothing behind.
    """
    if idempotency_key:
        existing = selectors.order_list_for_customer(customer_id=customer_id).filter(idempotency_key=idempotency_key)
        if order := existing.first():
            return _replay(order, lines), True
    priced = _priced_lines(lines)
    total = sum((Decimal(line["price"]) * line["quantity"] for line in priced), Decimal(0))
    if total > MAX_ORDER_TOTAL:
        raise errors.OrderTooLarge(field="items")
    order_id = uuid4()
    payload = {
        "order_id": str(order_id),
        "customer_id": str(customer_id),
        "idempotency_key": idempotency_key,
        "lines": priced,
        "total": str(total),
        "payment_token": payment_token,
        TWO_STEP_PAYMENT: not payment_token,
    }
    try:
        saga_services.saga_start(saga_type=PLACE_ORDER, payload=payload)
    except IntegrityError:
        if not idempotency_key:
            raise
        order = selectors.order_list_for_customer(customer_id=customer_id).get(idempotency_key=idempotency_key)
        return _replay(order, lines), True
    order = selectors.order_list_for_customer(customer_id=customer_id).get(pk=order_id)
    if order.status == OrderStatus.CANCELLED:
        metrics.ORDERS_FAILED.labels(reason=order.cancel_reason).inc()
    else:
        metrics.ORDERS_PLACED.inc()
    return order, False


def order_pay(*, customer_id: UUID, order_id: UUID, payment_key: str, amount: Decimal) -> None:
    """The two-step flow: the customer paid at the PG; continue the order's saga with that payment.

    The amount must equal the order total (a tampered amount is refused before the PG is called).
    An order that is no longer waiting is left as it is: payments reports that payment's outcome.
    """
    order = selectors.order_get_for_customer(customer_id=customer_id, order_id=order_id)
    if amount != order.total_amount:
        raise PaymentAmountMismatch(field="amount")
    if order.status == OrderStatus.PENDING:
        saga_services.saga_resume(saga_id=order.saga_id, payload_update={"payment_token": payment_key})


def order_cancel(*, order_id: UUID, by: Actor, note: str = "", customer_id: UUID | None = None) -> Order:
    """A customer (given customer_id, only their own order is found) or staff cancel an order that
    has not shipped: stock goes back, a payment is refunded."""
    reason = CancelReason.CUSTOMER_CANCELLED if customer_id is not None else CancelReason.STAFF_CANCELLED
    return _cancel(order_id=order_id, by=by, reason=reason, note=note, customer_id=customer_id)


def order_refund(*, order_id: UUID, by: Actor, note: str = "") -> None:
    """Staff refund an order's payment: the order is cancelled, which refunds it at the PG."""
    try:
        _cancel(order_id=order_id, by=by, reason=CancelReason.STAFF_REFUND, note=note)
    except errors.OrderNotCancellable:
        raise PaymentNotRefundable(field="status") from None


def _cancel(*, order_id: UUID, by: Actor, reason: CancelReason, note: str, customer_id: UUID | None = None) -> Order:
    """Cancel an order that has not shipped, for `reason`.

    The decision is taken under the order's row lock, together with turning its saga to
    compensating, so that the order can no longer ship or be paid; the compensation then runs at
    once (and by recovery, if this process dies first).
    """
    orders = Order.objects.filter(customer_id=customer_id) if customer_id is not None else Order.objects.all()
    saga_id = orders.filter(pk=order_id).values_list("saga_id", flat=True).first()
    if saga_id is None:
        raise errors.OrderNotFound()
    with transaction.atomic():
        # Saga row first, then the order row: the order a saga runner takes them in (no deadlock).
        saga_services.saga_schedule_compensation(saga_id=saga_id, reason=reason, by=by, note=note)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status not in CANCELLABLE:
            raise errors.OrderNotCancellable(field="status")
        set_status(order, OrderStatus.CANCELLED, by=by, reason=reason, note=note)
    with contextlib.suppress(SagaBusy):  # recovery took it over meanwhile and compensates it
        saga_services.saga_compensate(saga_id=order.saga_id, reason=reason, by=by, note=note)
    metrics.ORDERS_CANCELLED.inc()
    return selectors.order_get_with_events(order_id=order_id)


def order_status_change(*, order_id: UUID, to_status: str, by: Actor) -> Order:
    """Staff: PAID -> SHIPPED -> DELIVERED; any other move is refused."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise errors.OrderNotFound()
        if NEXT_STATUS.get(order.status) != to_status:
            raise errors.InvalidStatusTransition(
                f"An order that is {order.status} cannot become {to_status}.", field="status"
            )
        set_status(order, to_status, by=by)
    return selectors.order_get_with_events(order_id=order_id)


def order_expire_unpaid(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel PENDING orders older than ORDER_PAYMENT_TIMEOUT_MINUTES (their stock goes back).

    An order whose saga is running right now (a payment in flight) is left for the next run.
    Returns how many orders expired.
    """
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    stale = Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=cutoff).order_by("created_at")
    expired = 0
    for order_id in stale.values_list("pk", flat=True)[:limit]:
        try:
            _cancel(order_id=order_id, by=ORDER_EXPIRY, reason=CancelReason.PAYMENT_EXPIRED, note="")
        except (SagaBusy, errors.OrderNotCancellable):
            continue
        expired += 1
    return expired


def order_payment_changed(*, order_id: UUID, by: Actor) -> None:
    """The PG reported a payment change (a verified webhook): no money stays taken for a
    cancelled order, a paid order whose payment was cancelled at the PG is cancelled, and a
    PENDING order whose unanswered attempt the PG approved after all goes on to PAID."""
    order = Order.objects.get(pk=order_id)
    approved = payment_selectors.payment_approved_for_order(order_id=order_id)
    if order.status == OrderStatus.CANCELLED:
        payment_services.payment_void_for_order(order_id=order_id, reason="order was cancelled")
    elif order.status == OrderStatus.PAID and approved is None:
        _cancel(order_id=order_id, by=by, reason=CancelReason.PAYMENT_CANCELLED, note="")
    elif order.status == OrderStatus.PENDING and approved is not None:
        # A runner in flight (busy) or a compensation (not waiting) finishes with that payment itself.
        with contextlib.suppress(SagaBusy, SagaNotWaiting):
            saga_services.saga_resume(saga_id=order.saga_id, payload_update={"payment_token": approved.payment_key})


@transaction.atomic
def order_backdate_for_demo(*, order_id: UUID, placed_at: datetime) -> None:
    """Demo data only: move an order (and its items and audit rows) into the past, to build history."""
    Order.objects.filter(pk=order_id).update(created_at=placed_at, updated_at=placed_at)
    OrderItem.objects.filter(order_id=order_id).update(created_at=placed_at)
    OrderEvent.objects.filter(order_id=order_id).update(created_at=placed_at)
