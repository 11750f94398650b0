"""Writes of the orders module: placing orders (through the place-order saga), paying, cancelling,
shipping, expiring unpaid orders.

The payments module owns the PG and payment records and sits below orders: what a confirm, a
refund or a changed payment means for an order is handled here (`order_pay`, `order_refund`,
`order_payment_changed`), registered with payments' hooks when the app is ready.
"""

import contextlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from c4ang.actors import Actor
from c4ang.errors import DomainError
from customers import errors as customer_errors
from customers import selectors as customer_selectors
from orders import carriers, errors, history, metrics, selectors
from orders.constants import CUSTOMER_RETURN_REASONS, CancelReason, OrderStatus, ReturnReason, ReturnStatus
from orders.models import (
    Cart,
    CartItem,
    Order,
    OrderEvent,
    OrderItem,
    OrderNumberCounter,
    Return,
    ReturnEvent,
    ReturnItem,
    Shipment,
)
from orders.place_order import FROM_CART, PLACE_ORDER, SANDBOX_SCENARIO, TWO_STEP_PAYMENT, set_status
from orders.pricing import MAX_ORDER_TOTAL, charge_for_remaining, shipping_fee_for
from payments import errors as payment_errors
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.constants import VIRTUAL_ACCOUNT_EXPIRED, PaymentMethod, RefundReason, RefundStatus
from payments.errors import OrderNotPayable, PaymentAmountMismatch, PaymentNotRefundable, RefundExceedsPaid
from products import selectors as product_selectors
from products import services as product_services
from products.errors import InsufficientStock, ProductNotFound
from saga import selectors as saga_selectors
from saga import services as saga_services
from saga.errors import SagaBusy, SagaNotWaiting

ORDER_EXPIRY = Actor.system("order_expiry")

CANCELLABLE = (OrderStatus.PENDING, OrderStatus.PAID)


@dataclass(frozen=True)
class OrderLine:
    product_id: UUID
    quantity: int


@dataclass(frozen=True)
class ShippingAddress:
    """Where an order goes. The order keeps a copy (its snapshot): editing or deleting the address
    in the address book later never changes a placed order."""

    recipient: str
    phone: str
    postal_code: str
    road_address: str
    detail: str = ""


def shipping_address_from_book(*, customer_id: UUID, address_id: UUID) -> ShippingAddress:
    """An address of the customer's address book, as an order's shipping address; an unknown id or
    another customer's is AddressNotFound (404, naming address_id)."""
    try:
        address = customer_selectors.address_get_for_customer(customer_id=customer_id, address_id=address_id)
    except customer_errors.AddressNotFound:
        raise customer_errors.AddressNotFound(field="address_id") from None
    return ShippingAddress(
        recipient=address.recipient,
        phone=address.phone,
        postal_code=address.postal_code,
        road_address=address.road_address,
        detail=address.detail,
    )


def _replayed(*, customer_id: UUID, idempotency_key: str, lines: list[OrderLine] | None) -> Order | None:
    """The order the customer placed with this Idempotency-Key, when this request repeats it: the
    same lines, or (lines None) again from the cart for an order placed from the cart, which that
    checkout emptied. None when the key is new; IdempotencyKeyReused when it placed another order."""
    orders = selectors.order_list_for_customer(customer_id=customer_id)
    order = orders.filter(idempotency_key=idempotency_key).first()
    if order is None:
        return None
    if lines is None:
        same = order.saga_id is not None and saga_selectors.saga_get(saga_id=order.saga_id).payload.get(FROM_CART)
    else:
        ordered = {(item.product_id, item.quantity) for item in order.items.all()}
        same = ordered == {(line.product_id, line.quantity) for line in lines}
    if not same:
        raise errors.IdempotencyKeyReused(field="Idempotency-Key")
    return order


def _cart_lines(*, customer_id: UUID) -> list[OrderLine]:
    lines = [
        OrderLine(product_id=product_id, quantity=quantity)
        for product_id, quantity in selectors.cart_checkout_lines(customer_id=customer_id)
    ]
    if not lines:
        raise errors.CartEmpty(field="from_cart")
    return lines


def _unavailable_entry(field: str, line: OrderLine, product) -> dict:
    entry = {"field": field, "code": "product_unavailable", "product_id": str(line.product_id)}
    if product is None:
        return {**entry, "message": gettext("No product %(product_id)s is for sale.") % {"product_id": line.product_id}}
    message = gettext("%(product)s is no longer for sale.") % {"product": product.name}
    return {**entry, "message": message, "product_name": product.name}


def _short_entry(field: str, line: OrderLine, product) -> dict:
    return {
        "field": field,
        "code": "insufficient_stock",
        "message": gettext("%(product)s: %(available)d in stock, %(ordered)d ordered.")
        % {"product": product.name, "available": product.stock, "ordered": line.quantity},
        "product_id": str(product.pk),
        "product_name": product.name,
        "available": max(product.stock, 0),
    }


def _refuse_unsellable(lines: list[OrderLine], products: dict, *, from_cart: bool) -> None:
    """Lines that cannot become a paid order are refused before anything happens (no order, no
    order number, nothing an Idempotency-Key would replay: the same request succeeds once the
    catalog allows it), one `errors` entry per line naming its product: a product unknown or off
    sale (409 product_unavailable; cart_product_unavailable for the cart, which stays as it is for
    the customer to fix), then fewer units in stock than ordered (409 insufficient_stock, with
    what is `available`). The saga's stock reservation stays the guarantee against a race."""
    where = "from_cart" if from_cart else "items.{index}.{name}"
    unavailable = [
        _unavailable_entry(where.format(index=index, name="product_id"), line, product)
        for index, line in enumerate(lines)
        if not getattr(product := products.get(line.product_id), "is_active", False)
    ]
    if unavailable:
        names = ", ".join(entry.get("product_name", entry["product_id"]) for entry in unavailable)
        if from_cart:
            message = gettext("No longer for sale: %(products)s. Remove them from the cart.")
            raise errors.CartProductUnavailable(message % {"products": names}, errors=unavailable)
        message = gettext("Not for sale: %(products)s. Remove them from the order.")
        raise errors.OrderProductUnavailable(message % {"products": names}, errors=unavailable)
    short = [
        _short_entry(where.format(index=index, name="quantity"), line, product)
        for index, line in enumerate(lines)
        if (product := products[line.product_id]).stock < line.quantity
    ]
    if short:
        names = ", ".join(entry["product_name"] for entry in short)
        if from_cart:
            message = gettext("Not enough stock of %(products)s: lower the quantities in the cart.")
        else:
            message = gettext("Not enough stock of %(products)s: lower the quantities of the order.")
        raise InsufficientStock(message % {"products": names}, errors=short)


def _priced_lines(lines: list[OrderLine], *, from_cart: bool) -> tuple[list[dict], str]:
    """The lines with their catalog prices (never the client's) and the products' names and primary
    images (list size) as the items' snapshot, and the order's name for the PG ("무선 이어폰 외 2건");
    lines that cannot be sold are refused first (_refuse_unsellable)."""
    products = product_selectors.product_map(product_ids=[line.product_id for line in lines])
    _refuse_unsellable(lines, products, from_cart=from_cart)
    images = product_selectors.product_primary_image_urls(product_ids=list(products))
    priced = [
        {
            "product_id": str(line.product_id),
            "quantity": line.quantity,
            "price": str(products[line.product_id].price),
            "product_name": products[line.product_id].name,
            "product_image_url": images.get(line.product_id, ""),
        }
        for line in lines
    ]
    return priced, payment_selectors.order_name(product_names=[line["product_name"] for line in priced])


def order_number_allocate() -> str:
    """The next order number of today (shop time), `YYYYMMDD-NNNNNN`, taken under the day's counter
    row lock in a short transaction of its own: concurrent checkouts never get the same number, and
    a placement that fails afterwards leaves a gap, never a duplicate."""
    day = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))  # the shop's day, whatever zone is active
    with transaction.atomic():
        OrderNumberCounter.objects.bulk_create([OrderNumberCounter(day=day)], ignore_conflicts=True)
        counter = OrderNumberCounter.objects.select_for_update().get(day=day)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
    return f"{day:%Y%m%d}-{counter.last_number:06d}"


def order_place(
    *,
    customer_id: UUID,
    lines: list[OrderLine] | None = None,
    from_cart: bool = False,
    shipping: ShippingAddress | None = None,
    address_id: UUID | None = None,
    delivery_memo: str = "",
    payment_method: str = PaymentMethod.CARD,
    bank: str | None = None,
    payment_token: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Place an order through the place-order saga; returns (order, replayed).

    The items are `lines` or, with `from_cart`, the customer's cart: its lines at catalog prices,
    refused before anything happens (no order, no order number) when the cart is empty
    (CartEmpty), when a product is unknown or no longer for sale (OrderProductUnavailable; from
    the cart CartProductUnavailable) or when a line wants more than the stock (InsufficientStock),
    each refusal naming every such line and its product (_refuse_unsellable). Only a race for the
    last units gets past that look: the saga's reservation then cancels the order for
    insufficient_stock, naming the product. The saga's first transaction locks the cart, checks it
    still holds those lines (CartChanged) and empties it with the order's creation: of concurrent
    checkouts of one cart one makes the order. A failed or cancelled order does not put its lines back.

    It ships to `shipping`, or to the address `address_id` of the customer's address book, copied
    onto the order. The amounts are the server's: items at catalog prices plus the shipping fee
    (orders.pricing). An order number is given out before the saga starts.

    Paid by card: with a payment token the saga runs to the end (PAID, or CANCELLED with the
    reason); without one it stops at the payment step with the order PENDING, stock held, until
    the customer confirms the payment (`order_pay`) or the order expires after
    ORDER_PAYMENT_TIMEOUT_MINUTES. By virtual account (`bank` required; `payment_token` picks a
    scenario of the fake PG): the account is issued at once and the order waits PENDING, stock
    held, for the deposit until ORDER_VIRTUAL_ACCOUNT_DAYS later (the account's due date).

    An Idempotency-Key already used by this customer returns that order, also when both requests
    race: the order row (unique per customer and key) is created in the saga's first transaction,
    so a losing request leaves nothing behind, and one that finds the cart emptied or the stock
    taken by its twin answers the twin's order.
    """
    if from_cart == (lines is not None):
        raise ValueError("An order is placed from `lines` or `from_cart`: exactly one of them.")
    if (shipping is None) == (address_id is None):
        raise errors.ShippingAddressRequired(field="address")
    virtual_account = PaymentMethod(payment_method) == PaymentMethod.VIRTUAL_ACCOUNT
    if virtual_account and not bank:
        raise ValueError("A virtual account is issued at a bank: `bank` is required.")
    request_lines = lines

    def twin() -> Order | None:
        # The order of this key, placed before or by a request that raced this one (once committed).
        if not idempotency_key:
            return None
        return _replayed(customer_id=customer_id, idempotency_key=idempotency_key, lines=request_lines)

    if order := twin():
        return order, True
    try:
        if from_cart:
            lines = _cart_lines(customer_id=customer_id)
        priced, order_name = _priced_lines(lines, from_cart=from_cart)
    except (errors.CartEmpty, errors.CartProductUnavailable, errors.OrderProductUnavailable, InsufficientStock):
        # A twin with this key may have committed since the look above, with the cart or the stock
        # this request would have had: then this request is its replay.
        if order := twin():
            return order, True
        raise
    items_amount = sum((Decimal(line["price"]) * line["quantity"] for line in priced), Decimal(0))
    fee = shipping_fee_for(items_amount)
    total = items_amount + fee
    if total > MAX_ORDER_TOTAL:
        raise errors.OrderTooLarge(field="from_cart" if from_cart else "items")
    if address_id is not None:
        shipping = shipping_address_from_book(customer_id=customer_id, address_id=address_id)
    wait = (
        timedelta(days=settings.ORDER_VIRTUAL_ACCOUNT_DAYS)
        if virtual_account
        else timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    )
    order_id = uuid4()
    payload = {
        "order_id": str(order_id),
        "order_number": order_number_allocate(),
        "customer_id": str(customer_id),
        "idempotency_key": idempotency_key,
        FROM_CART: from_cart,
        "lines": priced,
        "order_name": order_name,
        "items_amount": str(items_amount),
        "shipping_fee": str(fee),
        "total": str(total),
        "shipping": asdict(shipping),
        "delivery_memo": delivery_memo,
        "payment_method": PaymentMethod(payment_method).value,
        "payment_due_at": (timezone.now() + wait).isoformat(),
        "bank": bank if virtual_account else None,
        # A card is paid with a token; a virtual account's token only picks the fake PG's scenario.
        "payment_token": None if virtual_account else payment_token,
        SANDBOX_SCENARIO: payment_token if virtual_account else None,
        TWO_STEP_PAYMENT: not virtual_account and not payment_token,
    }
    try:
        saga_services.saga_start(saga_type=PLACE_ORDER, payload=payload)
    except (IntegrityError, errors.CartEmpty, errors.CartChanged):
        # The same key won a race (its order row was committed while this one's insert waited on it),
        # or another checkout of this cart emptied it first: with the same key, this request's twin.
        if order := twin():
            return order, True
        raise
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
    An order paid by virtual account is paid by its deposit, never confirmed (OrderNotPayable).
    """
    order = selectors.order_get_for_customer(customer_id=customer_id, order_id=order_id)
    if order.payment_method == PaymentMethod.VIRTUAL_ACCOUNT:
        message = gettext("The order is paid by a deposit into its virtual account.")
        raise OrderNotPayable(message, field="orderId")
    if amount != order.total_amount:
        raise PaymentAmountMismatch(field="amount")
    if order.status == OrderStatus.PENDING:
        saga_services.saga_resume(saga_id=order.saga_id, payload_update={"payment_token": payment_key})


def order_cancel(*, order_id: UUID, by: Actor, note: str = "", customer_id: UUID | None = None) -> Order:
    """A customer (given customer_id, only their own order is found) or staff cancel an order that
    has not shipped: stock goes back, a payment is refunded.

    A customer's cancel of an order that is already cancelled (for whatever reason, also by a
    concurrent cancel) answers that order as it is: asking again for what is done is safe. A
    shipped or delivered order is OrderNotCancellable (it is returned instead)."""
    if customer_id is None:
        return _cancel(order_id=order_id, by=by, reason=CancelReason.STAFF_CANCELLED, note=note)
    own = Order.objects.filter(pk=order_id, customer_id=customer_id)
    if own.filter(status=OrderStatus.CANCELLED).exists():
        # Before its saga is asked: one whose compensation failed for good refuses a second one.
        return selectors.order_get_with_events(order_id=order_id)
    try:
        return _cancel(
            order_id=order_id, by=by, reason=CancelReason.CUSTOMER_CANCELLED, note=note, customer_id=customer_id
        )
    except errors.OrderNotCancellable:
        if not own.filter(status=OrderStatus.CANCELLED).exists():
            raise
        return selectors.order_get_with_events(order_id=order_id)


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


def order_expire_unpaid(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel PENDING orders past their payment deadline (their stock goes back): each order's own
    `payment_due_at`, ORDER_PAYMENT_TIMEOUT_MINUTES after placement when paid by card,
    ORDER_VIRTUAL_ACCOUNT_DAYS when waiting for a deposit (whose account is then cancelled at the PG).

    An order whose saga is running right now (a payment in flight) is left for the next run.
    Returns how many orders expired.
    """
    stale = Order.objects.filter(status=OrderStatus.PENDING, payment_due_at__lt=now or timezone.now())
    stale = stale.order_by("payment_due_at")
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
    cancelled order (a deposit that came too late is refunded), a paid order whose payment was
    cancelled at the PG is cancelled, and a PENDING order whose unanswered attempt the PG approved
    after all, or whose virtual account received the deposit, goes on to PAID. A PENDING order
    whose virtual account the PG closed (expired, cancelled in its dashboard) is cancelled at
    once: nothing can be deposited any more."""
    # The order shows its payment: whatever follows, a client polling with updated_since sees it changed.
    Order.objects.filter(pk=order_id).update(updated_at=timezone.now())
    order = Order.objects.get(pk=order_id)
    approved = payment_selectors.payment_approved_for_order(order_id=order_id)
    by_deposit = order.payment_method == PaymentMethod.VIRTUAL_ACCOUNT
    if order.status == OrderStatus.CANCELLED:
        payment_services.payment_void_for_order(order_id=order_id, reason="order was cancelled")
    elif order.status == OrderStatus.PAID and approved is None:
        _cancel(order_id=order_id, by=by, reason=CancelReason.PAYMENT_CANCELLED, note="")
    elif order.status == OrderStatus.PENDING and approved is not None:
        # A runner in flight (busy) or a compensation (not waiting) finishes with that payment itself.
        # A deposit needs no token: the payment step finds the virtual account's payment approved.
        paid_with = {} if by_deposit else {"payment_token": approved.payment_key}
        with contextlib.suppress(SagaBusy, SagaNotWaiting):
            saga_services.saga_resume(saga_id=order.saga_id, payload_update=paid_with)
    elif order.status == OrderStatus.PENDING and by_deposit and _virtual_account_closed(order_id=order_id):
        account = payment_selectors.virtual_account_latest(order_id=order_id)
        expired = account.failure_code == VIRTUAL_ACCOUNT_EXPIRED
        reason = CancelReason.PAYMENT_EXPIRED if expired else CancelReason.PAYMENT_CANCELLED
        # A runner in flight (the issue being repeated) or a cancellation under way decides instead.
        with contextlib.suppress(SagaBusy, errors.OrderNotCancellable):
            _cancel(order_id=order_id, by=by, reason=reason, note=account.failure_code)


def _virtual_account_closed(*, order_id: UUID) -> bool:
    """Whether the order's virtual account was issued and is closed for deposits: none open, none
    whose issue is still unanswered."""
    return (
        payment_selectors.virtual_account_latest(order_id=order_id) is not None
        and payment_selectors.payment_waiting_for_order(order_id=order_id) is None
        and not payment_selectors.payment_attempts_unsettled(order_id=order_id).exists()
    )


@transaction.atomic
def order_backdate_for_demo(*, order_id: UUID, placed_at: datetime) -> None:
    """Demo data only: move an order (and its items and audit rows) into the past, to build history."""
    Order.objects.filter(pk=order_id).update(created_at=placed_at, updated_at=placed_at)
    OrderItem.objects.filter(order_id=order_id).update(created_at=placed_at)
    OrderEvent.objects.filter(order_id=order_id).update(created_at=placed_at)
    # Shipped the next day, delivered two days later (never after now).
    now = timezone.now()
    shipped_at = min(placed_at + timedelta(days=1), now)
    Shipment.objects.filter(order_id=order_id).update(shipped_at=shipped_at)
    delivered = Shipment.objects.filter(order_id=order_id, delivered_at__isnull=False)
    delivered.update(delivered_at=min(shipped_at + timedelta(days=2), now))


# --- cart ---


def _cart_for_update(*, customer_id: UUID, create: bool = False) -> Cart | None:
    """The customer's cart under its row lock (created first when `create`), inside the caller's
    transaction. Every write of a cart, and the checkout that empties it, takes this lock: they
    apply one after the other, so the line and quantity bounds hold under concurrent requests."""
    cart = Cart.objects.select_for_update().filter(customer_id=customer_id).first()
    if cart is None and create:
        # Two first adds at once: one inserts, the other's insert waits for it and then does nothing.
        Cart.objects.bulk_create([Cart(customer_id=customer_id)], ignore_conflicts=True)
        cart = Cart.objects.select_for_update().get(customer_id=customer_id)
    return cart


def _check_line_quantity(quantity: int) -> None:
    if quantity > settings.ORDER_MAX_QUANTITY:
        message = gettext("A cart line holds at most %(count)d units.") % {"count": settings.ORDER_MAX_QUANTITY}
        raise errors.CartQuantityLimitReached(message, field="quantity")


def cart_add(*, customer_id: UUID, product_id: UUID, quantity: int) -> tuple[CartItem, bool]:
    """Put `quantity` units of a product for sale into the customer's cart, on top of those already
    there; returns (line, created). The cart is created on the first add.

    The line records the catalog price of now as its price when added: the customer saw it to add
    the product (again). Refused, leaving the cart as it was: a product unknown or not for sale
    (404 `product_not_found`), a line past ORDER_MAX_QUANTITY units or a cart past ORDER_MAX_LINES
    products (409). Stock is not checked here: the cart view flags a short line, checkout refuses it.
    """
    product = product_selectors.product_map(product_ids=[product_id]).get(product_id)
    if product is None or not product.is_active:
        message = gettext("No product %(product_id)s is for sale.") % {"product_id": product_id}
        raise ProductNotFound(message, field="product_id")
    with transaction.atomic():
        cart = _cart_for_update(customer_id=customer_id, create=True)
        lines = {line.product_id: line for line in CartItem.objects.filter(cart=cart)}
        line = lines.get(product_id)
        if line is None:
            if len(lines) >= settings.ORDER_MAX_LINES:
                message = gettext("A cart holds at most %(count)d products.") % {"count": settings.ORDER_MAX_LINES}
                raise errors.CartLineLimitReached(message, field="product_id")
            _check_line_quantity(quantity)
            line = CartItem.objects.create(
                cart=cart, product_id=product_id, quantity=quantity, price_when_added=product.price
            )
        else:
            _check_line_quantity(line.quantity + quantity)
            # Read and written under the cart's lock: no concurrent add of this line in between.
            line.quantity += quantity
            line.price_when_added = product.price
            line.save(update_fields=["quantity", "price_when_added", "updated_at"])
        cart.save(update_fields=["updated_at"])
    return line, line.product_id not in lines


def cart_set_quantity(*, customer_id: UUID, product_id: UUID, quantity: int) -> CartItem:
    """Set how many units of a product in the customer's cart (1 to ORDER_MAX_QUANTITY); its price
    when added stays. A product not in the cart is a 404 `cart_item_not_found`."""
    _check_line_quantity(quantity)
    with transaction.atomic():
        cart = _cart_for_update(customer_id=customer_id)
        line = cart and CartItem.objects.filter(cart=cart, product_id=product_id).first()
        if line is None:
            raise errors.CartItemNotFound()
        line.quantity = quantity
        line.save(update_fields=["quantity", "updated_at"])
        cart.save(update_fields=["updated_at"])
    return line


def cart_remove(*, customer_id: UUID, product_id: UUID) -> None:
    """Take a product out of the customer's cart; one not in it is a 404 `cart_item_not_found`."""
    with transaction.atomic():
        cart = _cart_for_update(customer_id=customer_id)
        removed = cart and CartItem.objects.filter(cart=cart, product_id=product_id).delete()[0]
        if not removed:
            raise errors.CartItemNotFound()
        cart.save(update_fields=["updated_at"])


def cart_clear(*, customer_id: UUID) -> None:
    """Empty the customer's cart (a customer without one has nothing to empty)."""
    with transaction.atomic():
        cart = _cart_for_update(customer_id=customer_id)
        if cart is not None:
            CartItem.objects.filter(cart=cart).delete()
            cart.save(update_fields=["updated_at"])


# --- returns ---

# Each step of a return, from the status it leaves: REQUESTED -> APPROVED/REJECTED -> RECEIVED -> REFUNDED.
RETURN_STEPS = {
    ReturnStatus.APPROVED: (ReturnStatus.REQUESTED,),
    ReturnStatus.REJECTED: (ReturnStatus.REQUESTED,),
    ReturnStatus.RECEIVED: (ReturnStatus.APPROVED,),
    ReturnStatus.REFUNDED: (ReturnStatus.RECEIVED,),
}


def _return_event(return_row: Return, to_status: str, *, by: Actor | str, note: str = "") -> None:
    """Move a return (its row lock held; a new one is REQUESTED already) and append the audit
    event. The caller counts the step (metrics.RETURNS) once its transaction committed."""
    from_status = "" if to_status == ReturnStatus.REQUESTED else return_row.status
    if from_status:
        return_row.status = to_status
        return_row.save(update_fields=["status", "staff_note", "updated_at"])
    ReturnEvent.objects.create(
        return_request=return_row, from_status=from_status, to_status=to_status, actor=str(by), note=note[:500]
    )


def _return_for_step(return_id: UUID, to_status: str) -> Return:
    """The return under its row lock (inside the caller's transaction), refused unless it can take
    the step to `to_status` from where it is."""
    return_row = Return.objects.select_for_update().filter(pk=return_id).first()
    if return_row is None:
        raise errors.ReturnNotFound()
    if return_row.status not in RETURN_STEPS[to_status]:
        message = gettext("A return that is %(status)s cannot become %(to_status)s.")
        raise errors.InvalidReturnTransition(
            message % {"status": return_row.status, "to_status": to_status}, field="status"
        )
    return return_row


def return_request(
    *,
    order_id: UUID,
    customer_id: UUID,
    lines: dict[UUID, int],
    reason: str,
    reason_text: str = "",
    by: Actor,
) -> Return:
    """A customer asks to send back units of some lines of their own delivered order (`lines`:
    order item id -> units, named in errors as items.<index> in their order).

    Only within RETURN_WINDOW_DAYS of the delivery (409 return_window_closed) and of what was
    delivered: a line's units less those cancelled, returned or held by another return under way
    (409 naming the line). The refund it will get is fixed now: the units at their order price,
    less RETURN_SHIPPING_FEE when the reason is the customer's (CUSTOMER_RETURN_REASONS), never
    below zero. Decided under the order's row lock: concurrent requests for one order take turns,
    so that together they never return more than was delivered.
    """
    reason = ReturnReason(reason)
    if not lines or min(lines.values()) < 1:
        raise ValueError("A return holds at least one line, each of at least one unit.")
    if reason == ReturnReason.OTHER and not reason_text.strip():
        raise errors.ReturnReasonTextRequired(field="reason_text")
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, customer_id=customer_id).first()
        if order is None:
            raise errors.OrderNotFound()
        if order.status != OrderStatus.DELIVERED:
            message = gettext("The order is %(status)s: only a delivered one is returned.")
            raise errors.OrderNotDelivered(message % {"status": order.status})
        delivered_at = selectors.order_delivered_at(order_id=order_id)
        closes_at = delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS) if delivered_at else None
        if closes_at is None or timezone.now() > closes_at:
            message = gettext("Returns are taken within %(days)d days of delivery.")
            raise errors.ReturnWindowClosed(message % {"days": settings.RETURN_WINDOW_DAYS})
        items = selectors.order_items_returnable(order_id=order_id)
        items_amount = Decimal(0)
        for index, (order_item_id, quantity) in enumerate(lines.items()):
            item = items.get(order_item_id)
            if item is None:
                raise errors.ReturnItemNotInOrder(field=f"items.{index}.order_item_id")
            if item.cancelled_quantity >= item.quantity:
                raise errors.ReturnLineCancelled(field=f"items.{index}.order_item_id")
            if quantity > item.returnable:
                raise errors.ReturnQuantityExceeded(
                    gettext("At most %(count)d units of this line can be returned.") % {"count": item.returnable},
                    field=f"items.{index}.quantity",
                    returnable=item.returnable,
                )
            items_amount += item.price * quantity
        fee = Decimal(settings.RETURN_SHIPPING_FEE) if reason in CUSTOMER_RETURN_REASONS else Decimal(0)
        created = Return.objects.create(
            order=order,
            customer_id=customer_id,
            reason=reason,
            reason_text=reason_text,
            return_shipping_fee=fee,
            refund_amount=max(items_amount - fee, Decimal(0)),
        )
        ReturnItem.objects.bulk_create(
            ReturnItem(return_request=created, order_item_id=order_item_id, quantity=quantity)
            for order_item_id, quantity in lines.items()
        )
        _return_event(created, ReturnStatus.REQUESTED, by=by)
    metrics.RETURNS.labels(status=ReturnStatus.REQUESTED).inc()
    return selectors.return_get(return_id=created.pk)


def _return_decide(*, return_id: UUID, to_status: str, by: Actor, note: str) -> Return:
    with transaction.atomic():
        return_row = _return_for_step(return_id, to_status)
        if note:
            return_row.staff_note = note[:500]
        _return_event(return_row, to_status, by=by, note=note)
    metrics.RETURNS.labels(status=to_status).inc()
    return selectors.return_get(return_id=return_id)


def return_approve(*, return_id: UUID, by: Actor, note: str = "") -> Return:
    """Staff accept a REQUESTED return: the customer sends the parcel back (APPROVED)."""
    return _return_decide(return_id=return_id, to_status=ReturnStatus.APPROVED, by=by, note=note)


def return_reject(*, return_id: UUID, by: Actor, note: str) -> Return:
    """Staff refuse a REQUESTED return, saying why (the note, shown to the customer): REJECTED,
    and its units can be asked for again (within the window)."""
    return _return_decide(return_id=return_id, to_status=ReturnStatus.REJECTED, by=by, note=note)


def return_receive(*, return_id: UUID, resellable: dict[UUID, bool], by: Actor, note: str = "") -> Return:
    """Staff received an APPROVED return's parcel: RECEIVED, with a decision per line (`resellable`:
    order item id -> bool, one for each line of the return and no other, else 400 naming `lines`).

    The units count as returned on their order lines from now (returned_quantity), and resellable
    units go back on the shelf through the catalog's stock adjustment (a record with the reason
    and the actor); the others are written off by staying off it. One transaction: all or nothing.
    """
    with transaction.atomic():
        return_row = _return_for_step(return_id, ReturnStatus.RECEIVED)
        items = ReturnItem.objects.filter(return_request=return_row).select_related("order_item")
        items = list(items.order_by("order_item_id"))
        if {item.order_item_id for item in items} != set(resellable):
            raise errors.ReturnLinesMismatch(field="lines")
        # The order's lines show the units returned from now (its row first, then its lines, as elsewhere).
        Order.objects.filter(pk=return_row.order_id).update(updated_at=timezone.now())
        restock: dict[UUID, int] = {}
        for item in items:
            item.resellable = resellable[item.order_item_id]
            item.save(update_fields=["resellable"])
            # Locks the order lines in primary-key order; the table's check keeps it within the line.
            returned = F("returned_quantity") + item.quantity
            OrderItem.objects.filter(pk=item.order_item_id).update(returned_quantity=returned)
            if item.resellable:
                product_id = item.order_item.product_id
                restock[product_id] = restock.get(product_id, 0) + item.quantity
        for product_id in sorted(restock):
            product_services.stock_adjust(
                product_id=product_id, delta=restock[product_id], reason=f"Return {return_id}: resellable", by=by
            )
        if note:
            return_row.staff_note = note[:500]
        _return_event(return_row, ReturnStatus.RECEIVED, by=by, note=note)
    metrics.RETURNS.labels(status=ReturnStatus.RECEIVED).inc()
    return selectors.return_get(return_id=return_id)


def return_refund(*, return_id: UUID, by: Actor) -> Return:
    """Staff refund a RECEIVED return its `refund_amount` through the PG's partial cancel
    (payments' refund row, operation `return:<id>`): REFUNDED once the PG took it.

    The PG is called outside any transaction. The operation makes a repeat safe: concurrent or
    repeated calls make one refund, and the return becomes REFUNDED once. A refund the PG did not
    answer stays PENDING in payments (the return stays RECEIVED): recovery asks again, and its
    success (payments' `refunded` hook, `return_refunds_settle`) or a later call of this finishes it.
    A return with nothing to refund (the fee took it all) becomes REFUNDED without a PG call.
    """
    with transaction.atomic():
        return_row = _return_for_step(return_id, ReturnStatus.REFUNDED)
    if return_row.refund_amount > 0:
        refund_this = partial(
            payment_services.payment_refund_amount,
            order_id=return_row.order_id,
            amount=return_row.refund_amount,
            reason=RefundReason.RETURN,
            by=by,
            operation=_return_operation(return_id),
            note=f"Return {return_id}",
        )
        try:
            refund = refund_this()
        except RefundExceedsPaid:
            # A concurrent call of this operation may have reserved the amount first (the payment
            # has no room for it twice): asked again, the operation answers with that refund; a
            # refund that really exceeds what is left is refused again.
            refund = refund_this()
        if refund.status != RefundStatus.SUCCEEDED:
            return selectors.return_get(return_id=return_id)
    _return_refunded(return_id=return_id, by=by)
    return selectors.return_get(return_id=return_id)


def _return_operation(return_id: UUID) -> str:
    return f"return:{return_id}"


def _return_refunded(*, return_id: UUID, by: Actor | str) -> bool:
    """RECEIVED -> REFUNDED once its refund went through (`by`: who asked for it, an Actor or its
    audit string); a return already REFUNDED (a concurrent call or the hook came first) is left
    as it is. Returns whether it moved."""
    with transaction.atomic():
        return_row = Return.objects.select_for_update().get(pk=return_id)
        moved = return_row.status == ReturnStatus.RECEIVED
        if moved:
            _return_event(return_row, ReturnStatus.REFUNDED, by=by)
    if moved:
        metrics.RETURNS.labels(status=ReturnStatus.REFUNDED).inc()
    return moved


def return_refunds_settle(*, order_id: UUID) -> int:
    """The order's RECEIVED returns whose refund has gone through become REFUNDED, by whoever asked
    for the refund; returns how many did. Called by payments' `refunded` hook (after the refund
    call itself, or when recovery settled a refund the PG had not answered)."""
    received = Return.objects.filter(order_id=order_id, status=ReturnStatus.RECEIVED).values_list("pk", flat=True)
    if not received:
        return 0
    refunded = {
        refund.operation: refund.requested_by
        for refund in payment_selectors.refunds_for_order(order_id=order_id)
        if refund.status == RefundStatus.SUCCEEDED
    }
    settled = 0
    for return_id in received:
        requested_by = refunded.get(_return_operation(return_id))
        if requested_by is not None:
            settled += _return_refunded(return_id=return_id, by=requested_by)
    return settled


# --- fulfilment ---

# The rows one bulk shipment takes (each row is a transaction of its own).
BULK_SHIP_MAX_ROWS = 1000
# The first cell of a bulk-ship file's header row, when it has one.
BULK_SHIP_HEADERS = ("order_number", "주문번호")


def _order_locked(order_id: UUID) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise errors.OrderNotFound()
    return order


def _ship(*, order_id: UUID, carrier: str, tracking_number: str, by: Actor) -> None:
    carrier = carriers.carrier_from(carrier)
    number = carriers.tracking_number_clean(carrier=carrier, tracking_number=tracking_number)
    try:
        with transaction.atomic():
            order = _order_locked(order_id)
            if order.status != OrderStatus.PAID:
                message = gettext("An order that is %(status)s cannot ship.") % {"status": order.status}
                raise errors.OrderNotShippable(message, field="status")
            if Shipment.objects.filter(carrier=carrier, tracking_number=number).exists():
                raise errors.TrackingNumberInUse(field="tracking_number")
            Shipment.objects.create(
                order=order, carrier=carrier, tracking_number=number, shipped_at=timezone.now(), shipped_by=str(by)
            )
            # The carrier's trade name, in every language: the audit trail is not the reader's.
            shipped_with = f"{carriers.trade_name(carrier)} {number}"
            message = history.shipped_message(shipped_with)
            set_status(order, OrderStatus.SHIPPED, by=by, note=shipped_with, message=message)
    except IntegrityError:
        # Another order took the number between the look and the insert (unique carrier + number).
        raise errors.TrackingNumberInUse(field="tracking_number") from None


def order_ship(*, order_id: UUID, carrier: str, tracking_number: str, by: Actor) -> Order:
    """Staff hand a PAID order to a carrier: the whole order ships (split shipments are left out),
    recorded as its Shipment with the carrier (code or Korean name) and tracking number, and the
    order becomes SHIPPED, with an audit event.

    Refused, changing nothing: an unknown carrier (400 unknown_carrier), a number not of the
    carrier's format (400 invalid_tracking_number), a number another order ships with (409
    tracking_number_in_use), an order that is not PAID (409 order_not_shippable: PENDING is not
    paid, CANCELLED never ships, SHIPPED and DELIVERED shipped already). Taken under the order's
    row lock, like a cancellation: of a ship and a cancel racing, exactly one happens.
    """
    _ship(order_id=order_id, carrier=carrier, tracking_number=tracking_number, by=by)
    return selectors.order_get_with_events(order_id=order_id)


def order_mark_delivered(*, order_id: UUID, by: Actor) -> Order:
    """Staff: a SHIPPED order arrived: DELIVERED, its shipment's delivered_at now (the returns
    window counts from it). Any other order is 409 invalid_status_transition."""
    with transaction.atomic():
        order = _order_locked(order_id)
        if order.status != OrderStatus.SHIPPED:
            message = gettext("An order that is %(status)s cannot become DELIVERED.") % {"status": order.status}
            raise errors.InvalidStatusTransition(message, field="status")
        Shipment.objects.filter(order=order).update(delivered_at=timezone.now())
        set_status(order, OrderStatus.DELIVERED, by=by)
    return selectors.order_get_with_events(order_id=order_id)


@dataclass(frozen=True)
class BulkShipResult:
    """What became of one row of a bulk shipment: shipped (code empty), or refused with the code and
    message of the error that refused it."""

    line: int  # the row's line in the file, 1 the first
    order_number: str
    carrier: str
    tracking_number: str
    order_id: UUID | None = None
    code: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.code


def order_ship_bulk(*, rows: list[list[str]], by: Actor) -> list[BulkShipResult]:
    """Ship many orders from rows of `order_number,carrier,tracking_number` (a CSV staff paste or
    upload; the carrier by code or Korean name), each row through order_ship in a transaction of its
    own: a refused row never stops the others. A header row and blank rows are skipped; a row with
    another number of cells is refused as `malformed_row`. One result per row, in the file's order;
    more than BULK_SHIP_MAX_ROWS rows is BulkShipTooLarge (400) and nothing ships."""
    numbered = [(line, [cell.strip() for cell in row]) for line, row in enumerate(rows, start=1)]
    numbered = [(line, cells) for line, cells in numbered if any(cells)]
    if numbered and numbered[0][1][0].lstrip("\ufeff").casefold() in BULK_SHIP_HEADERS:
        numbered = numbered[1:]
    if len(numbered) > BULK_SHIP_MAX_ROWS:
        message = gettext("%(rows)d rows: ship at most %(max_rows)d orders at a time.")
        raise errors.BulkShipTooLarge(message % {"rows": len(numbered), "max_rows": BULK_SHIP_MAX_ROWS}, field="rows")
    results = []
    for line, cells in numbered:
        order_number, carrier, number = (*cells, "", "", "")[:3]
        given = {"line": line, "order_number": order_number, "carrier": carrier, "tracking_number": number}
        if len(cells) != 3:
            message = gettext("A row is order_number,carrier,tracking_number: this one has %(cells)d cells.") % {
                "cells": len(cells)
            }
            results.append(BulkShipResult(**given, code="malformed_row", message=message))
            continue
        order_id = selectors.order_id_for_number(order_number=order_number)
        try:
            if order_id is None:
                message = gettext("No order is numbered %(number)s.") % {"number": repr(order_number)}
                raise errors.OrderNotFound(message, field="order_number")
            _ship(order_id=order_id, carrier=carrier, tracking_number=number, by=by)
        except DomainError as refused:
            message = str(refused.message)
            results.append(BulkShipResult(**given, order_id=order_id, code=refused.code, message=message))
        else:
            results.append(BulkShipResult(**given, order_id=order_id))
    return results


def _remaining_items(items) -> Decimal:
    return sum((item.price * (item.quantity - item.cancelled_quantity) for item in items), Decimal(0))


def order_cancel_lines(
    *, order_id: UUID, lines: dict[UUID, int], by: Actor, customer_id: UUID | None = None, note: str = ""
) -> Order:
    """A customer (given customer_id, only their own order is found) or staff cancel some units of
    some lines of a PAID order before it ships (부분취소): `lines` maps order item ids to units.

    Under the order's row lock each line must be the order's (400 order_line_not_found) with the
    units left (409 cancel_quantity_exceeded), both naming the line as `lines.<index>` in the given
    order; else nothing changes. The units are cancelled (the lines' cancelled_quantity), their stock
    goes back on the shelf and an audit event (PAID → PAID) says what was cancelled and refunded.
    The refund is reserved in the same transaction (a PENDING refund row: payments' recovery sends it
    if this process dies after the commit); after the commit, outside any transaction, it goes back
    through the PG's partial cancel (payments, operation `partial-cancel:<uuid>`). It is what the
    customer paid for the order before less what they pay after (orders.pricing.charge_for_remaining):
    the units at their prices, less SHIPPING_FEE again when the rest of an order that shipped free
    drops under SHIPPING_FREE_FROM. Nothing left to refund on the payment (RefundExceedsPaid, e.g.
    after goodwill refunds) refuses the cancellation: nothing changes.
    A refund the PG does not answer stays PENDING for the payments recovery; one it refuses is a
    FAILED refund row for staff to settle (a goodwill refund): the lines stay cancelled either way.

    Cancelling every unit left is the full cancellation (order_cancel): the order is CANCELLED and
    the saga's compensation releases the rest of the stock and refunds what was not refunded yet,
    the shipping fee included. Only a PAID order's lines are cancelled (409
    order_lines_not_cancellable): a PENDING one was not paid, so there is nothing to refund part
    of (it is cancelled whole); a shipped one is returned instead.
    """
    if not lines:
        raise ValueError("Name the lines to cancel: at least one.")
    orders = Order.objects.filter(customer_id=customer_id) if customer_id is not None else Order.objects.all()
    if not orders.filter(pk=order_id).exists():
        raise errors.OrderNotFound()
    reason = CancelReason.CUSTOMER_CANCELLED if customer_id is not None else CancelReason.STAFF_CANCELLED
    operation = f"partial-cancel:{uuid4()}"
    with transaction.atomic():
        order = _order_locked(order_id)
        if order.status != OrderStatus.PAID:
            message = gettext("An order that is %(status)s has no lines to cancel: only a PAID one has.")
            raise errors.OrderLinesNotCancellable(message % {"status": order.status}, field="status")
        items = {item.pk: item for item in OrderItem.objects.filter(order=order)}
        for index, (item_id, units) in enumerate(lines.items()):
            item = items.get(item_id)
            if item is None:
                message = gettext("%(line)s is not a line of this order.") % {"line": item_id}
                raise errors.OrderLineNotFound(message, field=f"lines.{index}")
            left = item.quantity - item.cancelled_quantity - item.returned_quantity
            if not 0 < units <= left:
                message = gettext("Line %(line)s has %(left)d unit(s) left to cancel, not %(units)d.")
                message %= {"line": item_id, "left": left, "units": units}
                raise errors.CancelQuantityExceeded(message, field=f"lines.{index}")
        units_left = sum(item.quantity - item.cancelled_quantity for item in items.values()) - sum(lines.values())
        if units_left > 0:
            before = _remaining_items(items.values())
            for item_id, units in lines.items():
                items[item_id].cancelled_quantity += units
                items[item_id].save(update_fields=["cancelled_quantity"])
            product_services.stock_release(quantities={items[pk].product_id: units for pk, units in lines.items()})
            after = _remaining_items(items.values())
            amounts = {"items_amount": order.items_amount, "shipping_fee": order.shipping_fee}
            refund = charge_for_remaining(**amounts, remaining_items=before) - charge_for_remaining(
                **amounts, remaining_items=after
            )
            summary = history.lines_cancelled_message(units=sum(lines.values()), lines=len(lines), refund=refund)
            OrderEvent.objects.create(
                order=order,
                from_status=order.status,
                to_status=order.status,
                actor=str(by),
                reason=reason,
                note=f"{summary} ({operation}){': ' + note if note else ''}"[:200],
                message=summary,
            )
            order.save(update_fields=["updated_at"])
            if refund > 0:
                # Reserved with the cancellation, sent after it commits: a crash in between leaves a
                # due refund for the payments recovery, never cancelled lines without their refund.
                payment_services.payment_refund_reserve(
                    order_id=order_id,
                    amount=refund,
                    reason=RefundReason.PARTIAL_CANCEL,
                    by=by,
                    operation=operation,
                    note=note[:200],
                )
    if units_left == 0:
        # Nothing would be left to ship: the whole order is cancelled (the saga compensates it).
        return _cancel(order_id=order_id, by=by, reason=reason, note=note, customer_id=customer_id)
    if refund > 0:
        _refund_cancelled_lines(order_id=order_id, amount=refund, by=by, operation=operation, note=note)
    return selectors.order_get_with_events(order_id=order_id)


def _refund_cancelled_lines(*, order_id: UUID, amount: Decimal, by: Actor, operation: str, note: str) -> None:
    """Send the partial cancel's reserved refund, after its commit. Unanswered, the row stays PENDING
    for recovery. The lines stay cancelled whatever the PG says: a refusal is the FAILED row staff
    see and settle; an order cancelled meanwhile had its full refund take what was left, these
    lines' too (nothing paid is left, or not this much)."""
    with contextlib.suppress(
        payment_errors.RefundDeclined, payment_errors.RefundExceedsPaid, payment_errors.PaymentNotRefundable
    ):
        payment_services.payment_refund_amount(
            order_id=order_id,
            amount=amount,
            reason=RefundReason.PARTIAL_CANCEL,
            by=by,
            operation=operation,
            note=note[:200],
        )


# --- refunds ---


def order_refunded_amount_sync(*, order_id: UUID) -> None:
    """payments' `refunded` hook: the order's refunded_amount becomes what its succeeded refunds
    gave back (recomputed, not added to: a repeat of the hook changes nothing)."""
    refunded = payment_selectors.refunded_total_for_order(order_id=order_id)
    Order.objects.filter(pk=order_id).update(refunded_amount=refunded, updated_at=timezone.now())
    return_refunds_settle(order_id=order_id)  # a return waiting for this refund is REFUNDED now
