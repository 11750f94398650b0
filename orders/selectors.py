"""Reads of the orders module."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from c4ang.selectors import get_or_raise
from orders.constants import PAID_STATUSES
from orders.errors import OrderNotFound
from orders.models import Order, OrderItem


def _with_items(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("created_at", "id")))


def order_list_for_customer(*, customer_id) -> QuerySet[Order]:
    return _with_items(Order.objects.filter(customer_id=customer_id))


def order_none() -> QuerySet[Order]:
    return Order.objects.none()


def order_get_for_customer(*, customer_id: UUID, order_id: UUID) -> Order:
    """A customer's own order; another customer's id is a 404, like an unknown one."""
    return get_or_raise(order_list_for_customer(customer_id=customer_id), OrderNotFound, pk=order_id)


def order_list_all(*, status: str | None = None, customer_id: UUID | None = None) -> QuerySet[Order]:
    """Staff: every order, optionally of one status or one customer."""
    orders = Order.objects.all()
    if status:
        orders = orders.filter(status=status)
    if customer_id:
        orders = orders.filter(customer_id=customer_id)
    return _with_items(orders)


def order_get_with_events(*, order_id: UUID) -> Order:
    """Staff: one order with its items and its status audit trail."""
    return get_or_raise(_with_items(Order.objects.prefetch_related("events")), OrderNotFound, pk=order_id)


def customer_has_bought(*, customer_id: UUID, product_id: UUID) -> bool:
    """Whether the customer has a paid (or later shipped, delivered) order with this product."""
    return OrderItem.objects.filter(
        order__customer_id=customer_id,
        product_id=product_id,
        order__status__in=PAID_STATUSES,
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


def _purchases(*, since: datetime, until: datetime) -> QuerySet[OrderItem]:
    # A purchase is an item of an order that reached PAID (and was not cancelled since), by when it was ordered.
    return OrderItem.objects.filter(order__status__in=PAID_STATUSES, created_at__gte=since, created_at__lt=until)


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
        OrderItem.objects.filter(order__customer_id=customer_id, order__status__in=PAID_STATUSES)
        .values("product_id")
        .annotate(last_bought=Max("created_at"))
        .order_by("-last_bought", "product_id")[:limit]
    )
    return [row["product_id"] for row in rows]
