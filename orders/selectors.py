"""Reads of the orders module."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from orders.errors import OrderNotFound
from orders.models import Order, OrderItem, OrderStatus


def _with_items(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("created_at", "id")))


def order_list_for_customer(*, customer_id) -> QuerySet[Order]:
    return _with_items(Order.objects.filter(customer_id=customer_id))


def order_none() -> QuerySet[Order]:
    return Order.objects.none()


def order_get_for_customer(*, customer_id: UUID, order_id: UUID) -> Order:
    """A customer's own order; another customer's id is a 404, like an unknown one."""
    try:
        return order_list_for_customer(customer_id=customer_id).get(pk=order_id)
    except Order.DoesNotExist:
        raise OrderNotFound() from None


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
    try:
        return _with_items(Order.objects.prefetch_related("events")).get(pk=order_id)
    except Order.DoesNotExist:
        raise OrderNotFound() from None


def customer_has_bought(*, customer_id: UUID, product_id: UUID) -> bool:
    """Whether the customer has a paid (or later shipped, delivered) order with this product."""
    return OrderItem.objects.filter(
        order__customer_id=customer_id,
        product_id=product_id,
        order__status__in=[OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
    ).exists()


PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


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
