"""Reads of the orders module."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from c4ang.korea import phone_normalize
from c4ang.selectors import get_or_raise
from orders.constants import PAID_STATUSES, OrderStatus, ReturnStatus
from orders.errors import OrderNotFound, ReturnNotFound
from orders.models import CartItem, Order, OrderEvent, OrderItem, Return, ReturnItem, Shipment
from orders.pricing import MAX_ORDER_TOTAL, shipping_fee_for
from products import selectors as product_selectors


def _with_items(orders: QuerySet[Order]) -> QuerySet[Order]:
    # The shipment (none before the order ships) comes in the same query as the order.
    items = Prefetch("items", queryset=OrderItem.objects.order_by("created_at", "id"))
    return orders.select_related("shipment").prefetch_related(items)


def _shop_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _placed_between(orders: QuerySet[Order], placed_from: date | None, placed_to: date | None) -> QuerySet[Order]:
    """The orders placed from the start of `placed_from` to the end of `placed_to`, days in shop time (KST)."""
    if placed_from:
        orders = orders.filter(created_at__gte=_shop_day_start(placed_from))
    if placed_to:
        orders = orders.filter(created_at__lt=_shop_day_start(placed_to + timedelta(days=1)))
    return orders


def order_list_for_customer(
    *,
    customer_id: UUID,
    status: str | None = None,
    placed_from: date | None = None,
    placed_to: date | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[Order]:
    """A customer's own orders, optionally of one status, placed in a period (days in shop time,
    both inclusive) and changed at or after `updated_since` (a poll for what changed: the
    services move updated_at with everything the order response shows)."""
    orders = Order.objects.filter(customer_id=customer_id)
    if status:
        orders = orders.filter(status=status)
    if updated_since:
        orders = orders.filter(updated_at__gte=updated_since)
    return _with_items(_placed_between(orders, placed_from, placed_to))


def order_none() -> QuerySet[Order]:
    return Order.objects.none()


def order_get_for_customer(*, customer_id: UUID, order_id: UUID) -> Order:
    """A customer's own order; another customer's id is a 404, like an unknown one."""
    return get_or_raise(order_list_for_customer(customer_id=customer_id), OrderNotFound, pk=order_id)


def order_get_for_customer_with_history(*, customer_id: UUID, order_id: UUID) -> Order:
    """A customer's own order with its status history (`events`, oldest first): one query more."""
    orders = order_list_for_customer(customer_id=customer_id).prefetch_related("events")
    return get_or_raise(orders, OrderNotFound, pk=order_id)


def _matching(orders: QuerySet[Order], q: str) -> QuerySet[Order]:
    """Orders whose number, recipient or recipient's phone is `q`: an order number or its start
    (20261201- is that day's), a recipient's name or its start, a phone number in any way Koreans
    write it, or its last four digits."""
    q = q.strip()
    found = Q(order_number__startswith=q) | Q(shipping_recipient__startswith=q)
    if phone := phone_normalize(q):
        found |= Q(shipping_phone=phone)
    elif len(q) == 4 and q.isdigit():
        found |= Q(shipping_phone__endswith=f"-{q}")
    return orders.filter(found)


def order_list_all(
    *,
    status: str | None = None,
    customer_id: UUID | None = None,
    q: str | None = None,
    placed_from: date | None = None,
    placed_to: date | None = None,
) -> QuerySet[Order]:
    """Staff: every order, optionally of one status or one customer, found by `q` (see _matching),
    placed in a period (days in shop time, both inclusive)."""
    orders = _placed_between(Order.objects.all(), placed_from, placed_to)
    if status:
        orders = orders.filter(status=status)
    if customer_id:
        orders = orders.filter(customer_id=customer_id)
    if q and q.strip():
        orders = _matching(orders, q)
    return _with_items(orders)


def cart_checkout_lines(*, customer_id: UUID) -> list[tuple[UUID, int]]:
    """(product id, quantity) of each line of the customer's cart, oldest first: what a checkout
    from the cart orders (none without a cart)."""
    return list(CartItem.objects.filter(cart__customer_id=customer_id).values_list("product_id", "quantity"))


def order_id_for_number(*, order_number: str) -> UUID | None:
    """The id of the order with this order number (20261201-000123), or None."""
    return Order.objects.filter(order_number=order_number.strip()).values_list("pk", flat=True).first()


def order_get_with_events(*, order_id: UUID) -> Order:
    """Staff: one order with its items and its status audit trail."""
    return get_or_raise(_with_items(Order.objects.prefetch_related("events")), OrderNotFound, pk=order_id)


def customer_has_bought(*, customer_id: UUID, product_id: UUID) -> bool:
    """Whether the customer has a paid (or later shipped, delivered) order with this product."""
    return OrderItem.objects.filter(
        order__customer_id=customer_id,
        product_id=product_id,
        order__status__in=PAID_STATUSES,
        cancelled_quantity__lt=F("quantity"),  # a line cancelled whole before shipping was not bought
    ).exists()


def order_daily_totals(*, since: datetime) -> dict[date, dict]:
    """Per day (shop time) since `since`: orders placed, orders paid and their revenue."""
    rows = (
        Order.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .values("day")
        .annotate(
            placed=Count("id"),
            paid=Count("id", filter=Q(status__in=PAID_STATUSES)),
            revenue=Sum("total_amount", filter=Q(status__in=PAID_STATUSES)),
        )
        .order_by("day")
    )
    return {row["day"]: {**row, "revenue": row["revenue"] or Decimal(0)} for row in rows}


def order_totals_by_method(*, since: datetime) -> dict[str, dict]:
    """Per payment method, orders placed since `since`: placed, paid, awaiting payment, paid revenue."""
    rows = (
        Order.objects.filter(created_at__gte=since)
        .values("payment_method")
        .annotate(
            placed=Count("id"),
            paid=Count("id", filter=Q(status__in=PAID_STATUSES)),
            waiting=Count("id", filter=Q(status=OrderStatus.PENDING)),
            revenue=Sum("total_amount", filter=Q(status__in=PAID_STATUSES)),
        )
        .order_by()
    )
    return {row["payment_method"]: {**row, "revenue": row["revenue"] or Decimal(0)} for row in rows}


def _purchases(*, since: datetime, until: datetime) -> QuerySet[OrderItem]:
    # A purchase is an item of an order that reached PAID (and was not cancelled since), by when it was ordered.
    # A line cancelled whole before shipping (partial cancellation) is no purchase.
    paid = OrderItem.objects.filter(order__status__in=PAID_STATUSES, cancelled_quantity__lt=F("quantity"))
    return paid.filter(created_at__gte=since, created_at__lt=until)


def purchase_count(*, since: datetime, until: datetime) -> int:
    """Purchases ordered in [since, until)."""
    return _purchases(since=since, until=until).count()


def purchase_counts_by_product(*, since: datetime, until: datetime) -> dict[UUID, int]:
    """Purchases ordered in [since, until) per product; products without any are absent."""
    rows = _purchases(since=since, until=until).values("product_id").annotate(purchases=Count("id")).order_by()
    return {row["product_id"]: row["purchases"] for row in rows}


def purchased_product_ids(*, customer_id: UUID, limit: int) -> list[UUID]:
    """The products a customer has bought, the most recently bought first."""
    rows = (
        OrderItem.objects.filter(
            order__customer_id=customer_id, order__status__in=PAID_STATUSES, cancelled_quantity__lt=F("quantity")
        )
        .values("product_id")
        .annotate(last_bought=Max("created_at"))
        .order_by("-last_bought", "product_id")[:limit]
    )
    return [row["product_id"] for row in rows]


# --- cart ---


@dataclass(frozen=True)
class CartLine:
    """A line of a cart as the customer sees it: at the current catalog price, with what changed."""

    product_id: UUID
    name: str
    price: Decimal  # the catalog's, now
    price_when_added: Decimal
    quantity: int
    available: bool  # the product is still for sale
    stock_short: bool  # fewer units in stock than the line holds
    added_at: datetime

    @property
    def price_changed(self) -> bool:
        return self.price != self.price_when_added

    @property
    def line_total(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True)
class CartView:
    lines: tuple[CartLine, ...]
    items_amount: Decimal  # of the lines still for sale
    shipping_fee: Decimal
    total_amount: Decimal
    # Checkout would take it as it is: some lines, all for sale and in stock, within an order's total.
    checkout_ready: bool


def cart_view(*, customer_id: UUID) -> CartView:
    """The customer's cart at current catalog prices, oldest line first (no cart reads as an empty
    one): the amounts count the lines still for sale, with the shipping fee of that items amount.
    Two queries, whatever the lines: the lines and, when there are any, their products."""
    items = list(CartItem.objects.filter(cart__customer_id=customer_id))
    products = product_selectors.product_map(product_ids=[item.product_id for item in items]) if items else {}
    lines = tuple(
        CartLine(
            product_id=item.product_id,
            name=product.name,
            price=product.price,
            price_when_added=item.price_when_added,
            quantity=item.quantity,
            available=product.is_active,
            stock_short=product.stock < item.quantity,
            added_at=item.created_at,
        )
        for item in items
        # A product deleted since the lines were read took its line with it.
        if (product := products.get(item.product_id)) is not None
    )
    items_amount = sum((line.line_total for line in lines if line.available), Decimal(0))
    shipping_fee = shipping_fee_for(items_amount)
    total_amount = items_amount + shipping_fee
    checkout_ready = (
        bool(lines)
        and all(line.available and not line.stock_short for line in lines)
        and total_amount <= MAX_ORDER_TOTAL
    )
    return CartView(
        lines=lines,
        items_amount=items_amount,
        shipping_fee=shipping_fee,
        total_amount=total_amount,
        checkout_ready=checkout_ready,
    )


# --- returns ---

# Returns whose units are not yet back (REQUESTED, APPROVED): they hold those units against another
# return of the line. From RECEIVED on, the units count in the line's returned_quantity.
RETURN_HOLDING_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
# Returns waiting for staff: to approve or reject, to receive, to refund.
RETURN_OPEN_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)


def _with_return_items(returns: QuerySet[Return]) -> QuerySet[Return]:
    items = ReturnItem.objects.select_related("order_item").order_by("id")
    return returns.select_related("order").prefetch_related(Prefetch("items", queryset=items))


def return_list_for_customer(*, customer_id: UUID, status: str | None = None) -> QuerySet[Return]:
    """A customer's own returns, optionally of one status, with their lines (two queries a page)."""
    returns = Return.objects.filter(customer_id=customer_id)
    if status:
        returns = returns.filter(status=status)
    return _with_return_items(returns)


def return_none() -> QuerySet[Return]:
    return Return.objects.none()


def return_get_for_customer(*, customer_id: UUID, return_id: UUID) -> Return:
    """A customer's own return; another customer's id is a 404, like an unknown one."""
    return get_or_raise(return_list_for_customer(customer_id=customer_id), ReturnNotFound, pk=return_id)


def return_list_all(
    *, status: str | None = None, order_id: UUID | None = None, customer_id: UUID | None = None
) -> QuerySet[Return]:
    """Staff: every return, optionally of one status, one order or one customer, with their lines."""
    returns = Return.objects.all()
    if status:
        returns = returns.filter(status=status)
    if order_id:
        returns = returns.filter(order_id=order_id)
    if customer_id:
        returns = returns.filter(customer_id=customer_id)
    return _with_return_items(returns)


def return_get(*, return_id: UUID) -> Return:
    """Staff: one return with its lines and its status audit trail."""
    return get_or_raise(_with_return_items(Return.objects.prefetch_related("events")), ReturnNotFound, pk=return_id)


def order_items_returnable(*, order_id: UUID) -> dict[UUID, OrderItem]:
    """The order's lines, each annotated with `returnable`: units delivered (ordered, less those
    cancelled) and neither returned nor held by a return under way. One statement, so that what it
    counts is one consistent snapshot (the caller holds the order's row lock against other requests)."""
    held = (
        ReturnItem.objects.filter(order_item=OuterRef("pk"), return_request__status__in=RETURN_HOLDING_STATUSES)
        .values("order_item")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    items = OrderItem.objects.filter(order_id=order_id).annotate(
        held_by_returns=Coalesce(Subquery(held), 0),
        returnable=F("quantity") - F("cancelled_quantity") - F("returned_quantity") - F("held_by_returns"),
    )
    return {item.pk: item for item in items}


def order_delivered_at(*, order_id: UUID) -> datetime | None:
    """When the order was delivered: its shipment's delivered_at or, for an order delivered before
    shipments were recorded, its DELIVERED audit event's time; None when it was not delivered."""
    delivered_at = Shipment.objects.filter(order_id=order_id).values_list("delivered_at", flat=True).first()
    if delivered_at is not None:
        return delivered_at
    events = OrderEvent.objects.filter(order_id=order_id, to_status=OrderStatus.DELIVERED).order_by("-created_at")
    return events.values_list("created_at", flat=True).first()


def return_open_counts() -> dict[str, int]:
    """How many returns wait for staff, by status (REQUESTED, APPROVED, RECEIVED; 0 when none)."""
    rows = Return.objects.filter(status__in=RETURN_OPEN_STATUSES).values("status").annotate(count=Count("id"))
    counts = {row["status"]: row["count"] for row in rows.order_by()}
    return {status: counts.get(status, 0) for status in RETURN_OPEN_STATUSES}


# --- account deletion (customers.hooks) ---

# An order in one of these is under way: unpaid, or paid and not yet delivered.
OPEN_ORDER_STATUSES = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.SHIPPED)


def customer_has_open_orders(*, customer_id: UUID) -> bool:
    """Whether the customer has an order under way (OPEN_ORDER_STATUSES) or a return in progress:
    while one is, the customer cannot delete their account."""
    return (
        Order.objects.filter(customer_id=customer_id, status__in=OPEN_ORDER_STATUSES).exists()
        or Return.objects.filter(customer_id=customer_id, status__in=RETURN_OPEN_STATUSES).exists()
    )
