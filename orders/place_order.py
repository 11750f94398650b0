"""The place-order saga: create the order, reserve stock, take the payment, mark it paid.

Every action and compensation is idempotent (a retry after a crash, or a compensation of a step
that never took effect, does nothing twice), because recovery may run any of them again.
The payload carries what the steps need, decided before the saga starts so that creating the
order can be repeated: order_id and order_number, customer_id, idempotency_key, from_cart (the
lines were read from the customer's cart, which creating the order empties), lines with catalog
prices and the products' names and primary images then (the items' snapshot), order_name (for the
PG), items_amount, shipping_fee and total, the shipping snapshot and delivery_memo, payment_method
and payment_due_at (when a PENDING order expires), and how it is paid:
- by card, payment_token (absent in the two-step flow until the customer confirms; then
  two_step_payment is true, and a declined or unanswered payment attempt leaves the saga waiting
  for the next one instead of compensating it);
- by virtual account, bank and sandbox_scenario (the fake PG's scenario): the payment step issues
  the account and the saga waits for the deposit (payments reports it, `order_payment_changed`
  resumes the saga) or for the order to expire at payment_due_at, the account's due date.
"""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext

from c4ang.actors import Actor, ActorKind
from c4ang.db import save_fields
from customers import selectors as customer_selectors
from orders.constants import CancelReason, OrderStatus
from orders.errors import CartChanged, CartEmpty, OrderNotCancellable
from orders.history import cancel_message, status_message
from orders.models import Cart, CartItem, Order, OrderEvent, OrderItem
from payments import services as payment_services
from payments.constants import PaymentMethod, PaymentStatus
from payments.errors import OrderNotPayable, PaymentAttemptUnsettled, PaymentDeclined, PaymentTimedOut
from products import selectors as product_selectors
from products import services as product_services
from products.errors import InsufficientStock
from saga import services as saga_services
from saga.constants import SagaCompensationReason
from saga.services import WAIT, SagaContext, waiting

PLACE_ORDER = "place_order"
PLACE_ORDER_SAGA = Actor.system(PLACE_ORDER)
# The payload's mark of the two-step flow (the order was placed without a payment token).
TWO_STEP_PAYMENT = "two_step_payment"
# The payload's mark of an order placed from the customer's cart.
FROM_CART = "from_cart"
# The payload's scenario of the fake PG for a virtual account (tok_va_deposit_now, ...).
SANDBOX_SCENARIO = "sandbox_scenario"


def set_status(
    order: Order,
    to_status: str,
    *,
    by: Actor,
    reason: CancelReason | str = "",
    note: str = "",
    detail: str = "",
    message: str = "",
) -> None:
    """Move an order to a status and append the audit event (the caller holds the row lock).

    `note` is staff's (the canceller's words, a system's note); `message` what the customer reads in
    the history, by default the status's (orders.history.STATUS_MESSAGES) or, for a cancellation, its reason's with
    the failing error's message `detail` (orders.history: stored in English, read in the reader's
    language). A cancellation keeps its reason, note and message on the order.
    """
    from_status = order.status
    if to_status == OrderStatus.CANCELLED:
        message = message or cancel_message(reason, detail)
        save_fields(order, status=to_status, cancel_reason=reason, cancel_note=note[:200], cancel_message=message[:300])
    else:
        message = message or status_message(to_status)
        save_fields(order, status=to_status)
    OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=str(by),
        reason=reason,
        note=note[:200],
        message=message[:300],
    )


def _cancel_reason(context: SagaContext) -> tuple[CancelReason, str, str]:
    """The order's cancellation for the saga's compensation: (reason, note, detail).

    A failed step (nobody asked: the saga has no `by`) cancels for its error's code when that is a
    CancelReason, else PLACEMENT_FAILED, with the error's message as the detail the customer reads
    (and staff's note: for PLACEMENT_FAILED with the code that failed). An asked-for compensation
    keeps the caller's reason (staff's request in the tracker: STAFF_CANCELLED) and words."""
    known = context.reason in CancelReason.values
    if context.by is None:
        if known:
            return CancelReason(context.reason), context.note, context.note
        return CancelReason.PLACEMENT_FAILED, f"{context.reason}: {context.note}", context.note
    if context.reason == SagaCompensationReason.STAFF_REQUEST:
        return CancelReason.STAFF_CANCELLED, context.note, ""
    return (CancelReason(context.reason) if known else CancelReason.PLACEMENT_FAILED), context.note, ""


def _locked_order(context: SagaContext) -> Order | None:
    return Order.objects.select_for_update().filter(pk=context.payload["order_id"]).first()


def _take_cart(context: SagaContext) -> None:
    """Empty the customer's cart of the lines this order was priced from, under the cart's row lock:
    of concurrent checkouts of one cart the first takes the lines, the others find them gone
    (CartEmpty) or different (CartChanged) and leave nothing behind."""
    payload = context.payload
    cart = Cart.objects.select_for_update().filter(customer_id=payload["customer_id"]).first()
    held = set(CartItem.objects.filter(cart=cart).values_list("product_id", "quantity")) if cart else set()
    if not held:
        raise CartEmpty(field="from_cart")
    if held != {(UUID(line["product_id"]), line["quantity"]) for line in payload["lines"]}:
        raise CartChanged(field="from_cart")
    CartItem.objects.filter(cart=cart).delete()
    cart.save(update_fields=["updated_at"])


def create_order(context: SagaContext) -> None:
    payload = context.payload
    customer = customer_selectors.customer_get_active(customer_id=payload["customer_id"])
    if payload.get(FROM_CART):
        _take_cart(context)
    shipping = payload["shipping"]
    order = Order.objects.create(
        id=payload["order_id"],
        order_number=payload["order_number"],
        customer_id=customer.pk,
        items_amount=Decimal(payload["items_amount"]),
        shipping_fee=Decimal(payload["shipping_fee"]),
        total_amount=Decimal(payload["total"]),
        payment_method=payload["payment_method"],
        payment_due_at=datetime.fromisoformat(payload["payment_due_at"]),
        shipping_recipient=shipping["recipient"],
        shipping_phone=shipping["phone"],
        shipping_postal_code=shipping["postal_code"],
        shipping_road_address=shipping["road_address"],
        shipping_address_detail=shipping["detail"],
        delivery_memo=payload["delivery_memo"],
        idempotency_key=payload["idempotency_key"],
        saga_id=context.saga_id,
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product_id=line["product_id"],
            # A saga started before the snapshot existed has no name or image in its lines.
            product_name=line.get("product_name", ""),
            product_image_url=line.get("product_image_url", ""),
            quantity=line["quantity"],
            price=Decimal(line["price"]),
        )
        for line in payload["lines"]
    )
    by = Actor(ActorKind.CUSTOMER, customer.email)
    OrderEvent.objects.create(
        order=order,
        from_status="",
        to_status=OrderStatus.PENDING,
        actor=str(by),
        message=status_message(OrderStatus.PENDING),
    )


def cancel_order(context: SagaContext) -> None:
    """Compensation: the order is CANCELLED (before any refund, so that it can no longer ship)."""
    order = _locked_order(context)
    if order is None or order.status == OrderStatus.CANCELLED:
        return
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise OrderNotCancellable()
    reason, note, detail = _cancel_reason(context)
    set_status(order, OrderStatus.CANCELLED, by=context.by or PLACE_ORDER_SAGA, reason=reason, note=note, detail=detail)


def reserve_stock(context: SagaContext) -> None:
    """The stock last (a contended step: its saga records are written before it), so that the
    products' rows stay locked from their update to COMMIT only; a refusal rolls the order's mark back."""
    order = _locked_order(context)
    if order.stock_reserved:
        return
    items = {item.product_id: item for item in order.items.all()}
    order.stock_reserved = True
    order.save(update_fields=["stock_reserved", "updated_at"])
    try:
        product_services.stock_reserve(quantities={product_id: item.quantity for product_id, item in items.items()})
    except InsufficientStock as short:
        # Another order took the units after the checkout's look at the stock: say which product.
        item = items[UUID(short.context["product_id"])]
        product = product_selectors.product_map(product_ids=[item.product_id]).get(item.product_id)
        message = gettext("%(product)s has %(available)d in stock, %(ordered)d ordered.") % {
            "product": item.product_name or item.product_id,
            "available": product.stock if product else 0,
            "ordered": item.quantity,
        }
        raise InsufficientStock(message, product_id=str(item.product_id)) from None


def release_stock(context: SagaContext) -> None:
    order = _locked_order(context)
    if order is None or not order.stock_reserved:
        return
    # Units cancelled before (a partial cancellation) went back on the shelf then: only the rest now.
    left = {item.product_id: item.quantity - item.cancelled_quantity for item in order.items.all()}
    order.stock_reserved = False
    order.save(update_fields=["stock_reserved", "updated_at"])
    product_services.stock_release(quantities={product_id: units for product_id, units in left.items() if units})


def take_payment(context: SagaContext) -> dict | object:
    if context.payload.get("payment_method") == PaymentMethod.VIRTUAL_ACCOUNT:
        return _take_deposit(context)
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
            # One step: the order's one payment failed, the order is cancelled; the customer reads
            # the PG's own words about a decline (its `errors` entry) in the cancellation's message.
            if isinstance(failed, PaymentDeclined) and failed.errors:
                raise PaymentDeclined(failed.errors[0]["message"], errors=failed.errors) from failed
            raise
        # Two-step: the order stays PENDING with its stock held, for another attempt until it expires.
        _payment_seen(context)
        return waiting(attempt=token, code=failed.code, message=failed.message)
    if payment.status == PaymentStatus.WAITING:
        # The customer chose a virtual account in the PG's widget: the order is paid by its deposit
        # and waits for it until the account's due date (not the widget's minutes).
        due_at = payment.due_at or datetime.fromisoformat(context.payload["payment_due_at"])
        Order.objects.filter(pk=context.payload["order_id"], status=OrderStatus.PENDING).update(
            payment_method=PaymentMethod.VIRTUAL_ACCOUNT, payment_due_at=due_at, updated_at=timezone.now()
        )
        return waiting(payment_id=str(payment.pk), due_at=due_at.isoformat())
    return {"payment_id": str(payment.pk)}


def _payment_seen(context: SagaContext) -> None:
    """The order shows its payment (an attempt failed, an account was issued) while its status
    stays: its updated_at moves, so that a client polling with updated_since sees the change."""
    Order.objects.filter(pk=context.payload["order_id"]).update(updated_at=timezone.now())


def _take_deposit(context: SagaContext) -> dict | object:
    """A virtual account: issued once (a repeat finds it), then the saga waits for the deposit
    until the account's due date, the order's payment_due_at. A refused or unanswered issue fails
    the step: the order is cancelled (its compensation settles an issue the PG never answered)."""
    payload = context.payload
    customer = customer_selectors.customer_get(customer_id=payload["customer_id"])
    payment = payment_services.payment_take_virtual_account(
        order_id=payload["order_id"],
        customer_id=payload["customer_id"],
        amount=Decimal(payload["total"]),
        order_name=payload["order_name"],
        customer_name=customer.name,
        bank=payload["bank"],
        due_at=datetime.fromisoformat(payload["payment_due_at"]),
        sandbox_token=payload.get(SANDBOX_SCENARIO),
    )
    if payment.status == PaymentStatus.WAITING:
        _payment_seen(context)
        return waiting(payment_id=str(payment.pk), due_at=payload["payment_due_at"])
    return {"payment_id": str(payment.pk)}


def void_payment(context: SagaContext) -> None:
    # The PG keeps a readable cancelReason: the code, then the canceller's words or what failed.
    reason, note, _ = _cancel_reason(context)
    payment_services.payment_void_for_order(
        order_id=context.payload["order_id"], reason=f"{reason.value}: {note}" if note else reason.value
    )


def mark_paid(context: SagaContext) -> None:
    order = _locked_order(context)
    if order.status == OrderStatus.PAID:
        return
    if order.status != OrderStatus.PENDING:
        raise OrderNotPayable(gettext("The order is %(status)s; the payment is refunded.") % {"status": order.status})
    set_status(order, OrderStatus.PAID, by=PLACE_ORDER_SAGA, note="payment approved")


DEFINITION = saga_services.saga_define(
    saga_type=PLACE_ORDER,
    steps=[
        saga_services.SagaStep("create_order", create_order, cancel_order),
        saga_services.SagaStep("reserve_stock", reserve_stock, release_stock, contended=True),
        saga_services.SagaStep("take_payment", take_payment, void_payment, atomic=False),
        saga_services.SagaStep("mark_paid", mark_paid, cancel_order),
    ],
)
