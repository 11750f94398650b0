"""Reads of the orders module."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from orders.models import Order, OrderItem, OrderStatus


def order_list_for_customer(*, customer_id) -> QuerySet[Order]:
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("created_at"))
    )


def order_none() -> QuerySet[Order]:
    return Order.objects.none()


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
