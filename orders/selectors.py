"""Reads of the orders module."""

from datetime import datetime
from uuid import UUID

from django.db.models import Count, Max, Prefetch, QuerySet

from orders.models import Order, OrderItem, OrderStatus


def order_list_for_customer(*, customer_id) -> QuerySet[Order]:
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("created_at"))
    )


def order_none() -> QuerySet[Order]:
    return Order.objects.none()


PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


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
